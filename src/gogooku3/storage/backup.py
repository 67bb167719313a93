"""``python -m gogooku3.storage backup|verify|restore``: backups that are proven by a restore.

A backup directory holds one folder per part and ``manifest.json`` with each part's
row counts and content digests, and ``status`` (``unverified`` until ``verify`` has
restored it into a scratch target and found every count and digest equal).

Parts: ``objects`` and ``mlflow_artifacts`` (a root of files: manifest of key, sha256,
size, plus copies), ``object_store`` (any :class:`ObjectStore`, e.g. ``s3://bucket/prefix``:
every object read through the interface, so its sha256 is checked, into a local store in
the backup, which keeps sensitive objects encrypted; manifest of key, sha256, size, class),
``olap`` (chdb ``BACKUP DATABASE ... TO File``), ``mlflow`` (sqlite
online backup, or ``pg_dump`` for a postgresql URI), ``conf`` (the conf/ tree) and
``runs`` (every run's resolved ``.hydra/config.yaml``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from gogooku3.errors import ConfigError, GogookuError
from gogooku3.storage.objects import file_sha256

FORMAT = 1
TREES = {"objects": "**/*", "mlflow_artifacts": "**/*", "conf": "**/*", "runs": "**/.hydra/config.yaml"}
PARTS = ("objects", "object_store", "mlflow_artifacts", "olap", "mlflow", "conf", "runs")


# --- files -----------------------------------------------------------------------------------
def tree_entries(root: Path, pattern: str = "**/*") -> list[dict[str, Any]]:
    """(key, sha256, size) of every file under ``root`` matching ``pattern``, sorted by key."""
    files = sorted(p for p in root.glob(pattern) if p.is_file())
    return [{"key": p.relative_to(root).as_posix(), "sha256": file_sha256(p), "size": p.stat().st_size} for p in files]


def copy_tree(src: Path, entries: list[dict[str, Any]], dst: Path) -> None:
    for e in entries:
        target = dst / e["key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / e["key"], target)


def tree_summary(root: Path, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"files": len(entries), "entries": entries}


def tree_differences(expected: list[dict[str, Any]], root: Path) -> list[str]:
    got = {e["key"]: e for e in tree_entries(root)} if root.is_dir() else {}
    diffs = []
    for e in expected:
        g = got.pop(e["key"], None)
        if g is None:
            diffs.append(f"{e['key']}: missing")
        elif g["sha256"] != e["sha256"] or g["size"] != e["size"]:
            diffs.append(f"{e['key']}: sha256 {g['sha256'][:12]} != {e['sha256'][:12]}")
    return diffs + [f"{k}: not in the manifest" for k in got]


# --- an ObjectStore (local or S3) -------------------------------------------------------------
def object_store(uri: str) -> Any:
    """``s3://bucket/prefix`` (endpoint and credentials from the environment) or a local store root."""
    from gogooku3.storage.objects import LocalObjectStore, S3ObjectStore

    parsed = urlparse(uri)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigError(f"--objects-uri {uri}: no bucket (expected s3://bucket/prefix)")
        return S3ObjectStore(parsed.netloc, parsed.path.strip("/"))
    if parsed.scheme not in ("", "file"):
        raise ConfigError(f"--objects-uri {uri}: expected s3://bucket/prefix or a local store directory")
    return LocalObjectStore(parsed.path if parsed.scheme == "file" else uri)


def store_entries(store: Any) -> list[dict[str, Any]]:
    return [{"key": i.key, "sha256": i.sha256, "size": i.size, "classification": i.classification}
            for i in store.list()]  # fmt: skip


def store_copy(source: Any, target: Any) -> list[dict[str, Any]]:
    """Every object of ``source`` into ``target`` (each read checks its sha256); the target's entries."""
    from gogooku3.storage.objects import copy_objects

    copy_objects(source, target)
    return store_entries(target)


