"""API keys: ``g3_<keyid>_<secret>``, stored as HMAC-SHA256 digests keyed with the server secret.

The key id (public, 16 hex) finds the record; the secret part is never stored, only
``HMAC(server_secret, keyid:secret)``. Verification always computes one HMAC and one
:func:`hmac.compare_digest` of two 64-character digests, also for an unknown id or a
revoked key, so the time taken depends neither on how long the presented secret is nor
on how much of it matches. The key file is JSON, mode 0600, rewritten atomically.

    python -m gogooku3.serving.keys create --scope predictions:read --name research
    python -m gogooku3.serving.keys revoke KEYID
    python -m gogooku3.serving.keys list
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gogooku3.errors import ConfigError, GogookuError
from gogooku3.serving.secrets import ServingSecrets, check_private, load_secrets

PREDICTIONS_READ, MODELS_READ, ADMIN = "predictions:read", "models:read", "admin"
SCOPES = (PREDICTIONS_READ, MODELS_READ, ADMIN)
PREFIX = "g3"
MAX_KEY_CHARS = 128
# Loose on purpose: any secret part up to the limit is hashed, so its length shows in no branch.
_KEY_RE = re.compile(r"g3_([0-9a-f]{16})_([A-Za-z0-9_\-]{1,100})")
_KEY_ID_RE = re.compile(r"[0-9a-f]{16}")
_DUMMY_DIGEST = "0" * 64


@dataclass
class KeyRecord:
    key_id: str
    name: str
    scopes: list[str]
    digest: str  # hex HMAC-SHA256(server secret, "keyid:secret")
    created_at: str
    revoked_at: str | None = None

    def public(self) -> dict[str, object]:
        """The record without its digest (what ``list`` prints)."""
        out = asdict(self)
        del out["digest"]
        return out


@dataclass(frozen=True)
class Identity:
    """Who a verified key belongs to."""

    key_id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN in self.scopes


class AuthFailure(Exception):
    """A presented key is missing, malformed, unknown, wrong or revoked; ``key_id`` when parseable."""

    def __init__(self, reason: str, key_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.key_id = reason, key_id


def digest(server_secret: bytes, key_id: str, secret: str) -> str:
    return hmac.new(server_secret, f"{key_id}:{secret}".encode(), hashlib.sha256).hexdigest()


def parse_key_id(presented: str | None) -> str | None:
    """The key id of a well-formed key, else None (safe to log: the id is public)."""
    if not presented or len(presented) > MAX_KEY_CHARS:
        return None
    m = _KEY_RE.fullmatch(presented)
    return m.group(1) if m else None


class KeyStore:
    """The key file: create, revoke, list, and verify presented keys (re-read when it changes)."""

    def __init__(self, path: str | Path, server_secret: bytes) -> None:
        self.path = Path(path)
        self._secret = server_secret
        self._records: dict[str, KeyRecord] = {}
        self._stamp: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"KeyStore({str(self.path)!r})"

    # --- the file --------------------------------------------------------------------------
    def load(self) -> dict[str, KeyRecord]:
        """The records, re-read when the file's mtime or size changed (a revoke takes effect at once)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._records, self._stamp = {}, None
            return self._records
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            check_private(self.path, "API key file")
            try:
                rows = json.loads(self.path.read_text())["keys"]
                self._records = {r["key_id"]: KeyRecord(**r) for r in rows}
            except (ValueError, KeyError, TypeError) as exc:
                raise ConfigError(f"API key file {self.path} is malformed: {type(exc).__name__} {exc}") from None
            self._stamp = stamp
        return self._records

    def _save(self, records: dict[str, KeyRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"keys": [asdict(r) for r in records.values()]}, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)
        self._stamp = None

    # --- administration --------------------------------------------------------------------
    def create(self, name: str, scopes: list[str]) -> tuple[KeyRecord, str]:
        """A new record and the plaintext key, which exists only in the return value."""
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise ConfigError(f"--scope {bad[0] if bad else '(none)'} is not a scope; known: {', '.join(SCOPES)}")
        if not name.strip():
            raise ConfigError("--name must not be empty")
        records = dict(self.load())
        key_id = secrets.token_hex(8)
        while key_id in records:
            key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        record = KeyRecord(key_id, name, sorted(set(scopes)), digest(self._secret, key_id, secret), _now())
        records[key_id] = record
        self._save(records)
        return record, f"{PREFIX}_{key_id}_{secret}"

    def revoke(self, key_id: str) -> KeyRecord:
        records = dict(self.load())
        if not _KEY_ID_RE.fullmatch(key_id) or key_id not in records:
            raise ConfigError(f"KEYID {key_id!r} is not in {self.path}")
        if records[key_id].revoked_at is None:
            records[key_id].revoked_at = _now()
            self._save(records)
        return records[key_id]

    # --- verification ----------------------------------------------------------------------
    def verify(self, presented: str | None) -> Identity:
        """The identity of a valid, unrevoked key; AuthFailure otherwise (same work on every path)."""
        if not presented:
            raise AuthFailure("missing")
        m = _KEY_RE.fullmatch(presented) if len(presented) <= MAX_KEY_CHARS else None
        key_id, secret = (m.group(1), m.group(2)) if m else ("", presented[:MAX_KEY_CHARS])
        record = self.load().get(key_id)
        expected = record.digest if record is not None else _DUMMY_DIGEST
        ok = hmac.compare_digest(digest(self._secret, key_id, secret), expected)
        if m is None:
            raise AuthFailure("malformed")
        if record is None or not ok:
            raise AuthFailure("invalid", key_id)
        if record.revoked_at is not None:
            raise AuthFailure("revoked", key_id)
        return Identity(key_id, record.name, frozenset(record.scopes))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_store(secrets_: ServingSecrets | None = None) -> KeyStore:
    s = secrets_ or load_secrets()
    return KeyStore(s.key_file, s.api_secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gogooku3.serving.keys",
                                     description="Create, revoke and list API keys (secrets from the environment).")
    sub = parser.add_subparsers(dest="verb", required=True)
    create = sub.add_parser("create", help="make a key and print it once")
    create.add_argument("--scope", action="append", required=True, choices=SCOPES)
    create.add_argument("--name", required=True)
    revoke = sub.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id", metavar="KEYID")
    sub.add_parser("list", help="key ids, names, scopes and state (never a secret)")
    args = parser.parse_args(argv)
    try:
        store = open_store()
        if args.verb == "create":
            record, key = store.create(args.name, args.scope)
            print(f"created key {record.key_id} ({record.name}; {', '.join(record.scopes)})", file=sys.stderr)
            print("the key is shown once; store it now:", file=sys.stderr)
            print(key)
        elif args.verb == "revoke":
            record = store.revoke(args.key_id)
            print(f"revoked {record.key_id} ({record.name}) at {record.revoked_at}")
        else:
            for r in store.load().values():
                state = f"revoked {r.revoked_at}" if r.revoked_at else "active"
                print(f"{r.key_id}  {r.name:<20}  {','.join(r.scopes):<32}  {state}")
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
