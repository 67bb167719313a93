"""Object storage: one small interface, a local-directory backend and an S3 backend (boto3).

Every object's sha256 is recorded when it is put (S3 user metadata, or a sidecar file for
the local backend) and checked on every read, so a tampered or half-copied object is refused
instead of silently feeding a run. Sensitive objects are encrypted at rest: AES-GCM on local
disk (key from ``GOGOOKU3_STORAGE_KEY`` or a 0600 key file), SSE-S3 (AES256) on S3.
Endpoints and credentials come only from the environment or the standard AWS config.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from gogooku3.errors import ConfigError, DataError

CLASSIFICATIONS = ("public", "internal", "sensitive")
KEY_ENV = "GOGOOKU3_STORAGE_KEY"
KEY_FILE_ENV = "GOGOOKU3_STORAGE_KEY_FILE"
SIDECAR = ".meta"  # local backend: <root>/.meta/<key>.json holds sha256, size, classification


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    sha256: str
    size: int
    version_id: str | None = None
    last_modified: datetime | None = None
    classification: str = "internal"


class ObjectLocked(DataError):
    """The server refused to delete an object under retention (S3 Object Lock)."""


class ObjectStore(Protocol):
    """Bytes under string keys ("raw/jquants/..."), checked by sha256 on every read."""

    def put(self, key: str, data: bytes, *, classification: str = "internal",
            content_type: str | None = None) -> ObjectInfo: ...  # fmt: skip

    def get(self, key: str) -> bytes: ...

    def list(self, prefix: str = "") -> list[ObjectInfo]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """sha256 of a file's bytes, read in chunks: the one file hasher (backups, bundles, data digests)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """Relative, '/'-separated, no '..' parts: the same key is valid on every backend."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] == SIDECAR:
        raise DataError(f"object key {key!r} is not a relative path of non-empty parts")
    return key


def check_classification(classification: str) -> str:
    if classification not in CLASSIFICATIONS:
        raise ConfigError(f"classification={classification!r}: expected one of {', '.join(CLASSIFICATIONS)}")
    return classification


def put_file(store: ObjectStore, key: str, path: str | Path, **kwargs: Any) -> ObjectInfo:
    return store.put(key, Path(path).read_bytes(), **kwargs)


