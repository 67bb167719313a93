"""ObjectStore on both backends: round trip, listing, tamper refusal, encryption, auth, object lock."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from gogooku3.errors import ConfigError, DataError


@pytest.fixture(params=["local", "s3"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


def test_put_get_list_delete(store):
    info = store.put("raw/a/x.bin", b"hello")
    store.put("raw/a/y.bin", b"world!", classification="public")
    store.put("features/z.parquet", b"zz")
    assert info.size == 5 and len(info.sha256) == 64
    assert store.get("raw/a/x.bin") == b"hello"
    listed = store.list("raw/")
    assert [i.key for i in listed] == ["raw/a/x.bin", "raw/a/y.bin"]
    assert listed[1].classification == "public" and listed[1].size == 6
    assert all(i.last_modified is not None for i in listed)
    assert store.exists("features/z.parquet")
    store.delete("features/z.parquet")
    assert not store.exists("features/z.parquet")
    assert [i.key for i in store.list()] == ["raw/a/x.bin", "raw/a/y.bin"]
    with pytest.raises(DataError, match="features/z.parquet"):
        store.get("features/z.parquet")


def test_bad_key_is_refused(store):
    with pytest.raises(DataError, match="object key"):
        store.put("../escape", b"x")


def test_local_tampered_byte_is_refused(local_store):
    local_store.put("raw/t.bin", b"abcdef")
    path = local_store.root / "raw/t.bin"
    data = bytearray(path.read_bytes())
    data[2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match="raw/t.bin.*sha256"):
        local_store.get("raw/t.bin")


def test_s3_overwrite_without_metadata_update_is_refused(s3_store):
    s3_store.put("raw/t.bin", b"abcdef")
    meta = s3_store.head("raw/t.bin")["Metadata"]
    s3_store.client.put_object(Bucket=s3_store.bucket, Key="gg3/raw/t.bin", Body=b"abcdeX", Metadata=meta)
    with pytest.raises(DataError, match="raw/t.bin.*sha256"):
        s3_store.get("raw/t.bin")


def test_sensitive_local_is_not_plaintext(local_store, storage_key):
    secret = b"account 12345 holds position XYZ"
    local_store.put("audit/s.json", secret, classification="sensitive")
    raw = (local_store.root / "audit/s.json").read_bytes()
    assert secret not in raw and b"12345" not in raw
    assert local_store.get("audit/s.json") == secret
    for sidecar in (local_store.root / ".meta").rglob("*.json"):
        assert storage_key.encode() not in sidecar.read_bytes()


def test_sensitive_without_key_is_one_line_config_error(local_store, monkeypatch):
    monkeypatch.delenv("GOGOOKU3_STORAGE_KEY", raising=False)
    monkeypatch.delenv("GOGOOKU3_STORAGE_KEY_FILE", raising=False)
    with pytest.raises(ConfigError, match="GOGOOKU3_STORAGE_KEY") as err:
        local_store.put("audit/s.json", b"x", classification="sensitive")
    assert "\n" not in str(err.value)
    assert not local_store.exists("audit/s.json")


def test_key_file_must_be_private(local_store, monkeypatch, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(os.urandom(32).hex())
    key_file.chmod(0o644)
    monkeypatch.delenv("GOGOOKU3_STORAGE_KEY", raising=False)
    monkeypatch.setenv("GOGOOKU3_STORAGE_KEY_FILE", str(key_file))
    with pytest.raises(ConfigError, match="chmod 600"):
        local_store.put("audit/s.json", b"x", classification="sensitive")
    key_file.chmod(0o600)
    local_store.put("audit/s.json", b"x", classification="sensitive")
    assert local_store.get("audit/s.json") == b"x"


def test_s3_sensitive_uses_server_side_encryption(s3_store):
    s3_store.put("audit/s.json", b"secret", classification="sensitive")
    assert s3_store.head("audit/s.json").get("ServerSideEncryption") == "AES256"
    assert s3_store.head("audit/s.json")["Metadata"]["classification"] == "sensitive"


def test_wrong_credentials_one_line_naming_endpoint_and_nothing_written(s3_store, monkeypatch):
    from gogooku3.storage.objects import S3ObjectStore

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    bad = S3ObjectStore(s3_store.bucket, "gg3", endpoint_url=s3_store.endpoint_url)
    with pytest.raises(ConfigError) as err:
        bad.put("raw/never.bin", b"x")
    message = str(err.value)
    assert s3_store.endpoint_url in message and "\n" not in message
    assert not s3_store.exists("raw/never.bin")
    assert s3_store.list() == []


def test_locked_audit_object_delete_refused_by_server(s3_store):
    from gogooku3.storage.objects import ObjectLocked

    until = datetime.now(timezone.utc) + timedelta(days=1)
    info = s3_store.put("audit/2026/log.jsonl", b"entry", retain_until=until)
    with pytest.raises(ObjectLocked, match="audit/2026/log.jsonl"):
        s3_store.delete("audit/2026/log.jsonl")
    # the server itself refuses: a raw boto3 delete of that version is denied
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="AccessDenied"):
        s3_store.client.delete_object(Bucket=s3_store.bucket, Key="gg3/audit/2026/log.jsonl",
                                      VersionId=info.version_id)  # fmt: skip
    versions = s3_store.client.list_object_versions(Bucket=s3_store.bucket, Prefix="gg3/audit/")["Versions"]
    assert info.version_id in [v["VersionId"] for v in versions]


def test_copy_between_backends_keeps_digest(local_store, s3_store):
    from gogooku3.storage.objects import copy_objects

    local_store.put("raw/a.bin", os.urandom(1000))
    local_store.put("raw/b.bin", b"bee", classification="public")
    copied = copy_objects(local_store, s3_store, "raw/")
    assert [(i.key, i.sha256) for i in copied] == [(i.key, i.sha256) for i in local_store.list("raw/")]
    assert [(i.key, i.sha256) for i in s3_store.list("raw/")] == [(i.key, i.sha256) for i in copied]