def store_differences(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[str]:
    have = {e["key"]: e for e in got}
    diffs = []
    for e in expected:
        g = have.pop(e["key"], None)
        if g is None:
            diffs.append(f"{e['key']}: missing")
        elif (g["sha256"], g["size"]) != (e["sha256"], e["size"]):
            diffs.append(f"{e['key']}: sha256 {g['sha256'][:12]} != {e['sha256'][:12]}")
    return diffs + [f"{k}: not in the manifest" for k in have]


# --- OLAP (chdb) -----------------------------------------------------------------------------
def olap_tables(olap: Any) -> dict[str, dict[str, Any]]:
    """Row count and an order-free content digest (sum of row hashes) per table."""
    names = olap.query(
        "SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name", {"db": olap.database}
    )  # fmt: skip
    out = {}
    for name in names["name"].to_list() if names.height else []:
        row = olap.query(f"SELECT count() AS n, toString(sum(cityHash64(*))) AS h FROM {olap.database}.`{name}`")
        out[name] = {"rows": int(row["n"][0]), "digest": row["h"][0]}
    return out


def _olap(path: Path, backups_dir: Path) -> Any:
    from gogooku3.storage.olap import ChdbOlap

    return ChdbOlap(path, backups_dir=backups_dir)


def olap_backup(source: Path, out: Path) -> dict[str, Any]:
    with _olap(source, out.parent) as olap:
        olap.execute(f"BACKUP DATABASE {olap.database} TO File('{out.resolve()}/')")
        return {"tables": olap_tables(olap)}


def olap_restore(backup: Path, target: Path) -> dict[str, Any]:
    with _olap(target, backup.parent) as olap:
        olap.execute(f"RESTORE DATABASE {olap.database} FROM File('{backup.resolve()}/')")
        return {"tables": olap_tables(olap)}


# --- MLflow store ----------------------------------------------------------------------------
def _sqlite_path(db: str) -> Path:
    return Path(db.removeprefix("sqlite:///")) if db.startswith("sqlite:///") else Path(db)


def _is_pg(db: str) -> bool:
    return urlparse(db).scheme in ("postgresql", "postgres")


def redact(uri: str) -> str:
    p = urlparse(uri)
    return uri if not p.password else uri.replace(f":{p.password}@", ":***@")


def sqlite_tables(path: Path) -> dict[str, dict[str, Any]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        out = {}
        for name in names:
            ncols = len(con.execute(f'SELECT * FROM "{name}" LIMIT 0').description)
            order = ", ".join(str(i + 1) for i in range(ncols))
            h, n = hashlib.sha256(), 0
            for row in con.execute(f'SELECT * FROM "{name}" ORDER BY {order}'):
                h.update(repr(row).encode())
                n += 1
            out[name] = {"rows": n, "digest": h.hexdigest()}
        return out
    finally:
        con.close()


def sqlite_copy(src: Path, dst: Path) -> None:
    """sqlite's online backup API: a consistent copy while MLflow may be writing."""
    if not src.is_file():
        raise ConfigError(f"--mlflow-db {src}: no such sqlite file")
    dst.parent.mkdir(parents=True, exist_ok=True)
    source, target = sqlite3.connect(f"file:{src}?mode=ro", uri=True), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _pg_env(uri: str) -> tuple[str, dict[str, str]]:
    """The URI without its password and an environment carrying it (never on a command line)."""
    p = urlparse(uri)
    env = dict(os.environ)
    if p.password:
        env["PGPASSWORD"] = p.password
        uri = uri.replace(f":{p.password}@", "@")
    return uri, env


def pg_tables(uri: str) -> dict[str, dict[str, Any]]:
    import psycopg2

    con = psycopg2.connect(uri)
    try:
        cur = con.cursor()
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        out = {}
        for (name,) in cur.fetchall():
            agg = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            cur.execute(f'SELECT count(*), {agg} FROM "{name}" t')
            n, digest = cur.fetchone()
            out[name] = {"rows": int(n), "digest": digest}
        return out
    finally:
        con.close()


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise ConfigError(f"{what}: {cmd[0]} failed ({(done.stderr.strip().splitlines() or ['?'])[-1]})")


def mlflow_backup(db: str, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True)
    if _is_pg(db):
        uri, env = _pg_env(db)
        _run(["pg_dump", "-Fc", "--no-owner", "-f", str(out / "mlflow.pgdump"), uri], env, "--mlflow-db")
        return {"kind": "postgresql", "tables": pg_tables(db)}
    sqlite_copy(_sqlite_path(db), out / "mlflow.db")
    return {"kind": "sqlite", "tables": sqlite_tables(out / "mlflow.db")}


def mlflow_restore(backup: Path, kind: str, target: str) -> dict[str, Any]:
    if kind == "postgresql":
        if not _is_pg(target):
            raise ConfigError(f"restore --mlflow-db: a postgresql backup needs a postgresql URI, got {redact(target)}")
        uri, env = _pg_env(target)
        _run(["pg_restore", "--no-owner", "-d", uri, str(backup / "mlflow.pgdump")], env, "restore --mlflow-db")
        return {"tables": pg_tables(target)}
    path = _sqlite_path(target)
    sqlite_copy(backup / "mlflow.db", path)
    return {"tables": sqlite_tables(path)}


# --- the verbs -------------------------------------------------------------------------------
def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def backup(args: argparse.Namespace) -> int:
    out = Path(args.to)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"backup --to {out}: not empty; give a new directory")
    for part in PARTS:  # check every source before writing anything
        source = getattr(args, part)
        if source is not None and part == "object_store":
            object_store(source).list()  # a bad URI, endpoint or credentials fail here, before any write
        if source is not None and (part in TREES or part == "olap") and not Path(source).is_dir():
            raise ConfigError(f"backup --{part.replace('_', '-')} {source}: not a directory")
        if source is not None and part == "mlflow" and not _is_pg(source) and not _sqlite_path(source).is_file():
            raise ConfigError(f"backup --mlflow-db {source}: no such sqlite file")
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "created_at": _now(), "status": "unverified", "parts": {}}
    for part in PARTS:
        source = getattr(args, part)
        if source is None:
            continue
        start = time.monotonic()
        if part in TREES:
            root = Path(source)
            entries = tree_entries(root, TREES[part])
            copy_tree(root, entries, out / part)
            info = {"source": str(root), **tree_summary(root, entries)}
        elif part == "object_store":
            from gogooku3.storage.objects import LocalObjectStore

            entries = store_copy(object_store(source), LocalObjectStore(out / part))
            info = {"source": source, "files": len(entries), "entries": entries}
        elif part == "olap":
            info = {"source": str(source), **olap_backup(Path(source), out / "olap")}
        else:
            info = {"source": redact(source), **mlflow_backup(source, out / "mlflow")}
        info["seconds"] = round(time.monotonic() - start, 3)
        manifest["parts"][part] = info
        print(f"backup {part}: {_describe(info)}")
    if not manifest["parts"]:
        raise ConfigError("backup: nothing to back up; give --objects, --objects-uri, --olap, --mlflow-db, "
                          "--conf or --runs")
    _write_manifest(out, manifest)
    print(f"backup written to {out} (status unverified; run verify)")
    return 0