def get_file(store: ObjectStore, key: str, path: str | Path) -> Path:
    """Write the (checked) object to ``path`` through a temp file + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(store.get(key))
    os.replace(tmp, path)
    return path


def copy_objects(source: ObjectStore, target: ObjectStore, prefix: str = "") -> list[ObjectInfo]:
    """Copy every object under ``prefix``; the target's sha256 must equal the source's."""
    out = []
    for info in source.list(prefix):
        copied = target.put(info.key, source.get(info.key), classification=info.classification)
        if copied.sha256 != info.sha256:
            raise DataError(f"object {info.key}: copy has sha256 {copied.sha256[:12]}, source {info.sha256[:12]}")
        out.append(copied)
    return out


# -- local ---------------------------------------------------------------------------------
def storage_key() -> bytes:
    """The 32-byte AES key for sensitive local objects: env (base64 or hex) or a 0600 key file."""
    raw = os.environ.get(KEY_ENV)
    source = KEY_ENV
    if not raw and os.environ.get(KEY_FILE_ENV):
        path = Path(os.environ[KEY_FILE_ENV]).expanduser()
        source = str(path)
        if not path.is_file():
            raise ConfigError(f"{KEY_FILE_ENV}={path}: key file does not exist")
        if path.stat().st_mode & 0o077:
            raise ConfigError(f"{path}: key file must be readable by its owner only (chmod 600)")
        raw = path.read_text().strip()
    if not raw:
        raise ConfigError(f"sensitive objects need an encryption key: set {KEY_ENV} (32 bytes, base64) "
                          f"or {KEY_FILE_ENV} (a 0600 file)")
    for decode in (base64.b64decode, bytes.fromhex):
        try:
            key = decode(raw)
        except ValueError:
            continue
        if len(key) == 32:
            return key
    raise ConfigError(f"{source}: encryption key must be 32 bytes, base64 or hex encoded")


class LocalObjectStore:
    """Files under ``root/<key>``, a sidecar ``root/.meta/<key>.json`` with sha256 and size.

    Writes go to a temp file and are renamed into place (object first, then its sidecar), so
    a crash leaves the old object or the new one. Sensitive objects are stored as
    nonce + AES-GCM ciphertext; the sha256 is always of the plaintext, so digests match
    across backends.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self._tls = threading.local()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _meta(self, key: str) -> Path:
        return self.root / SIDECAR / f"{check_key(key)}.json"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def put(self, key: str, data: bytes, *, classification: str = "internal",
            content_type: str | None = None) -> ObjectInfo:  # fmt: skip
        check_classification(classification)
        data = bytes(data)
        digest = sha256_hex(data)
        stored = data
        if classification == "sensitive":
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            nonce = os.urandom(12)
            stored = nonce + AESGCM(storage_key()).encrypt(nonce, data, key.encode())
        meta = {"sha256": digest, "size": len(data), "classification": classification,
                "content_type": content_type, "encrypted": classification == "sensitive"}  # fmt: skip
        self._write(self._path(key), stored)
        self._write(self._meta(key), json.dumps(meta).encode())
        return ObjectInfo(key, digest, len(data), None, self._mtime(key), classification)

    def _read_meta(self, key: str) -> dict:
        path = self._meta(key)
        if not path.is_file() or not self._path(key).is_file():
            raise DataError(f"object {key} is not in the store at {self.root}")
        try:
            return json.loads(path.read_text())
        except ValueError:
            raise DataError(f"object {key}: unreadable metadata {path}") from None

    def get(self, key: str) -> bytes:
        meta = self._read_meta(key)
        data = self._path(key).read_bytes()
        if meta.get("encrypted"):
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            try:
                data = AESGCM(storage_key()).decrypt(data[:12], data[12:], key.encode())
            except (InvalidTag, ValueError):
                raise DataError(f"object {key}: ciphertext fails authentication (tampered or wrong key)") from None
        if sha256_hex(data) != meta["sha256"]:
            raise DataError(f"object {key}: content does not match its recorded sha256 {meta['sha256'][:12]}")
        return data

    def _mtime(self, key: str) -> datetime:
        return datetime.fromtimestamp(self._path(key).stat().st_mtime, tz=timezone.utc)

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        meta_root = self.root / SIDECAR
        if not meta_root.is_dir():
            return []
        out = []
        for meta in meta_root.rglob("*.json"):
            key = meta.relative_to(meta_root).as_posix()[: -len(".json")]
            if not key.startswith(prefix) or meta.name.startswith("."):
                continue
            if not self._path(key).is_file():
                continue
            m = json.loads(meta.read_text())
            out.append(ObjectInfo(key, m["sha256"], m["size"], None, self._mtime(key), m["classification"]))
        return sorted(out, key=lambda i: i.key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self._meta(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file() and self._meta(key).is_file()

    def set_mtime(self, key: str, when: datetime) -> None:
        """Backdate an object (tests and migrations: keep an object's original age)."""
        os.utime(self._path(key), (when.timestamp(), when.timestamp()))


# -- S3 ------------------------------------------------------------------------------------
def s3_endpoint() -> str | None:
    """The S3 endpoint from the environment (``GOGOOKU3_S3_ENDPOINT`` wins over ``AWS_ENDPOINT_URL``)."""
    return os.environ.get("GOGOOKU3_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL") or None


class S3ObjectStore:
    """Objects in ``s3://bucket/prefix/<key>`` through boto3 with path-style addressing.

    Credentials are never arguments: boto3 reads the environment or the standard AWS config.
    The sha256 is user metadata (``x-amz-meta-sha256``) and checked on every get.
    """

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:  # fmt: skip
        if not bucket:
            raise ConfigError("storage.objects.bucket is empty; an S3 store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url or s3_endpoint()
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._client = None

    @property
    def where(self) -> str:
        return f"{self.endpoint_url or 'AWS S3'} bucket {self.bucket}"

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                              connect_timeout=5, read_timeout=30),
            )  # fmt: skip
        return self._client

    def _full(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full: str) -> str:
        return full[len(self.prefix) + 1:] if self.prefix else full

    def _error(self, exc: Exception, key: str, action: str) -> DataError | ConfigError:
        """One line naming the endpoint; auth failures become ConfigError."""
        from botocore.exceptions import ClientError, NoCredentialsError

        if isinstance(exc, NoCredentialsError):
            return ConfigError(f"S3 {self.where}: no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"):
                return ConfigError(f"S3 {self.where}: credentials refused ({code}); check AWS_ACCESS_KEY_ID "
                                   "and AWS_SECRET_ACCESS_KEY")
            if code in ("NoSuchKey", "404", "NotFound"):
                return DataError(f"object {key} is not in {self.where}")
            if code == "NoSuchBucket":
                return ConfigError(f"S3 {self.where}: bucket does not exist (run ensure_bucket)")
            if code == "AccessDenied" and action == "delete":
                return ObjectLocked(f"object {key} in {self.where}: delete refused by the server (object lock)")
            return DataError(f"S3 {self.where}: {action} {key} failed ({code or type(exc).__name__})")
        return DataError(f"S3 {self.where}: {action} {key} failed ({type(exc).__name__}: {exc})".splitlines()[0])

    def put(self, key: str, data: bytes, *, classification: str = "internal", content_type: str | None = None,
            retain_until: datetime | None = None) -> ObjectInfo:  # fmt: skip
        check_classification(classification)
        data = bytes(data)
        digest = sha256_hex(data)
        args: dict[str, Any] = {
            "Bucket": self.bucket, "Key": self._full(key), "Body": data,
            "Metadata": {"sha256": digest, "classification": classification},
        }  # fmt: skip
        if content_type:
            args["ContentType"] = content_type
        if classification == "sensitive":
            args["ServerSideEncryption"] = "AES256"
        if retain_until is not None:
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = retain_until
        try:
            reply = self.client.put_object(**args)
        except Exception as exc:
            raise self._error(exc, key, "put") from None
        return ObjectInfo(key, digest, len(data), reply.get("VersionId"), None, classification)

    def get(self, key: str) -> bytes:
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._full(key))
            data = reply["Body"].read()
        except Exception as exc:
            raise self._error(exc, key, "get") from None
        recorded = reply.get("Metadata", {}).get("sha256")
        if not recorded:
            raise DataError(f"object {key} in {self.where}: no recorded sha256 (not written by this store)")
        if sha256_hex(data) != recorded:
            raise DataError(f"object {key} in {self.where}: content does not match its recorded sha256 {recorded[:12]}")
        return data

    def head(self, key: str) -> dict:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._full(key))
        except Exception as exc:
            raise self._error(exc, key, "head") from None

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        full = (f"{self.prefix}/" if self.prefix else "") + prefix
        out = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                for obj in page.get("Contents", []):
                    key = self._rel(obj["Key"])
                    head = self.client.head_object(Bucket=self.bucket, Key=obj["Key"])
                    meta = head.get("Metadata", {})
                    out.append(ObjectInfo(key, meta.get("sha256", ""), obj["Size"], head.get("VersionId"),
                                          obj["LastModified"], meta.get("classification", "internal")))
        except Exception as exc:
            raise self._error(exc, prefix or "/", "list") from None
        return sorted(out, key=lambda i: i.key)

    def delete(self, key: str) -> None:
        """Remove every version of ``key``; a version under object lock raises ObjectLocked."""
        full = self._full(key)
        try:
            reply = self.client.list_object_versions(Bucket=self.bucket, Prefix=full)
            versions = [v for v in reply.get("Versions", []) + reply.get("DeleteMarkers", []) if v["Key"] == full]
            if not versions:
                self.client.delete_object(Bucket=self.bucket, Key=full)
            for v in versions:
                self.client.delete_object(Bucket=self.bucket, Key=full, VersionId=v["VersionId"])
        except Exception as exc:
            raise self._error(exc, key, "delete") from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._full(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error(exc, key, "head") from None
        except Exception as exc:
            raise self._error(exc, key, "head") from None

    def ensure_bucket(self, object_lock: bool = True) -> None:
        """Create the bucket if absent, with versioning and (by default) Object Lock enabled."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise self._error(exc, "/", "head bucket") from None
        except Exception as exc:
            raise self._error(exc, "/", "head bucket") from None
        try:
            self.client.create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=object_lock)
            self.client.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        except Exception as exc:
            raise self._error(exc, "/", "create bucket") from None


def open_store(objects: Any) -> ObjectStore:
    """The store a ``storage.objects`` config node names (kind local|s3)."""
    kind = getattr(objects, "kind", None)
    if kind == "local":
        return LocalObjectStore(objects.root)
    if kind == "s3":
        return S3ObjectStore(objects.bucket, objects.prefix or "")
    raise ConfigError(f"storage.objects.kind={kind!r}: expected local or s3")
