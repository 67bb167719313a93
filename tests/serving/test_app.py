"""The API over a real parquet store and a real MLflow registry: routes, auth, validation, limits."""

from __future__ import annotations

import json

import pytest

from tests.serving.conftest import CODES, DAYS, make_settings

H = "X-API-Key"


def test_predictions_of_a_date_default_to_the_champion_and_filter(served):
    client, _, keys = served
    r = client.get(f"/v1/predictions/{DAYS[-1]}", headers={H: keys.reader})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_version"] == "2" and body["is_champion"] and body["available_versions"] == ["1", "2"]
    assert body["count"] == len(CODES) * 2 == len(body["predictions"])
    assert any(p["prediction"] is None for p in body["predictions"])  # NaN is sent as null
    r = client.get(f"/v1/predictions/{DAYS[-1]}", params={"codes": f"{CODES[0]},{CODES[3]}", "horizon": 5,
                                                           "model_version": "1"}, headers={H: keys.reader})
    rows = r.json()["predictions"]
    assert r.status_code == 200 and {p["code"] for p in rows} == {CODES[0], CODES[3]}
    assert {(p["horizon"], p["model_version"]) for p in rows} == {(5, "1")}
    r = client.get(f"/v1/predictions/{DAYS[0]}", params={"top_k": 3}, headers={H: keys.reader})
    assert sorted(p["rank"] for p in r.json()["predictions"]) == [1, 1, 2, 2, 3, 3]


def test_latest_quality_models_and_missing_dates(served):
    client, _, keys = served
    latest = client.get("/v1/predictions/latest", headers={H: keys.reader}).json()
    assert latest["date"] == DAYS[-1].isoformat()
    assert client.get("/v1/predictions/2026-11-30", headers={H: keys.reader}).status_code == 404
    q = client.get(f"/v1/quality/{DAYS[1]}", headers={H: keys.reader}).json()
    assert q["passed"] is False and {g["gate"] for g in q["gates"]} == {"raw", "features"}
    assert q["gates"][0]["detail"]["failed"][0]["column"] == "ret_1d"  # gate detail parsed from JSON
    m = client.get("/v1/models", headers={H: keys.models}).json()
    assert m["aliases"] == {"champion": "2", "previous": "1"}
    assert [(v["version"], v["aliases"], v["metrics"]["val/rank_ic_h1"]) for v in m["versions"]] == [
        ("2", ["champion"], 0.042), ("1", ["previous"], 0.031)]


def test_no_key_wrong_key_revoked_key_are_401_and_wrong_scope_is_403(served):
    client, settings, keys = served
    path = f"/v1/predictions/{DAYS[-1]}"
    assert client.get(path).status_code == 401
    wrong = keys.reader[:-4] + ("AAAA" if not keys.reader.endswith("AAAA") else "BBBB")
    assert client.get(path, headers={H: wrong}).status_code == 401
    assert client.get(path, headers={H: "not-a-key"}).status_code == 401
    assert client.get(path, headers={H: keys.revoked}).status_code == 401
    assert client.get(path, headers={H: keys.models}).status_code == 403
    assert client.get("/v1/models", headers={H: keys.reader}).status_code == 403
    assert client.get("/v1/models", headers={H: keys.admin}).status_code == 200  # admin holds every scope
    assert client.get("/v1/admin/audit", headers={H: keys.reader}).status_code == 403
    # a revoke through the key file takes effect without a restart
    key_id = keys.reader.split("_")[1]
    settings.keys.revoke(key_id)
    assert client.get(path, headers={H: keys.reader}).status_code == 401
    kinds = [json.loads(line)["kind"] for line in settings.security_log.read_text().splitlines()]
    assert kinds.count("auth_failed") == 5 and kinds.count("scope_denied") == 3
    metrics = client.get("/metrics").text
    assert 'gogooku3_security_events_total{kind="auth_failed"} 5.0' in metrics
    assert 'gogooku3_security_events_total{kind="scope_denied"} 3.0' in metrics


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/v1/predictions/2026-13-01", {}, "date"),
    ("/v1/predictions/20261201", {}, "date"),
    ("/v1/predictions/1700000000", {}, "date"),
    ("/v1/predictions/2026-12-01", {"codes": "1301,ab"}, "codes"),
    ("/v1/predictions/2026-12-01", {"codes": ""}, "codes"),
    ("/v1/predictions/2026-12-01", {"horizon": "0"}, "horizon"),
    ("/v1/predictions/2026-12-01", {"horizon": "x"}, "horizon"),
    ("/v1/predictions/latest", {"top_k": "-1"}, "top_k"),
    ("/v1/predictions/latest", {"model_version": "champion"}, "model_version"),
    ("/v1/predictions/latest", {"sort": "rank"}, "sort"),
    ("/v1/quality/2026-02-30", {}, "date"),
])  # fmt: skip
def test_bad_input_is_422_naming_the_field(served, path, params, field):
    client, _, keys = served
    r = client.get(path, params=params, headers={H: keys.reader})
    assert r.status_code == 422, r.text
    assert field in [e["loc"][-1] for e in r.json()["detail"]], r.text


def test_a_key_past_its_burst_gets_429_with_retry_after(tmp_path, store_root, tracking_uri):
    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app

    settings, keys = make_settings(tmp_path, store_root, tracking_uri, burst=3, rate=0.2)
    with TestClient(create_app(settings)) as client:
        codes = [client.get("/v1/predictions/latest", headers={H: keys.reader}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = client.get("/v1/predictions/latest", headers={H: keys.reader})
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 5
        # another key has its own bucket
        assert client.get("/v1/predictions/latest", headers={H: keys.admin}).status_code == 200
        assert 'gogooku3_security_events_total{kind="rate_limited"} 3.0' in client.get("/metrics").text


def test_readyz_checks_store_champion_and_freshness(tmp_path, store_root, tracking_uri):
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app

    settings, _ = make_settings(tmp_path, store_root, tracking_uri)
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        r = client.get("/readyz")
        assert r.status_code == 200 and r.json()["ready"], r.text
        settings.latest_session = lambda: DAYS[-1] + timedelta(days=3)  # a session completed, nothing stored
        r = client.get("/readyz")
        assert r.status_code == 503 and not r.json()["checks"]["fresh"]["ok"] and r.json()["checks"]["champion"]["ok"]
        assert "gogooku3_champion_loaded 1.0" in client.get("/metrics").text
    settings, _ = make_settings(tmp_path / "b", store_root, tracking_uri)
    settings.registry.name = "no_such_model"
    with TestClient(create_app(settings)) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and not r.json()["checks"]["champion"]["ok"]
        assert "gogooku3_champion_loaded 0.0" in client.get("/metrics").text


def test_metrics_use_route_templates_and_every_request_is_audited(served):
    client, settings, keys = served
    for day in DAYS:
        client.get(f"/v1/predictions/{day}", headers={H: keys.reader})
    client.get("/no/such/path")
    text = client.get("/metrics").text
    line = 'gogooku3_http_requests_total{method="GET",route="/v1/predictions/{date}",status="200"} 4.0'
    assert line in text
    assert 'route="unmatched",status="404"' in text and "2026-12-01" not in text
    audit = [json.loads(x) for x in settings.audit_log.read_text().splitlines()]
    assert len(audit) == 6  # 4 + the 404 + the first /metrics (this scrape is logged after it answers)
    assert audit[0]["route"] == "/v1/predictions/{date}" and audit[0]["params"] == {"date": "2026-12-01"}
    assert audit[0]["key_id"] == keys.reader.split("_")[1] and audit[0]["status"] == 200
