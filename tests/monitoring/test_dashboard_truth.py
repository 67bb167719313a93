"""Dashboard truth test: every dashboard panel and every alert rule queries series that exist.

A real cycle (ingest from a loopback J-Quants, train, register, promote, predict, evaluate,
one failed predict) runs on a small synthetic market with GOGOOKU3_PUSHGATEWAY set; the API
serves its stores; a real Prometheus scrapes the API and a real Pushgateway every second.
Then each panel ``expr`` is run through Prometheus' query API and must return a sample.

Alert rules are silent while not firing, so a rule's whole ``expr`` proves nothing; instead
every vector selector in it (``name{matchers}``, e.g. ``up{job="api"}``) must return data.
The scrape jobs are the repo's ops/prometheus/prometheus.yml jobs (their names and
honor_labels kept, the targets pointed at this test's servers), so ``job=`` matchers in the
rules are checked against the names the real config uses.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from gogooku3.monitoring import dashboards as D
from gogooku3.monitoring.jobs import PUSHGATEWAY_ENV, job_metrics
from tests.helpers import ROOT
from tests.monitoring.servers import Server, binary, pushgateway

pytestmark = pytest.mark.slow
API_PORT, PUSH_PORT, PROM_PORT, JQ_PORT = 18560, 18561, 18562, 18563
CUT = date(2022, 6, 30)
MODEL = "gogooku3"
SPLIT = ["split.n_folds=2", "split.test_days=40", "split.valid_days=30", "split.embargo_days=5", "split.min_train_days=150"]
LGBM = ["model=lightgbm", "model.num_boost_round=40", "model.early_stopping_rounds=10", "model.params.num_threads=1"]
PROM_RULES = ROOT / "ops" / "prometheus" / "rules"
PROM_CONFIG = ROOT / "ops" / "prometheus" / "prometheus.yml"
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
            "inf", "nan", "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
            "topk", "quantile"}  # aggregations, written "sum by (x) (...)" as well  # fmt: skip


def selectors(expr: str) -> list[str]:
    """The vector selectors of a PromQL expression (metric name plus matchers), in order."""
    text = re.sub(r"\[[^\]]*\]", "", expr)  # range and subquery windows
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", r"\1", text)  # label lists
    found = []
    for m in re.finditer(r'(?<![\w:."])([a-zA-Z_:][\w:]*)\s*(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?(\s*\()?', text):
        name, matchers, call = m.group(1), m.group(2) or "", m.group(3)
        if call or name.lower() in KEYWORDS:
            continue
        found.append(name + matchers)
    return found


def _scrape_jobs() -> list[dict]:
    """The repo's scrape jobs aimed at this test's API, Pushgateway and Prometheus."""
    jobs = yaml.safe_load(PROM_CONFIG.read_text())["scrape_configs"] if PROM_CONFIG.exists() else [
        {"job_name": "api", "metrics_path": "/metrics"}, {"job_name": "pushgateway", "honor_labels": True}]
    out = []
    for job in jobs:
        name = job["job_name"]
        if job.get("honor_labels") or "push" in name:
            port = PUSH_PORT
        elif "prometheus" in name:
            port = PROM_PORT
        elif "alertmanager" in name:
            continue  # not part of this test; a rule on it is reported as missing data
        else:
            port = API_PORT
        kept = {k: v for k, v in job.items() if k in ("job_name", "metrics_path", "honor_labels", "scheme")}
        out.append({**kept, "scrape_interval": "1s", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]})
    return out


def _query(expr: str) -> list:
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


def _compose(config: str, overrides: list[str]):
    from tests.inference.deployed import compose

    return compose(config, overrides)


def _cycle(tmp: Path) -> tuple[Path, str, date]:
    """ingest -> train -> register/promote -> predict+evaluate -> a failed predict; returns (store, uri, last date)."""
    from gogooku3.config.registry import Floors, RegistrySettings
    from gogooku3.data.jquants.server import JQuantsLoopbackServer
    from gogooku3.data.synthetic import SyntheticMarketSource
    from gogooku3.errors import GogookuError
    from gogooku3.pipeline.experiment import run_experiment
    from gogooku3.pipeline.predict import run_predict
    from gogooku3.registry.versions import Registry
    from tests.data.jquants.jquants_testkit import API_KEY

    # ingest: scripts/ingest.py's main against a loopback J-Quants
    small = SyntheticMarketSource(n_stocks=8, start="2022-01-01", end="2022-02-28", seed=5, extras=True).load()
    server = JQuantsLoopbackServer(small, API_KEY, port=JQ_PORT).start()
    try:
        import importlib.util

        spec = importlib.util.spec_from_file_location("ingest_script", ROOT / "scripts" / "ingest.py")
        ingest = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ingest)
        os.environ["JQUANTS_API_KEY"] = API_KEY
        assert ingest.main(["data=jquants", f"data.base_url={server.url}", "data.start=2022-01-01",
                            "data.end=2022-02-28", "data.plan=null", f"paths.data_dir={tmp / 'raw'}",
                            f"paths.output_dir={tmp / 'out'}", "data.progress=false"]) == 0  # fmt: skip
    finally:
        os.environ.pop("JQUANTS_API_KEY", None)
        server.stop()

    market = SyntheticMarketSource(n_stocks=40, start="2020-01-01", end="2022-09-30", horizons=(1, 5)).load()
    market.quotes.write_parquet(tmp / "full.parquet")
    market.quotes.filter(pl.col("Date") <= CUT).write_parquet(tmp / "cut.parquet")
    market.listed.write_parquet(tmp / "listed.parquet")
    outputs, store = tmp / "out", tmp / "store"

    def data(which: str) -> list[str]:
        return ["data=parquet", f"data.path={tmp / which}.parquet", f"data.listed_path={tmp / 'listed.parquet'}",
                "data.calendar=XTKS", "horizons=[1,5]", "quality.data_docs=false", f"paths.output_dir={outputs}"]

    overrides = [*data("cut"), *SPLIT, *LGBM, "deploy=true", "tracking.log_model=false", "tracking.run_name=truth"]
    with job_metrics("train"):  # as pipeline/cli.py's run_task does
        run = run_experiment(_compose("train", overrides), outputs / "train", overrides)
    uri = _compose("train", [f"paths.output_dir={outputs}"]).tracking.uri
    lenient = RegistrySettings(floors=Floors(rank_ic=-1.0, rank_icir=-10.0, rank_ic_tstat=-100.0), margin=1.0)
    registry = Registry(uri, lenient)
    version = registry.register(run.run_id, MODEL, "truth test model", who="test")
    registry.promote(MODEL, version.version, "truth test", who="test")

    predict = [*data("full"), f"predict.store={store}", f"tracking.uri={uri}"]
    done = run_predict(_compose("predict", [*predict, "date_range=[2022-07-01,2022-08-31]", "evaluate=true"]),
                       tmp / "p1")  # fmt: skip
    with pytest.raises(GogookuError):  # a failed run: its failure time is pushed too
        run_predict(_compose("predict", [*predict, "date=2099-01-05"]), tmp / "p2")
    return store, uri, done.dates[-1]


def _serve(tmp: Path, store: Path, uri: str):
    import uvicorn

    from gogooku3.monitoring.business import BusinessCollector
    from gogooku3.serving.app import create_app
    from gogooku3.serving.keys import KeyStore
    from gogooku3.serving.models import ModelRegistry
    from gogooku3.serving.sessions import latest_session_fn
    from gogooku3.serving.settings import AppSettings
    from gogooku3.storage.predictions import LocalPredictionStore
    from tests.serving.conftest import SECRET

    # Today's calendar: the 2022 market is stale now, so /readyz answers a real 503 (the 5xx
    # series the error-ratio rule reads) and the freshness series are far from 0.
    latest = latest_session_fn("XTKS", "15:30", 180)

    keys = KeyStore(tmp / "keys.json", SECRET)
    _, reader = keys.create("reader", ["predictions:read"])
    _, models = keys.create("models", ["models:read"])
    predictions = LocalPredictionStore(store)
    settings = AppSettings(
        store=predictions, keys=keys, registry=ModelRegistry(uri, MODEL), latest_session=latest,
        audit_log=tmp / "audit.jsonl", security_log=tmp / "security.jsonl", rate_per_second=1000, rate_burst=1000,
        collectors=(BusinessCollector(predictions, uri, MODEL, latest),),
    )  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=API_PORT, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    return server, thread, reader, models


def _traffic(reader: str, models: str, seconds: float) -> None:
    """Requests of every kind the panels look at: reads, a 401, a 403, a 503, health, for ``seconds``."""
    base = f"http://127.0.0.1:{API_PORT}"
    calls = [("/v1/predictions/latest", reader), ("/v1/models", models), ("/healthz", None),
             ("/v1/predictions/latest", None), ("/v1/models", reader), ("/readyz", None)]  # fmt: skip
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for path, key in calls:
            req = urllib.request.Request(base + path, headers={"X-API-Key": key} if key else {})
            try:
                urllib.request.urlopen(req, timeout=5).read()
            except urllib.error.HTTPError:
                pass
        time.sleep(0.2)


def test_every_panel_and_rule_selector_returns_data(tmp_path, monkeypatch):
    gateway = pushgateway(PUSH_PORT, tmp_path)
    servers: list = [gateway]
    try:
        monkeypatch.setenv(PUSHGATEWAY_ENV, f"http://127.0.0.1:{PUSH_PORT}")
        store, uri, last = _cycle(tmp_path)
        assert last == date(2022, 8, 31)
        api, thread, reader, models = _serve(tmp_path, store, uri)
        rules = sorted(str(p) for p in PROM_RULES.glob("*.yml")) if PROM_RULES.is_dir() else []
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "rule_files": rules,
                  "scrape_configs": _scrape_jobs()}  # fmt: skip
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        prom = Server([binary("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
                       f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                      f"http://127.0.0.1:{PROM_PORT}/-/ready", tmp_path / "prometheus.log")  # fmt: skip
        servers.append(prom)
        try:
            _traffic(reader, models, 4.0)  # >= 3 scrapes with traffic between them, so rate() has two points
            exprs = [(f"dashboard {stem} / {title}", e) for stem, b in D.dashboards().items() for title, e in D.panel_exprs(b)]
            for path in rules:
                for group in yaml.safe_load(Path(path).read_text())["groups"]:
                    for rule in group["rules"]:
                        name = rule.get("alert") or rule.get("record")
                        exprs += [(f"rule {Path(path).name} / {name} selector", s) for s in selectors(rule["expr"])]
            assert len(exprs) >= 30  # the dashboards alone have 30
            empty = [(w, e) for w, e in exprs if not _query(e)]
            for _ in range(10):  # a late scrape: query again before failing
                if not empty:
                    break
                _traffic(reader, models, 1.0)
                empty = [(w, e) for w, e in empty if not _query(e)]
            assert not empty, "expressions returning no data:\n" + "\n".join(f"{w}: {e}" for w, e in empty)
        finally:
            api.should_exit = True
            thread.join(10)
    finally:
        for server in reversed(servers):
            server.stop()


def test_selector_extraction_sees_every_series():
    expr = ('(gogooku3_job_last_failure_timestamp_seconds{job=~"a|b"} > on (job) gogooku3_job_last_success_timestamp_seconds)'
            ' or absent(up{job="api"}) and sum by (le, route) (rate(x_bucket{route!="/m"}[5m])) > bool 0.25')
    assert selectors(expr) == ['gogooku3_job_last_failure_timestamp_seconds{job=~"a|b"}',
                               "gogooku3_job_last_success_timestamp_seconds", 'up{job="api"}', 'x_bucket{route!="/m"}']
