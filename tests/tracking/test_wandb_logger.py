"""W&B second logger in offline mode: a real wandb run written to disk, secrets redacted."""

from __future__ import annotations

import time

import pytest

from gogooku3.errors import ConfigError
from gogooku3.tracking.wandb_logger import WandbLogger


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "offline")  # no network, no login
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_offline_run_holds_params_metrics_plot_and_group_without_secrets(offline):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1], [0, 1])
    plt.savefig(offline / "daily_rank_ic.png")
    plt.close("all")

    logger = WandbLogger(project="gogooku3-test", dir=offline / "wb")
    config = {
        "model": {"name": "lightgbm", "params": {"num_leaves": 31}},
        "data": {"api_key": "sk-live-0123456789abcdef"},
        "tracking": {"uri": "postgresql://me:pa55word@db/mlflow"},
    }
    logger.start(config, group="sweep-lightgbm-ab12", name="trial-3")
    logger.log_params({"model.params.learning_rate": 0.05, "jquants.password": "pa55word"})
    for fold in range(2):  # steps restart per fold, as the pipeline logs them
        for step in range(3):
            logger.log_metrics({f"fold{fold}/val/rank_ic_h1": 0.01 * step + fold}, step=step)
    logger.log_metrics({"test/rank_ic_h1": 0.0423})
    logger.log_image(offline / "daily_rank_ic.png")
    logger.set_tags({"git_sha": "0123abc", "data_digest": "654a846bbf79"})
    run_dir = logger.run_dir
    logger.finish()

    assert run_dir is not None and run_dir.name.startswith("offline-run-")
    (record,) = run_dir.glob("run-*.wandb")
    deadline = time.monotonic() + 30  # wandb-core writes the record file asynchronously
    while b"654a846bbf79" not in (data := record.read_bytes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for expected in (b"sweep-lightgbm-ab12", b"trial-3", b"model.params.learning_rate", b"fold1/val/rank_ic_h1",
                     b"test/rank_ic_h1", b"654a846bbf79", b"***REDACTED***"):  # fmt: skip
        assert expected in data, expected
    assert list(run_dir.glob("files/media/images/plots/daily_rank_ic*.png"))
    for path in (offline / "wb").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert b"sk-live-0123456789abcdef" not in content and b"pa55word" not in content, path


def test_logging_before_start_is_an_error():
    with pytest.raises(RuntimeError, match="start"):
        WandbLogger().log_metrics({"a": 1.0})


def test_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match=r"tracking.wandb.mode='ofline'"):
        WandbLogger(mode="ofline")
