"""The headline runs-table view: which metrics become columns, and the tag MLflow's UI reads."""

from __future__ import annotations

import json

from gogooku3.tracking.store import ensure_experiment, open_store
from gogooku3.tracking.view import VIEW_TAG_PREFIX, headline_metrics, publish_view, view_url


def test_headline_metrics_by_horizon_then_metric():
    names = ["test/sharpe_h5", "test/rank_ic_h5", "test/rank_ic_h1", "test/sharpe_net_h1", "test/sharpe_h1",
             "test/rank_icir_h1", "test/oracle_rank_ic_h1", "fold0/val/rank_ic_h1", "test/hit_rate_h1", "val/rank_ic_h1",
             "test/rank_ic_h20"]  # fmt: skip
    assert headline_metrics(names) == [
        "val/rank_ic_h1", "test/rank_ic_h1", "test/rank_icir_h1", "test/sharpe_h1", "test/sharpe_net_h1",
        "test/rank_ic_h5", "test/sharpe_h5", "test/rank_ic_h20",
    ]  # fmt: skip
    assert headline_metrics(["fold/val_rank_ic_h1", "test/oracle_sharpe_h1"]) == []


def test_publish_view_writes_the_shared_view_tag(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = open_store(uri)
    experiment = ensure_experiment(client, uri, "gogooku3", tmp_path / "art")
    assert publish_view(client, experiment, ["test/rank_ic_h1", "test/sharpe_h1", "test/ic_h1"]) == [
        "test/rank_ic_h1", "test/sharpe_h1"]  # fmt: skip
    state = json.loads(client.get_experiment(experiment).tags[VIEW_TAG_PREFIX + "headline"])
    assert state["selectedColumns"] == ["metrics.`test/rank_ic_h1`", "metrics.`test/sharpe_h1`"]
    assert state["columnOrder"][-2:] == state["selectedColumns"] and "attributes.`Run Name`" in state["columnOrder"]
    assert set(state["columnWidths"]) == {"attributes.`Run Name`", *state["selectedColumns"]}
    assert view_url("http://127.0.0.1:5000/", experiment).endswith(f"/#/experiments/{experiment}/runs?viewStateShareKey=headline")
