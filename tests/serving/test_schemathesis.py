"""schemathesis over the app's live OpenAPI spec: no server error and no schema violation.

The app runs over the conftest's real store (four days of predictions, two model versions,
NaN members), MLflow registry and key file. Every operation is fuzzed with valid inputs,
with valid inputs on the stored days (so 200 bodies with real rows are checked, not only
404s) and with invalid inputs; every response goes through all of schemathesis' checks
(not_a_server_error, status_code/content_type/response_schema/response_headers
conformance, negative_data_rejection, ignored_auth, ...), sent with a key holding every scope.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode

from gogooku3.serving.keys import SCOPES
from tests.serving.conftest import DAYS, make_settings

EXAMPLES = 30  # per operation and mode: ~400 calls, ~8 s here


@pytest.fixture
def api(tmp_path, store_root, tracking_uri):
    """(schema, keys, key with every scope) over the live app; the TestClient holds its lifespan."""
    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app

    settings_, keys = make_settings(tmp_path, store_root, tracking_uri)
    _, everything = keys.store.create("all-scopes", list(SCOPES))
    with TestClient(create_app(settings_)) as client:
        yield schemathesis.openapi.from_asgi("/openapi.json", client.app), keys, everything


def _operations(schema) -> dict[str, object]:
    return {op.path: op for op in (result.ok() for result in schema.get_all_operations())}


def _has_inputs(op) -> bool:
    """Negative generation needs something to break: a parameter or the key header."""
    definition = op.definition.raw
    return bool(definition.get("parameters") or definition.get("security"))


def _fuzz(op, strategy, key: str, seen: Counter) -> None:
    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
    def conforms(case):
        response = case.call_and_validate(headers={"X-API-Key": key})
        seen[response.status_code] += 1

    conforms()


def test_every_operation_conforms_to_the_spec(api):
    schema, _, key = api
    operations = _operations(schema)
    assert set(operations) == {"/v1/predictions/latest", "/v1/predictions/{date}", "/v1/quality/{date}",
                               "/v1/models", "/v1/admin/audit", "/healthz", "/readyz"}  # fmt: skip
    for path, op in operations.items():
        seen: Counter = Counter()
        _fuzz(op, op.as_strategy(), key, seen)
        if "{date}" in path:
            stored = st.one_of(*(op.as_strategy(path_parameters={"date": str(day)}) for day in DAYS))
            _fuzz(op, stored, key, seen)
        valid = dict(seen)
        if _has_inputs(op):
            _fuzz(op, op.as_strategy(GenerationMode.NEGATIVE), key, seen)
        # The run proved something: real bodies were validated, and invalid input was refused.
        assert valid.get(200), f"{path}: no 200 among {valid}"
        if _has_inputs(op):
            assert set(seen) - set(valid) & {401, 422}, f"{path}: negative inputs never refused: {dict(seen)}"


def test_too_many_codes_is_the_documented_422_naming_the_field(api):
    schema, _, key = api
    codes = ",".join(f"{1000 + i}" for i in range(501))  # within the pattern's length, over serving.max_codes
    case = _operations(schema)["/v1/predictions/{date}"].Case(path_parameters={"date": str(DAYS[-1])},
                                                             query={"codes": codes})  # fmt: skip
    response = case.call_and_validate(headers={"X-API-Key": key})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "codes"]


def test_refusals_conform_401_403(api):
    schema, keys, _ = api
    models = _operations(schema)["/v1/models"]
    assert models.Case().call_and_validate().status_code == 401
    assert models.Case().call_and_validate(headers={"X-API-Key": keys.revoked}).status_code == 401
    assert models.Case().call_and_validate(headers={"X-API-Key": keys.reader}).status_code == 403


def test_rate_limited_429_conforms_with_retry_after(tmp_path, store_root, tracking_uri):
    from fastapi.testclient import TestClient

    from gogooku3.serving.app import create_app

    settings_, keys = make_settings(tmp_path, store_root, tracking_uri, burst=1, rate=0.01)
    with TestClient(create_app(settings_)) as client:
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        latest = _operations(schema)["/v1/predictions/latest"]
        documented = schema.raw_schema["paths"]["/v1/predictions/latest"]["get"]["responses"]["429"]
        assert "Retry-After" in documented["headers"]  # so response_headers_conformance checks it
        headers = {"X-API-Key": keys.reader}
        assert latest.Case(query={"top_k": 3}).call_and_validate(headers=headers).status_code == 200
        response = latest.Case(query={"top_k": 3}).call_and_validate(headers=headers)  # checks the documented header
        assert response.status_code == 429 and int(response.headers["retry-after"][0]) >= 1
