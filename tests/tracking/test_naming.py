"""Run names: what distinguishes a run, secrets never, and a length the runs table shows."""

from __future__ import annotations

from gogooku3.tracking.naming import MAX_LENGTH, run_name


def test_a_run_is_named_by_model_data_and_overrides():
    name = run_name("lightgbm", "synthetic", ["model.params.num_leaves=31", "data.n_stocks=60"])
    assert name == "lightgbm·synthetic·model.params.num_leaves=31,data.n_stocks=60"
    assert run_name("lightgbm", "synthetic", []) == "lightgbm·synthetic"


def test_storage_launch_and_redundant_group_overrides_are_left_out():
    overrides = ["paths.output_dir=/tmp/x", "hydra.run.dir=/tmp/x/run", "tracking.uri=sqlite:///x.db",
                 "+tracking.api_token=sk-secret", "hparams_search=lightgbm_optuna", "model=lightgbm",
                 "data=parquet", "features=full", "~quality.raw", "+seed=7"]  # fmt: skip
    assert run_name("lightgbm", "synthetic", overrides) == "lightgbm·synthetic·data=parquet,features=full,seed=7"


def test_secrets_are_redacted():
    name = run_name("lightgbm", "jquants", ["data.api_key=sk-live-123", "data.url=https://u:pw@host/x"])
    assert "sk-live-123" not in name and "pw@" not in name and "REDACTED" in name


def test_a_trial_shows_its_number_and_sampled_values_first():
    overrides = ["data.n_stocks=60", "model.params.learning_rate=0.012345678901234", "model.params.num_leaves=63"]
    name = run_name("lightgbm", "synthetic", overrides, trial=3,
                    trial_keys={"model.params.learning_rate", "model.params.num_leaves"})  # fmt: skip
    assert name == "lightgbm·synthetic·trial3·model.params.learning_rate=0.01235,model.params.num_leaves=63,data.n_stocks=60"


def test_long_names_drop_key_prefixes_then_are_cut():
    sampled = [f"model.params.{k}=0.123456789" for k in
               ("learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "bagging_fraction", "lambda_l2")]  # fmt: skip
    name = run_name("lightgbm", "synthetic", sampled, trial=12)
    assert name.startswith("lightgbm·synthetic·trial12·learning_rate=0.1235,num_leaves=0.1235,")
    assert len(name) <= MAX_LENGTH and "lambda_l2=0.1235" in name
    clash = run_name("atft", "synthetic", ["model.a.lr=1", "trainer.lr=2", *sampled])
    assert clash.startswith("atft·synthetic·model.a.lr=1,trainer.lr=2,learning_rate=") and len(clash) <= MAX_LENGTH
    many = run_name("atft", "synthetic", [f"model.key_{i}=value_{i}" for i in range(40)])
    assert len(many) == MAX_LENGTH and many.endswith("…")
