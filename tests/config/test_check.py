"""A bad key, value or option stops `train.py` in one line, with exit code 2, before any data is read."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import pytest

from gogooku3.config.check import preflight, validate
from gogooku3.errors import ConfigError
from tests.helpers import ROOT

CASES = [
    (["data.n_stocks=abc"], "data.n_stocks=abc: expected an integer"),
    (["split.n_folds=two"], "split.n_folds=two: expected an integer"),
    (["model=nosuch"], "model=nosuch: no such option; available: atft, lightgbm"),
    (["data=parquet"], "data.path is required"),
    (["model.hiden=64"], "model.hiden: unknown key"),
]


def test_each_bad_config_exits_2_with_one_line_naming_the_key(tmp_path):
    """The five cases of the README's promise, through the real CLI; each well within 3 s."""
    elapsed = []
    for overrides, message in CASES:
        command = [sys.executable, str(ROOT / "train.py"), *overrides, f"paths.output_dir={tmp_path}"]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
        elapsed.append(time.perf_counter() - start)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (overrides, result.stderr[-2000:])
        assert 1 <= len(lines) <= 2 and lines[0].startswith("gogooku3: error: "), result.stderr
        assert message in lines[0], lines[0]
        assert len(lines) == 1 or lines[1].startswith("usage: ")
        assert not (tmp_path / "mlflow.db").exists()  # nothing ran: no store, no data
    # Each is a Python start-up plus one composition; the median keeps a loaded machine from flaking.
    assert statistics.median(elapsed) < 3.0 and max(elapsed) < 10.0, elapsed


CONF = ROOT / "conf"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data.n_stocks=[1"], "no viable alternative"),
        (["seed=x"], "seed='x': expected an integer"),
        (["horizons=[]"], "horizons=[]: expected a non-empty list"),
        (["experiment=nosuch"], "experiment=nosuch: no such option; available: atft_full"),
        (["quality.max_missing_ratio=2"], "quality.max_missing_ratio=2.0 must lie in [0, 1]"),
        (["evaluation.cost_bps=high"], "evaluation.cost_bps=high: expected a number"),
        (["tracking.log_model=maybe"], "tracking.log_model=maybe: expected true or false"),
        (["split.train_days=x"], "split.train_days=x: expected an integer or null"),
        (["model=atft", "model.fan.top=3"], "model.fan.top: unknown key; known keys: enabled, top_k, hidden_size"),
        (["-m", "model=lightgbm,nosuch"], "model=nosuch: no such option"),  # every value of a sweep
        (["data=parquet", "data.listed_path=x"], "data.path is required"),
    ],
)
def test_preflight_names_the_key_value_and_expectation(argv, message):
    error = preflight(CONF, "train", argv)
    assert error is not None and message in error and "\n" not in error


@pytest.mark.parametrize(
    "argv",
    [[], ["model=atft", "trainer=gpu"], ["data=parquet", "data.path=/x.parquet"], ["+tracking.api_token=abc"],
     ["-m", "experiment=atft_full,atft_no_gat"], ["hparams_search=lightgbm_optuna"], ["--help"],
     ["++quality.feature_missing_groups={ret_*: zero}"]],
)  # fmt: skip
def test_preflight_accepts_valid_commands(argv):
    assert preflight(CONF, "train", argv) is None


def test_validate_raises_in_a_trial_so_the_sweeper_records_a_failure():
    """In a multirun each trial's composed config is checked by run_task: an error, not an exit."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["data=parquet"])
    with pytest.raises(ConfigError, match="data.path is required"):
        validate(cfg)


def test_deep_validation_checks_feature_groups_before_data():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=["++features.groups.price.windoz=[5]"])
    validate(cfg)  # the quick check leaves feature parameters to the job
    with pytest.raises(ConfigError, match="features.groups.price: unknown parameter"):
        validate(cfg, deep=True)
