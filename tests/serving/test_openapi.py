"""The published spec is current and documents every route (schemathesis runs in test_schemathesis.py)."""

from __future__ import annotations

from gogooku3.serving import openapi


def test_docs_openapi_json_is_current():
    assert openapi.DEFAULT_PATH.read_text() == openapi.render(), "run python -m gogooku3.serving.openapi"


def test_the_spec_documents_every_route_and_the_key_header():
    doc = openapi.spec()
    assert set(doc["paths"]) == {"/v1/predictions/latest", "/v1/predictions/{date}", "/v1/quality/{date}",
                                 "/v1/models", "/v1/admin/audit", "/healthz", "/readyz"}
    assert doc["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key", "description": "g3_<keyid>_<secret>"}

