"""OLAP tables (training metrics, predictions, realized, quality) behind one small interface.

``ChdbOlap`` embeds ClickHouse in-process on a directory (the tested backend);
``ClickHouseOlap`` sends the same SQL to a server through clickhouse-connect.
The DDL lives in one file, ``olap_schema.sql``. Query parameters use ClickHouse's
``{name:Type}`` syntax on both backends.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from gogooku3.errors import ConfigError

DATABASE = "gogooku3"


def schema_statements(database: str = DATABASE) -> list[str]:
    """The statements of ``olap_schema.sql`` for ``database``, comments dropped."""
    text = resources.files("gogooku3.storage").joinpath("olap_schema.sql").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip().replace("{database}", database) for s in "\n".join(lines).split(";") if s.strip()]


class Olap(Protocol):
    """Frames in, frames out; ``table`` names are unqualified (the backend's ``database``)."""

    database: str

    def insert(self, table: str, frame: pl.DataFrame) -> None: ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def apply_schema(self) -> None: ...

    def close(self) -> None: ...


def _params(params: Mapping[str, Any] | None) -> dict[str, str]:
    return {k: str(v) for k, v in (params or {}).items()}


class ChdbOlap:
    """ClickHouse embedded through chdb in ``path``.

    chdb holds one engine per process: a second ``ChdbOlap`` on another path needs the
    first closed. ``backups_dir`` becomes the engine's ``backups.allowed_path`` (set at
    start-up, so it must be given here to run ``BACKUP``/``RESTORE``).
    """

    def __init__(self, path: str | Path, backups_dir: str | Path | None = None, database: str = DATABASE) -> None:
        self.path = Path(path)
        self.backups_dir = None if backups_dir is None else Path(backups_dir)
        self.database = database
        self._conn: Any = None

    @property
    def connection_string(self) -> str:
        uri = f"file:{self.path.resolve()}"
        if self.backups_dir is not None:
            uri += f"?backups.allowed_path={self.backups_dir.resolve()}/"
        return uri

    def _connection(self) -> Any:
        if self._conn is None:
            import chdb

            self.path.mkdir(parents=True, exist_ok=True)
            if self.backups_dir is not None:
                self.backups_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = chdb.connect(self.connection_string)
            except Exception as exc:  # chdb raises RuntimeError with the engine's message
                raise ConfigError(f"olap path {self.path}: cannot open chdb ({str(exc).splitlines()[0]})") from exc
        return self._conn

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        buf = io.BytesIO()
        frame.write_ipc_stream(buf)
        cols = ", ".join(f"`{c}`" for c in frame.columns)
        with self._connection().send_insert(f"INSERT INTO {self.database}.{table} ({cols})", "ArrowStream") as ins:
            ins.append(buf.getvalue())
            ins.finish()

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        result = self._connection().query(sql, "Arrow", params=_params(params))
        data = result.bytes()
        return pl.read_ipc(io.BytesIO(data)) if data else pl.DataFrame()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._connection().query(sql, "CSV", params=_params(params))

    def apply_schema(self) -> None:
        for statement in schema_statements(self.database):
            self.execute(statement)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ChdbOlap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ClickHouseOlap:
    """A ClickHouse server at ``url`` (http[s]://user:password@host:port), same SQL as chdb.

    Credentials belong in the URL from the environment, never in YAML.
    """

    def __init__(self, url: str, database: str = DATABASE) -> None:
        from urllib.parse import urlparse

        parts = urlparse(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"olap url: expected http[s]://host:port, got scheme {parts.scheme or '(none)'}")
        self._parts = parts
        self.database = database
        self._client: Any = None

    def _connection(self) -> Any:
        if self._client is None:
            import clickhouse_connect

            p = self._parts
            self._client = clickhouse_connect.get_client(
                host=p.hostname, port=p.port or (8443 if p.scheme == "https" else 8123),
                username=p.username or "default", password=p.password or "", secure=p.scheme == "https",
            )  # fmt: skip
        return self._client

    def insert(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height:
            self._connection().insert_arrow(f"{self.database}.{table}", frame.to_arrow())

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        table = self._connection().query_arrow(sql, parameters=_params(params))
        return pl.from_arrow(table)  # type: ignore[return-value]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._connection().command(sql, parameters=_params(params))

    def apply_schema(self) -> None:
        for statement in schema_statements(self.database):
            self.execute(statement)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