def _describe(info: dict[str, Any]) -> str:
    if "entries" in info:
        return f"{info['files']} files, {sum(e['size'] for e in info['entries'])} bytes"
    return ", ".join(f"{t} {v['rows']} rows" for t, v in info["tables"].items())


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, out / "manifest.json")


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"{path}: no backup manifest")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise ConfigError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT}")
    return manifest


def restore_parts(directory: Path, manifest: dict[str, Any], target_of: Callable[[str], str]) -> list[str]:
    """Restore every part to ``target_of(part)``; the differences from the manifest (empty when equal)."""
    diffs: list[str] = []
    for part, info in manifest["parts"].items():
        target = target_of(part)
        if part == "object_store":
            from gogooku3.storage.objects import LocalObjectStore

            got_entries = store_copy(LocalObjectStore(directory / part), object_store(target))
            diffs += [f"{part}/{d}" for d in store_differences(info["entries"], got_entries)]
            continue
        if part in TREES:
            copy_tree(directory / part, info["entries"], Path(target))
            diffs += [f"{part}/{d}" for d in tree_differences(info["entries"], Path(target))]
            continue
        if part == "olap":
            got = olap_restore(directory / "olap", Path(target))["tables"]
        else:
            got = mlflow_restore(directory / "mlflow", info["kind"], target)["tables"]
        for table in sorted(set(info["tables"]) | set(got)):
            want, have = info["tables"].get(table), got.get(table)
            if want != have:
                diffs.append(f"{part}/{table}: restored {have} != backed up {want}")
    return diffs


