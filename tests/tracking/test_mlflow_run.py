"""MlflowRun's child runs against a real SQLite store: nesting, status, and the parent staying active."""

from __future__ import annotations

import pytest

from gogooku3.tracking.mlflow_run import MlflowRun


class TrialPruned(Exception):
    """Named like optuna's: a pruned child ends KILLED."""


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One SQLite store for the module: creating one costs seconds."""
    return tmp_path_factory.mktemp("mlflow")


def _run(root) -> MlflowRun:
    return MlflowRun(f"sqlite:///{root}/mlflow.db", "children", root / "artifacts", run_name="parent-run")


def test_child_runs_nest_under_the_parent_which_stays_active(store):
    import mlflow
    from mlflow import MlflowClient

    with _run(store) as run:
        with run.child(f"{run.name}/fold0", {"fold": 0}) as child:
            child.log_params({"valid_start": "2021-01-04"})
            for step in range(3):
                child.log_metric("val/rank_ic_h1", 0.01 * step, step)
            run.set_tags({"written": "while a child is open"})  # fluent: must reach the parent
            run.log_metric("test/rank_ic_h1", 0.5)
        with pytest.raises(ValueError), run.child("parent-run/fold1", {"fold": 1}) as failing:
            raise ValueError("boom")
        with pytest.raises(TrialPruned), run.child("parent-run/fold2", {"fold": 2}) as pruned:
            raise TrialPruned
        assert mlflow.active_run().info.run_id == run.run_id
    client = MlflowClient(f"sqlite:///{store}/mlflow.db")
    parent, fold0 = client.get_run(run.run_id), client.get_run(child.run_id)
    assert fold0.data.tags["mlflow.parentRunId"] == run.run_id and fold0.data.tags["fold"] == "0"
    assert fold0.info.run_name == "parent-run/fold0" and fold0.info.status == "FINISHED"
    assert fold0.data.params == {"valid_start": "2021-01-04"}
    assert [m.value for m in client.get_metric_history(child.run_id, "val/rank_ic_h1")] == [0.0, 0.01, 0.02]
    assert parent.data.tags["written"] == "while a child is open" and "written" not in fold0.data.tags
    assert parent.data.metrics == {"test/rank_ic_h1": 0.5} and "test/rank_ic_h1" not in fold0.data.metrics
    assert client.get_run(failing.run_id).info.status == "FAILED"
    assert client.get_run(failing.run_id).data.tags["error"] == "ValueError: boom"
    assert client.get_run(pruned.run_id).info.status == "KILLED"


def test_description_is_the_mlflow_note(store):
    from mlflow import MlflowClient

    with _run(store) as run:
        run.set_description("| horizon | RankIC |\n|---:|---:|\n| 1d | 0.0100 |\n")
        run.log_params({"cost_model.bps_per_side": "10"})
    got = MlflowClient(f"sqlite:///{store}/mlflow.db").get_run(run.run_id).data
    assert got.tags["mlflow.note.content"].startswith("| horizon | RankIC |")
    assert got.params["cost_model.bps_per_side"] == "10"
