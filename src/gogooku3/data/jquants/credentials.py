"""Where the J-Quants API key comes from, and how it is kept out of logs.

Same sources and order as the official ``jquantsapi.ClientV2`` (later wins):
``~/.jquants-api/jquants-api.toml``, ``./jquants-api.toml``, the file named by
``JQUANTS_API_CLIENT_CONFIG_FILE`` (section ``[jquants-api-client]``, key ``api_key``),
then the environment variable ``JQUANTS_API_KEY``. The key is never a config value, so
Hydra never writes it into ``.hydra/`` or MLflow.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from gogooku3.errors import ConfigError

OFFICIAL_BASE = "https://api.jquants.com/v2"


class ApiKey:
    """The key as an opaque value: its repr and str never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "ApiKey('***')"

    __str__ = __repr__


def resolve_api_key(explicit: str | ApiKey | None = None) -> ApiKey:
    """The key from the argument, else the official client's config files and environment."""
    if isinstance(explicit, ApiKey):
        return explicit
    if explicit:
        return ApiKey(explicit)
    paths = [Path.home() / ".jquants-api" / "jquants-api.toml", Path("jquants-api.toml")]
    if os.environ.get("JQUANTS_API_CLIENT_CONFIG_FILE"):
        paths.append(Path(os.environ["JQUANTS_API_CLIENT_CONFIG_FILE"]))
    key = ""
    for path in paths:
        if path.is_file():
            try:
                section = tomllib.loads(path.read_text()).get("jquants-api-client", {})
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: not valid TOML ({exc})") from None
            key = section.get("api_key", key) or key
    key = os.environ.get("JQUANTS_API_KEY", key)
    if not key:
        raise ConfigError(
            "J-Quants API key not found: set JQUANTS_API_KEY or api_key in ~/.jquants-api/jquants-api.toml"
        )
    return ApiKey(key)


def resolve_base_url(base_url: str | None) -> str:
    """``data.base_url``, else env ``JQUANTS_API_BASE``, else the official V2 URL."""
    url = base_url or os.environ.get("JQUANTS_API_BASE") or OFFICIAL_BASE
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"data.base_url={url!r} must start with http:// or https://")
    return url.rstrip("/")
