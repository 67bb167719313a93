"""Registry names read by outside tools: aliases and the tags each model version carries."""

DEFAULT_MODEL_NAME = "gogooku3"
CHAMPION, PREVIOUS = "champion", "previous"

# Set on the deployable training run (train.py deploy=true) and copied to each version.
DATA_DIGEST_TAG = "data_digest"
FEATURE_SCHEMA_HASH_TAG = "feature_schema_hash"
ARTIFACT_SHA256_TAG = "artifact_sha256"  # sha256 of the deploy bundle's manifest, which lists every file's sha256
GIT_SHA_TAG = "git_sha"
DEPLOY_ARTIFACT_PATH = "deploy"  # the run's artifact folder holding the bundle
DEPLOY_MODEL_URI_TAG = "deploy_model_uri"  # models:/m-<id> of the run's deploy bundle
FOLDS_DIGEST_TAG = "folds_digest"  # sha256 of the walk-forward fold windows: equal digests = comparable metrics
CANARY_PASSED_TAG = "canary_passed"  # "true"/"false": the same config trained on a null market shows no signal
DEPLOYABLE_TAG = "deployable"  # "true" on a run that logged a deployable model
DEPLOY_MODEL_NAME = "deploy"  # the run's LoggedModel: mlflow.pyfunc.log_model(name="deploy", ...)
MANIFEST_FILE = "manifest.json"  # inside the deploy model: sha256 of every bundle file

# Tags a run must carry to be registered; each is copied to the version (deployable is checked, not copied).
LINEAGE_TAGS = (DATA_DIGEST_TAG, FEATURE_SCHEMA_HASH_TAG, ARTIFACT_SHA256_TAG, GIT_SHA_TAG, FOLDS_DIGEST_TAG,
                CANARY_PASSED_TAG)  # fmt: skip
REQUIRED_RUN_TAGS = (DEPLOYABLE_TAG, *LINEAGE_TAGS)

# Run metrics read by gate 4 (h = horizon in sessions).
TEST_RANK_IC = "test/rank_ic_h{h}"
TEST_RANK_ICIR = "test/rank_icir_h{h}"
TEST_RANK_IC_TSTAT = "test/rank_ic_tstat_h{h}"
TEST_ORACLE_CAPTURE = "test/oracle_capture_h{h}"  # synthetic data only: the share of the planted signal captured
CANARY_MAX_ABS_TSTAT = "canary/max_abs_rank_ic_tstat"
# Run metrics under these prefixes are copied to the version as tags "metric.<name>" = repr(float).
COPIED_METRIC_PREFIXES = ("test/", "val/", "canary/")
METRIC_TAG_PREFIX = "metric."

# Version tags written by registry actions (UTC ISO-8601 times, who, why).
SOURCE_RUN_TAG = "source_run_id"
REGISTERED_AT_TAG, REGISTERED_BY_TAG, REGISTRATION_REASON_TAG = "registered_at", "registered_by", "registration_reason"
PROMOTED_AT_TAG, PROMOTED_BY_TAG, PROMOTION_REASON_TAG = "promoted_at", "promoted_by", "promotion_reason"
DEMOTED_AT_TAG, DEMOTED_BY_TAG, DEMOTION_REASON_TAG = "demoted_at", "demoted_by", "demotion_reason"
REFUSED_AT_TAG, REFUSED_BY_TAG, REFUSAL_REASON_TAG = "promotion_refused_at", "promotion_refused_by", "promotion_refused_reason"
GATE4_TAG = "gate4"  # "passed" or the refusal message of the last promotion attempt
ROLLED_BACK_AT_TAG, ROLLED_BACK_BY_TAG, ROLLBACK_REASON_TAG = "rolled_back_at", "rolled_back_by", "rollback_reason"
# Registered-model tag: the last action as one JSON line (the same record as the actions log).
LAST_ACTION_TAG = "last_action"

# Actions, as written to the append-only actions log (JSONL) and LAST_ACTION_TAG.
REGISTER, PROMOTE, PROMOTE_REFUSED, ROLLBACK = "register", "promote", "promote_refused", "rollback"
