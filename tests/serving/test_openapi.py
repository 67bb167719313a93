"""The published spec is current, and schemathesis finds no server error and no schema violation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from gogooku3.serving import openapi


def test_docs_openapi_json_is_current():
    assert openapi.DEFAULT_PATH.read_text() == openapi.render(), "run python -m gogooku3.serving.openapi"


def test_the_spec_documents_every_route_and_the_key_header():
    doc = openapi.spec()
    assert set(doc["paths"]) == {"/v1/predictions/latest", "/v1/predictions/{date}", "/v1/quality/{date}",
                                 "/v1/models", "/v1/admin/audit", "/healthz", "/readyz"}
    assert doc["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "g3_<keyid>_<secret>"}


def test_api_conforms_to_its_spec(served):
    """Every operation with generated valid and invalid inputs (schemathesis' default checks, admin key)."""
    from hypothesis import given

    client, _, keys = served
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 7
    for op in operations:

        @given(case=op.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def conforms(case):
            case.call_and_validate(headers={"X-API-Key": keys.admin})

        conforms()
