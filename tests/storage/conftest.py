"""Storage fixtures: one real SeaweedFS ``weed mini`` per test session (per xdist worker) on loopback
ports of its own, object stores on it and on disk, and a chdb database of the test's own
(chdb holds one path per process)."""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path

import pytest

# Test credentials: generated per session, never a real secret.
ACCESS_KEY = "gogooku3test"
SECRET_KEY = secrets.token_hex(16)


def _base_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    return 18340 + 10 * int(worker or 0)


@pytest.fixture(scope="session")
def weed(tmp_path_factory: pytest.TempPathFactory):
    """A running weed mini; fails (never skips) when it cannot start."""
    from gogooku3.storage.s3_server import WeedMini

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION="us-east-1")
    server = WeedMini(tmp_path_factory.mktemp("weed"), _base_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_store(weed):
    """An S3ObjectStore on a fresh bucket (versioning + object lock) of the session's server."""
    from gogooku3.storage.objects import S3ObjectStore

    store = S3ObjectStore(f"t-{uuid.uuid4().hex[:12]}", "gg3", endpoint_url=weed.endpoint)
    store.ensure_bucket()
    return store


@pytest.fixture
def local_store(tmp_path: Path):
    from gogooku3.storage.objects import LocalObjectStore

    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def storage_key(monkeypatch: pytest.MonkeyPatch) -> str:
    import base64

    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("GOGOOKU3_STORAGE_KEY", key)
    monkeypatch.delenv("GOGOOKU3_STORAGE_KEY_FILE", raising=False)
    return key


@pytest.fixture
def chdb_olap(tmp_path: Path):
    from gogooku3.storage.olap import ChdbOlap

    olap = ChdbOlap(tmp_path / "olap", backups_dir=tmp_path / "olap_backups")
    olap.apply_schema()
    yield olap
    olap.close()
