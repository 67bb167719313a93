"""The API key never reaches the data root, logs, summaries or reprs."""

from __future__ import annotations

import logging

from jquants_testkit import API_KEY, make_source

from gogooku3.data.jquants.server import Faults


def files_containing(root, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_no_credential_anywhere_after_an_ingest_with_faults(serve, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    server = serve(faults=Faults(error_share=0.1, truncate_share=0.1, drop_share=0.05, seed=9,
                                 malformed={"/markets/short-ratio": "wrong_type"}))
    source = make_source(server.url, tmp_path, max_retries=3)
    try:
        source.load()
    except Exception as exc:  # the malformed endpoint fails by design
        assert API_KEY not in str(exc)
    assert list(tmp_path.rglob("quarantine/*/*.body"))  # quarantined bodies were written, and scanned
    assert files_containing(tmp_path, API_KEY.encode()) == []
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(source)
    assert API_KEY not in "\n".join(source.summary.lines())


def test_a_wrong_key_stops_the_ingest_at_once_without_showing_either_key(serve, tmp_path):
    import pytest

    from gogooku3.errors import DataError

    server = serve()
    wrong = "jq-wrong-key-Zr81Lm2Qx"
    with pytest.raises(DataError, match=r"HTTP 403 The incoming api key is invalid or expired\. \(check JQUANTS_API_KEY") as info:
        make_source(server.url, tmp_path, api_key=wrong).load()
    assert wrong not in str(info.value) and API_KEY not in str(info.value)
    assert server.requests <= 3 + 3  # the calendar's 3 months, then nothing more