def verify(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    manifest = read_manifest(directory)
    scratch = Path(tempfile.mkdtemp(prefix="g3-verify-"))
    pg_scratch = None
    try:
        def target_of(part: str) -> str:
            nonlocal pg_scratch
            if part == "mlflow" and manifest["parts"][part]["kind"] == "postgresql":
                pg_scratch = _pg_scratch(args.pg_admin_uri)
                return pg_scratch[1]
            return str(scratch / ("mlflow.db" if part == "mlflow" else part))

        start = time.monotonic()
        diffs = restore_parts(directory, manifest, target_of)
        rto = time.monotonic() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if pg_scratch is not None:
            _pg_drop(args.pg_admin_uri, pg_scratch[0])
    manifest["verify"] = {"at": _now(), "restore_seconds": round(rto, 3), "differences": diffs}
    manifest["status"] = "failed" if diffs else "verified"
    _write_manifest(directory, manifest)
    for d in diffs:
        print(f"difference: {d}", file=sys.stderr)
    print(f"verify {directory}: {manifest['status']}; restore into scratch took {rto:.2f} s (RTO)")
    return 1 if diffs else 0


def _pg_scratch(admin_uri: str) -> tuple[str, str]:
    import psycopg2

    name = f"g3_verify_{os.getpid()}_{int(time.time())}"
    con = psycopg2.connect(admin_uri)
    con.autocommit = True
    con.cursor().execute(f'CREATE DATABASE "{name}"')
    con.close()
    p = urlparse(admin_uri)
    return name, p._replace(path=f"/{name}").geturl()


def _pg_drop(admin_uri: str, name: str) -> None:
    import psycopg2

    con = psycopg2.connect(admin_uri)
    con.autocommit = True
    con.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
    con.close()


def restore(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    manifest = read_manifest(directory)
    if manifest.get("status") != "verified" and not args.unverified:
        print(f"warning: backup {directory} is {manifest.get('status')}", file=sys.stderr)
    defaults = {"mlflow": "mlflow.db"}

    def target_of(part: str) -> str:
        explicit = getattr(args, part)
        if explicit is not None:
            target = explicit
        elif args.to is not None:
            target = str(Path(args.to) / defaults.get(part, part))
        elif part == "mlflow" and "***" in manifest["parts"][part]["source"]:
            raise ConfigError("restore --mlflow-db: the backed-up URI had a password; give the target URI")
        else:
            target = manifest["parts"][part]["source"]
        if part == "object_store":
            store = object_store(target)
            if hasattr(store, "ensure_bucket"):
                store.ensure_bucket()  # a fresh bucket (versioning, object lock) after losing the old one
            if store.list():
                raise ConfigError(f"restore object_store to {target}: not empty; nothing was overwritten")
        elif not _is_pg(target):
            path = _sqlite_path(target)
            if path.is_file() or (path.is_dir() and any(path.iterdir())):
                raise ConfigError(f"restore {part} to {path}: exists and is not empty; nothing was overwritten")
        return target

    targets = {part: target_of(part) for part in manifest["parts"]}  # check every target first
    start = time.monotonic()
    diffs = restore_parts(directory, manifest, targets.__getitem__)
    rto = time.monotonic() - start
    for d in diffs:
        print(f"difference: {d}", file=sys.stderr)
    for part, target in targets.items():
        print(f"restored {part} to {redact(target)}")
    print(f"restore took {rto:.2f} s (RTO); {'differences found' if diffs else 'every count and digest equal'}")
    return 1 if diffs else 0


def _parser(verb: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"python -m gogooku3.storage {verb}")
    if verb == "backup":
        p.add_argument("--to", required=True, help="a new directory for the backup")
    else:
        p.add_argument("dir", help="a backup directory (with manifest.json)")
    if verb == "restore":
        p.add_argument("--to", help="a root to restore every part under (default: the backed-up paths)")
        p.add_argument("--unverified", action="store_true", help="restore a backup not yet verified, quietly")
    if verb == "verify":
        p.add_argument("--pg-admin-uri", default="postgresql://127.0.0.1:5432/postgres",
                       help="where to create the scratch database for a PostgreSQL MLflow store")  # fmt: skip
    if verb in ("backup", "restore"):
        p.add_argument("--objects", help="object store root (a directory of files)")
        p.add_argument("--objects-uri", dest="object_store",
                       help="an object store read through its interface: s3://bucket/prefix or a local store root")
        p.add_argument("--mlflow-artifacts", dest="mlflow_artifacts", help="MLflow's local artifact root")
        p.add_argument("--olap", help="chdb directory")
        p.add_argument("--mlflow-db", dest="mlflow", help="sqlite path or sqlite:/// or postgresql:// URI")
        p.add_argument("--conf", help="the conf/ directory")
        p.add_argument("--runs", help="runs directory (every .hydra/config.yaml under it)")
    return p


def main(verb: str, args: list[str]) -> int:
    parsed = _parser(verb).parse_args(args)
    try:
        return {"backup": backup, "verify": verify, "restore": restore}[verb](parsed)
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
