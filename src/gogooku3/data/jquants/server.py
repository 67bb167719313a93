"""A J-Quants-compatible V2 server on loopback that serves a (synthetic) MarketData.

Same paths, parameters, field names, pagination and error bodies as the real API, plus
fault injection (rate limit, 500s, slow responses, dropped connections, truncated bodies,
malformed bodies) so that the client's recovery can be tested over real HTTP.

    python -m gogooku3.data.jquants.server --host 127.0.0.1 --port 8765 --n-stocks 300
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import secrets
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import polars as pl

from gogooku3.data.jquants.endpoints import BY_PATH
from gogooku3.data.jquants.wire import FILTER_DATE, wire_tables
from gogooku3.data.market import MarketData

PREFIX = "/v2"
BAD_KEY = "The incoming api key is invalid or expired."


@dataclass
class Faults:
    """Fault injection switches; shares are probabilities per request (seeded)."""

    rate_limit_per_window: int = 0  # 0 = off; else requests allowed per window, then 429
    rate_window_s: float = 60.0
    error_share: float = 0.0  # HTTP 500
    slow_share: float = 0.0
    slow_s: float = 0.0
    drop_share: float = 0.0  # close the connection without a response
    truncate_share: float = 0.0  # send half the body (Content-Length matching the half)
    malformed: dict[str, str] = field(default_factory=dict)  # path -> not_json|missing_field|wrong_type
    seed: int = 0


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class JQuantsLoopbackServer:
    """Serve ``market`` at ``http://host:port/v2``; use as a context manager or start()/stop()."""

    def __init__(
        self,
        market: MarketData,
        api_key: str,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 5000,
        max_rows: int = 2_000_000,
        faults: Faults | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("the loopback server needs an API key (--api-key or JQUANTS_API_KEY)")
        self.tables = wire_tables(market)
        self.last_session: date = market.calendar.max()
        self.page_size, self.max_rows = page_size, max_rows
        self.faults = faults or Faults()
        self._key = api_key.encode()
        # Pagination keys are signed with the market's digest, not the key: deterministic
        # across server restarts (so re-fetched bodies are byte-identical) and key-free.
        self._page_secret = market.digest.encode()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._hits: deque[float] = deque()
        self.requests = 0
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer((host, port), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{PREFIX}"

    def start(self) -> "JQuantsLoopbackServer":
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="jquants-loopback", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the command line) until interrupted."""
        try:
            self._httpd.serve_forever(0.05)
        except KeyboardInterrupt:
            pass
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "JQuantsLoopbackServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ------------------------------------------------------------
    def key_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(sent.encode(), self._key)

    def draw(self) -> float:
        with self._lock:
            self.requests += 1
            return self._rng.random()

    def rate_limited(self) -> bool:
        limit = self.faults.rate_limit_per_window
        if not limit:
            return False
        now = time.monotonic()
        with self._lock:
            while self._hits and now - self._hits[0] > self.faults.rate_window_s:
                self._hits.popleft()
            if len(self._hits) >= limit:
                return True
            self._hits.append(now)
            return False

    def respond(self, path: str, query: dict[str, str]) -> bytes:
        ep = BY_PATH.get(path)
        if ep is None or ep.name not in self.tables:
            raise _ApiError(404, f"No such endpoint: {path}")
        frame = self.tables[ep.name]
        frame = _FILTERS[ep.name](self, frame, query)
        if frame.height > self.max_rows:
            raise _ApiError(413, "Response data is too large. Specify parameters to reduce the acquired data range.")
        offset = _offset(query, self._page_secret)
        page = frame.slice(offset, self.page_size).drop(FILTER_DATE)
        body = b'{"data":' + (page.write_json().encode() if page.height else b"[]")
        if offset + self.page_size < frame.height:
            key = _pagination_key(offset + self.page_size, query, self._page_secret)
            body += b',"pagination_key":"' + key.encode() + b'"'
        return body + b"}"


def _pagination_key(offset: int, query: dict[str, str], secret: bytes) -> str:
    """Opaque, deterministic key bound to the query it continues."""
    sig = _query_sig(query, secret)
    return base64.urlsafe_b64encode(f"{offset}:{sig}".encode()).decode().rstrip("=")


def _query_sig(query: dict[str, str], secret: bytes) -> str:
    items = sorted((k, v) for k, v in query.items() if k != "pagination_key")
    return hashlib.sha256(secret + json.dumps(items).encode()).hexdigest()[:16]


def _offset(query: dict[str, str], secret: bytes) -> int:
    key = query.get("pagination_key")
    if not key:
        return 0
    try:
        offset, sig = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode().split(":")
        if sig != _query_sig(query, secret):
            raise ValueError
        return int(offset)
    except ValueError:
        raise _ApiError(400, "pagination_key is invalid for this query.") from None


def _date(query: dict[str, str], name: str) -> date | None:
    value = query.get(name)
    if not value:
        return None
    text = value.replace("-", "")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else _bad_date(name, value)
    except ValueError:
        return _bad_date(name, value)


def _bad_date(name: str, value: str) -> date:
    raise _ApiError(400, f"{name} must be YYYYMMDD or YYYY-MM-DD (got {value!r}).")


def _range(frame: pl.DataFrame, query: dict[str, str], exact: str | None = "date") -> pl.DataFrame:
    on = _date(query, exact) if exact else None
    lo, hi = _date(query, "from"), _date(query, "to")
    if lo and hi and lo > hi:
        raise _ApiError(400, "from must be on or before to.")
    if on is not None:
        return frame.filter(pl.col(FILTER_DATE) == on)
    if lo is not None:
        frame = frame.filter(pl.col(FILTER_DATE) >= lo)
    if hi is not None:
        frame = frame.filter(pl.col(FILTER_DATE) <= hi)
    return frame


def _code(frame: pl.DataFrame, query: dict[str, str], column: str = "Code") -> pl.DataFrame:
    code = query.get("code")
    if not code:
        return frame
    return frame.filter(pl.col(column) == code if len(code) == 5 else pl.col(column).str.slice(0, 4) == code)


def _need(query: dict[str, str], *names: str) -> None:
    if not any(query.get(n) for n in names):
        raise _ApiError(400, f"This API requires at least 1 parameter as follows; {', '.join(repr(n) for n in names)}.")


def _calendar(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    frame = _range(frame, q, exact=None)
    return frame.filter(pl.col("HolDiv") == q["hol_div"]) if q.get("hol_div") else frame


def _master(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    on = _date(q, "date") or app.last_session
    frame = _code(frame, q).with_columns(pl.lit(on.isoformat()).alias("Date"))
    return frame.with_columns(pl.lit(on).alias(FILTER_DATE))


def _bars(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    _need(q, "code", "date")
    return _range(_code(frame, q), q)


def _topix(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    return _range(frame, q, exact=None)


def _statements(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    _need(q, "code", "date")
    return _range(_code(frame, q), q)


def _investor_types(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    frame = _range(frame, q, exact=None)
    return frame.filter(pl.col("Section") == q["section"]) if q.get("section") else frame


def _margin(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    _need(q, "code", "date", "published_date")
    if (q.get("from") or q.get("to")) and not q.get("code"):
        raise _ApiError(400, "from/to require code.")
    frame = _code(frame, q)
    published = _date(q, "published_date")
    if published is not None:
        return frame.filter(pl.col("PubDate") == published.isoformat())
    return _range(frame, q)


def _short_ratio(app: JQuantsLoopbackServer, frame: pl.DataFrame, q: dict[str, str]) -> pl.DataFrame:
    _need(q, "s33", "date")
    frame = frame.filter(pl.col("S33") == q["s33"]) if q.get("s33") else frame
    return _range(frame, q)


_FILTERS = {
    "calendar": _calendar,
    "master": _master,
    "bars": _bars,
    "topix": _topix,
    "statements": _statements,
    "investor_types": _investor_types,
    "margin": _margin,
    "short_ratio": _short_ratio,
}


class _Handler(BaseHTTPRequestHandler):
    app: JQuantsLoopbackServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle's algorithm and
        # delayed ACKs stall every keep-alive response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # quiet; never logs headers
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        app = self.app
        faults = app.faults
        draw = app.draw()
        if not app.key_ok(self.headers.get("x-api-key")):
            return self._send(403, _message(BAD_KEY))
        if app.rate_limited():
            return self._send(429, _message("Rate limit exceeded."))
        # One draw per request, cut into disjoint bands: deterministic for a given order.
        band = 0.0
        for share, fault in (
            (faults.error_share, "error"),
            (faults.drop_share, "drop"),
            (faults.truncate_share, "truncate"),
            (faults.slow_share, "slow"),
        ):
            if band <= draw < band + share:
                break
            band += share
        else:
            fault = None
        if fault == "error":
            return self._send(500, _message("Unexpected error. Please try again later."))
        if fault == "drop":
            self.close_connection = True
            self.connection.close()
            return None
        if fault == "slow":
            time.sleep(faults.slow_s)
        parts = urlsplit(self.path)
        path = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX + "/") else parts.path
        query = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if v != ""}
        try:
            body = app.respond(path, query)
        except _ApiError as exc:
            return self._send(exc.status, _message(str(exc)))
        except Exception as exc:  # a server bug must still answer like J-Quants does
            return self._send(500, _message(f"Unexpected error: {type(exc).__name__}"))
        body = _malform(body, faults.malformed.get(path))
        if fault == "truncate":
            body = body[: len(body) // 2]
        return self._send(200, body)

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _message(text: str) -> bytes:
    return json.dumps({"message": text}).encode()


# Fields that every endpoint's test mutations touch: keys to drop, numbers to spoil.
_KEY_FIELDS = ("Code", "Date", "DiscDate", "PubDate")
_NUMBER_FIELDS = ("O", "C", "ShrtVol", "FrgnSell", "SellExShortVa")


def _malform(body: bytes, kind: str | None) -> bytes:
    """Spoil a good body the way broken upstreams do (for the quarantine tests)."""
    if kind is None:
        return body
    if kind == "not_json":
        return b"<html><body>502 Bad Gateway</body></html>"
    payload = json.loads(body)
    rows = payload.get("data") or [{}]
    if kind == "missing_field":
        rows = [{k: v for k, v in row.items() if k not in _KEY_FIELDS} for row in rows]
    elif kind == "wrong_type":
        numbers = [k for k in _NUMBER_FIELDS if k in rows[0]]
        if numbers:  # numbers sent as strings
            rows = [{**row, **{k: f"x{row[k]}" for k in numbers}} for row in rows]
        else:  # no number field here: spoil the date instead
            rows = [{**row, "Date": "not-a-date"} for row in rows]
    else:
        raise ValueError(f"unknown malformed kind {kind!r}; expected not_json, missing_field or wrong_type")
    return json.dumps({**payload, "data": rows}).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="default: env JQUANTS_API_KEY")
    parser.add_argument("--n-stocks", type=int, default=300)
    parser.add_argument("--start", default="2019-01-01")
    parser.add_argument("--end", default="2023-12-31")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--signal-strength", type=float, default=1.0)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--rate-limit", type=int, default=0, help="requests per --rate-window-s, then 429")
    parser.add_argument("--rate-window-s", type=float, default=60.0)
    parser.add_argument("--error-share", type=float, default=0.0)
    parser.add_argument("--slow-share", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=0.0)
    parser.add_argument("--drop-share", type=float, default=0.0)
    parser.add_argument("--truncate-share", type=float, default=0.0)
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get("JQUANTS_API_KEY")
    if not api_key:
        parser.error("an API key is required: --api-key or env JQUANTS_API_KEY")
    faults = Faults(
        rate_limit_per_window=args.rate_limit,
        rate_window_s=args.rate_window_s,
        error_share=args.error_share,
        slow_share=args.slow_share,
        slow_s=args.slow_s,
        drop_share=args.drop_share,
        truncate_share=args.truncate_share,
        seed=args.seed,
    )
    market = synthetic_market(args.n_stocks, args.start, args.end, args.seed, args.signal_strength)
    server = JQuantsLoopbackServer(market, api_key, args.host, args.port, page_size=args.page_size, faults=faults)
    print(f"serving J-Quants V2 on {server.url} ({market.quotes.height} bars)", file=sys.stderr, flush=True)
    server.serve_forever()


def synthetic_market(n_stocks: int, start: str, end: str, seed: int, signal_strength: float = 1.0) -> MarketData:
    """The lead's synthetic market with its extra tables, as the server serves it."""
    from gogooku3.data.synthetic import SyntheticMarketSource

    return SyntheticMarketSource(
        n_stocks=n_stocks, start=start, end=end, seed=seed, signal_strength=signal_strength, extras=True
    ).load()


def new_api_key() -> str:
    """A throwaway key for an in-process server; never written anywhere."""
    return secrets.token_urlsafe(24)


if __name__ == "__main__":
    main()
