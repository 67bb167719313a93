"""Registry names read by outside tools: aliases and the tags each model version carries."""

DEFAULT_MODEL_NAME = "gogooku3"
CHAMPION, PREVIOUS = "champion", "previous"

# Set on the deployable training run (train.py deploy=true) and copied to each version.
DATA_DIGEST_TAG = "data_digest"
FEATURE_SCHEMA_HASH_TAG = "feature_schema_hash"
ARTIFACT_SHA256_TAG = "artifact_sha256"  # sha256 of the deploy bundle's manifest, which lists every file's sha256
GIT_SHA_TAG = "git_sha"
DEPLOY_ARTIFACT_PATH = "deploy"  # the run's artifact folder holding the bundle
DEPLOYABLE_TAG = "deployable"  # "true" on a run that logged a deploy bundle
FOLDS_DIGEST_TAG = "folds_digest"  # sha256 of the walk-forward fold windows
CANARY_PASSED_TAG = "canary_passed"  # "true" | "false": the same config on a null market showed no signal
DEPLOY_MODEL_URI_TAG = "deploy_model_uri"  # models:/m-<id> of the run's deploy bundle
