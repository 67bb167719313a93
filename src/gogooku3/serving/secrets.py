"""Where the API's secrets come from: the environment, or a JSON secrets file of mode 0600.

Never from YAML: the config holds only the *names* of the variables. A secrets file that
group or others can read is refused, so a leaked-permission file fails loudly at start.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gogooku3.errors import ConfigError

SECRET_KEY, KEY_FILE_KEY = "api_secret", "api_key_file"
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class ServingSecrets:
    api_secret: bytes = b""  # the HMAC key the API-key digests are made with
    key_file: Path = Path()

    def __repr__(self) -> str:  # never print the secret
        return f"ServingSecrets(api_secret=<{len(self.api_secret)} bytes>, key_file={str(self.key_file)!r})"


def check_private(path: Path, what: str) -> None:
    """A ConfigError unless ``path`` exists and only its owner may read or write it (0600 or stricter)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{what} {path} has mode {stat.S_IMODE(mode):04o}; it must be 0600 (chmod 600 {path})")


def load_secrets(
    secret_env: str = "GOGOOKU3_API_SECRET", key_file_env: str = "GOGOOKU3_API_KEY_FILE",
    secrets_file_env: str = "GOGOOKU3_SECRETS_FILE", environ: dict[str, str] | None = None,
) -> ServingSecrets:  # fmt: skip
    """The server secret and key-file path: each from its env variable, else from the secrets file."""
    env = os.environ if environ is None else environ
    from_file: dict[str, str] = {}
    if env.get(secrets_file_env):
        path = Path(env[secrets_file_env])
        check_private(path, f"secrets file (${secrets_file_env})")
        try:
            from_file = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"secrets file {path} is not a JSON object: {type(exc).__name__}") from None
        if not isinstance(from_file, dict):
            raise ConfigError(f"secrets file {path} is not a JSON object")
    secret = env.get(secret_env) or from_file.get(SECRET_KEY)
    key_file = env.get(key_file_env) or from_file.get(KEY_FILE_KEY)
    if not secret:
        raise ConfigError(f"no API secret: set ${secret_env} or {SECRET_KEY!r} in the file named by ${secrets_file_env}")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"${secret_env} is shorter than {MIN_SECRET_BYTES} bytes; use e.g. `openssl rand -hex 32`")
    if not key_file:
        raise ConfigError(f"no API key file: set ${key_file_env} or {KEY_FILE_KEY!r} in the file named by ${secrets_file_env}")
    return ServingSecrets(secret.encode(), Path(key_file))
