"""The actions log: appended whole lines from concurrent writers, a reason required, a default path."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from gogooku3.errors import ConfigError
from gogooku3.registry import actions


def _write(path: str, worker: int) -> None:
    for i in range(50):
        actions.append(Path(path), actions.record("register", name="m", version=str(i), who=f"w{worker}",
                                                  reason="x" * 2000))  # fmt: skip


def test_concurrent_writers_never_interleave(tmp_path):
    log = tmp_path / "registry" / "actions.jsonl"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_write, args=(str(log), w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(30)
    entries = actions.read(log)
    assert len(entries) == 200 and {e["who"] for e in entries} == {"w0", "w1", "w2", "w3"}


def test_reason_is_required_and_kept_on_one_line():
    with pytest.raises(ConfigError, match="--reason: required"):
        actions.check_reason(None)
    assert actions.check_reason(" a\nb ") == "a b"
    assert "hunter2" not in actions.check_reason("moved from postgresql://u:hunter2@db/x")


def test_default_log_sits_next_to_the_store(tmp_path):
    assert actions.default_actions_log(f"sqlite:///{tmp_path}/mlflow.db") == tmp_path / "registry" / "actions.jsonl"
    assert actions.default_actions_log("http://127.0.0.1:5000").parts[-3:] == ("outputs", "registry", "actions.jsonl")
