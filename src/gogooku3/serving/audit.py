"""The audit log: one JSON line per request, append-only and sha256-chained.

Each line carries ``seq``, ``prev_hash`` (the previous line's ``hash``; 64 zeros for the
first) and ``hash = sha256(canonical JSON of the line without hash)``. Editing a line
breaks its own hash; deleting one breaks the next line's ``prev_hash`` and ``seq``.
:func:`verify` names the first bad line. Cutting lines off the end is visible only
against a copy shipped earlier (:func:`ship` puts the log under the object store's
locked ``audit/`` prefix) or the last hash a monitor recorded (``expected_last_hash``).

    python -m gogooku3.serving.audit report --since 2026-12-01 --until 2026-12-07 FILE
    python -m gogooku3.serving.audit verify FILE
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol

from gogooku3.errors import DataError, GogookuError

GENESIS = "0" * 64
DENIED = {401: "auth_failed", 403: "scope_denied", 429: "rate_limited"}


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def line_hash(record: dict[str, Any]) -> str:
    """sha256 of the record without its ``hash`` field."""
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    lines: int
    bad_line: int | None = None  # 1-based line number of the first problem
    reason: str = ""
    last_hash: str = GENESIS

    def summary(self) -> str:
        return f"chain ok ({self.lines} lines)" if self.ok else f"chain BROKEN at line {self.bad_line}: {self.reason}"


def verify(path: str | Path, expected_last_hash: str | None = None) -> Verification:
    """Walk the chain of ``path``; the first deleted, inserted, reordered or edited line is reported."""
    prev, seq, n = GENESIS, 0, 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                rec = json.loads(raw)
                assert isinstance(rec, dict)
            except (ValueError, AssertionError):
                return Verification(False, n, n, "not a JSON object", prev)
            if rec.get("hash") != line_hash(rec):
                return Verification(False, n, n, "content does not match its hash (edited)", prev)
            if rec.get("prev_hash") != prev:
                return Verification(False, n, n, "prev_hash does not match the line before (a line was removed or moved)", prev)
            if rec.get("seq") != seq + 1:
                return Verification(False, n, n, f"seq {rec.get('seq')} follows {seq}", prev)
            prev, seq = rec["hash"], rec["seq"]
    if expected_last_hash is not None and prev != expected_last_hash:
        return Verification(False, n, n, "last hash differs from the recorded one (lines cut off the end)", prev)
    return Verification(True, n, None, "", prev)


class AuditLog:
    """Appends chained lines; continues the chain of an existing file (and reports its state)."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fsync = fsync
        self.startup = verify(self.path) if self.path.exists() else Verification(True, 0)
        self._prev, self._seq = self._tail()
        self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - held for the process's life

    def _tail(self) -> tuple[str, int]:
        """The last line's hash and seq (so a restart extends, never forks, the chain)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return GENESIS, 0
        with open(self.path, "rb") as fh:
            fh.seek(max(0, self.path.stat().st_size - 65536))
            last = fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            rec = json.loads(last)
            return str(rec["hash"]), int(rec["seq"])
        except (ValueError, KeyError, TypeError):
            return line_hash({"unreadable_tail": last.hex()}), self.startup.lines

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            rec = {"seq": self._seq + 1, **record, "prev_hash": self._prev}
            rec["hash"] = line_hash(rec)
            self._fh.write(_canonical(rec) + b"\n")
            if self._fsync:
                os.fsync(self._fh.fileno())
            self._prev, self._seq = rec["hash"], rec["seq"]
        return rec

    @property
    def last_hash(self) -> str:
        return self._prev

    def close(self) -> None:
        self._fh.close()


def iter_records(path: str | Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict):
                yield rec


def report(path: str | Path, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """Requests per key and route, denials per key and kind, and the chain's verification, for since..until."""
    lo = datetime.combine(since, time.min, UTC) if since else None
    hi = datetime.combine(until, time.max, UTC) if until else None
    per_key_route: Counter[tuple[str, str]] = Counter()
    denials: Counter[tuple[str, str]] = Counter()
    statuses: Counter[int] = Counter()
    n = 0
    for rec in iter_records(path):
        try:
            at = datetime.fromisoformat(rec["time"])
        except (KeyError, TypeError, ValueError):
            continue
        if (lo and at < lo) or (hi and at > hi):
            continue
        n += 1
        key = rec.get("key_id") or "-"
        per_key_route[(key, rec.get("route", "?"))] += 1
        status = int(rec.get("status", 0))
        statuses[status] += 1
        if status in DENIED:
            denials[(key, DENIED[status])] += 1
    chain = verify(path)
    return {
        "file": str(path), "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
        "requests": n,
        "per_key_route": [{"key_id": k, "route": r, "requests": c} for (k, r), c in sorted(per_key_route.items())],
        "denials": [{"key_id": k, "kind": d, "count": c} for (k, d), c in sorted(denials.items())],
        "statuses": {str(s): c for s, c in sorted(statuses.items())},
        "chain": asdict(chain),
    }


class _Putter(Protocol):
    def put(self, key: str, data: bytes, **kw: Any) -> Any: ...


def ship(path: str | Path, store: _Putter, prefix: str = "audit/") -> str:
    """Copy the log to ``store`` under ``prefix`` (the object store's locked prefix); returns the key.

    The key names the log and its last hash, so shipping the same content twice writes the
    same object, and a longer log (a later shipment) never overwrites an earlier one. A log
    that fails verification is shipped too (it is the evidence), under a ``-broken`` name.
    """
    path = Path(path)
    data = path.read_bytes()
    chain = verify(path)
    tag = "" if chain.ok else "-broken"
    key = f"{prefix}{path.stem}/{chain.lines:010d}-{hashlib.sha256(data).hexdigest()[:16]}{tag}.jsonl"
    store.put(key, data)
    return key


def _print_report(rep: dict[str, Any]) -> None:
    print(f"audit report {rep['file']}  {rep['since'] or '...'} .. {rep['until'] or '...'}: {rep['requests']} requests")
    print("requests per key and route:")
    for row in rep["per_key_route"]:
        print(f"  {row['key_id']:<18} {row['route']:<32} {row['requests']:>8}")
    print("denials:" + ("" if rep["denials"] else " none"))
    for row in rep["denials"]:
        print(f"  {row['key_id']:<18} {row['kind']:<32} {row['count']:>8}")
    print(Verification(**rep["chain"]).summary())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the chain verifies, 1 when it is broken, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m gogooku3.serving.audit", description="Audit-log report and verification.")
    sub = parser.add_subparsers(dest="verb", required=True)
    rep = sub.add_parser("report", help="requests per key and route, denials, chain verification")
    rep.add_argument("--since", type=_day)
    rep.add_argument("--until", type=_day)
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    rep.add_argument("file", type=Path, metavar="FILE")
    ver = sub.add_parser("verify", help="check the hash chain")
    ver.add_argument("file", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    try:
        if not args.file.is_file():
            raise DataError(f"audit log {args.file} does not exist")
        if args.verb == "verify":
            result = verify(args.file)
            print(result.summary())
            return 0 if result.ok else 1
        out = report(args.file, args.since, args.until)
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        _print_report(out)
    return 0 if out["chain"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
