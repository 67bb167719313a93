from __future__ import annotations

from gogooku3.tracking.redact import REDACTED, flatten, redact, redact_overrides


def test_secret_keys_and_url_passwords_are_masked_at_any_depth():
    config = {
        "data": {"api_key": "sk-123", "base_url": "http://127.0.0.1:8080/v2", "plan": "premium"},
        "hparams": {"storage": "postgresql://root:hunter2@127.0.0.1/db"},
        "tokens": ["a", "b"],
        "nothing": {"password": None},
    }
    safe = redact(config)
    assert safe["data"] == {"api_key": REDACTED, "base_url": "http://127.0.0.1:8080/v2", "plan": "premium"}
    assert safe["hparams"]["storage"] == f"postgresql://root:{REDACTED}@127.0.0.1/db"
    assert safe["tokens"] == REDACTED and safe["nothing"]["password"] is None
    assert "hunter2" not in str(safe) and "sk-123" not in str(safe)


def test_overrides_and_flatten():
    assert redact_overrides(["data.api_key=abc", "model=atft", "+x.password=pw"]) == [
        f"data.api_key={REDACTED}",
        "model=atft",
        f"+x.password={REDACTED}",
    ]
    assert flatten({"a": {"b": 1, "c": [1, 2]}}) == {"a.b": 1, "a.c": [1, 2]}
