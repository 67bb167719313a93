"""API keys: the CLI shows a key once and stores only a keyed digest; verification is constant time."""

from __future__ import annotations

import hmac
import json
import os
import secrets
import stat
import statistics
import subprocess
import sys
import time

import pytest

from gogooku3.errors import ConfigError
from gogooku3.serving import keys as K
from tests.helpers import ROOT

SECRET = secrets.token_hex(32)


def _cli(args, env):
    return subprocess.run([sys.executable, "-m", "gogooku3.serving.keys", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **env}, timeout=60)  # fmt: skip


def test_cli_creates_a_key_once_lists_and_revokes_it(tmp_path):
    key_file = tmp_path / "keys" / "api_keys.json"
    env = {"GOGOOKU3_API_SECRET": SECRET, "GOGOOKU3_API_KEY_FILE": str(key_file)}
    made = _cli(["create", "--scope", "predictions:read", "--scope", "models:read", "--name", "research"], env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    key_id = K.parse_key_id(key)
    assert key_id and key.count("\n") == 0 and key.split("_", 2)[2] not in made.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    stored = key_file.read_text()
    assert key not in stored and key.split("_", 2)[2] not in stored  # only the digest is kept
    identity = K.KeyStore(key_file, SECRET.encode()).verify(key)
    assert identity.key_id == key_id and identity.scopes == {"predictions:read", "models:read"}
    listed = _cli(["list"], env)
    assert key_id in listed.stdout and "active" in listed.stdout and key.split("_", 2)[2] not in listed.stdout
    assert json.loads(stored)["keys"][0]["digest"] not in listed.stdout
    assert _cli(["revoke", key_id], env).returncode == 0
    assert "revoked" in _cli(["list"], env).stdout
    with pytest.raises(K.AuthFailure, match="revoked"):
        K.KeyStore(key_file, SECRET.encode()).verify(key)


@pytest.mark.parametrize(("args", "env", "message"), [
    (["create", "--scope", "predictions:read", "--name", "x"], {"GOGOOKU3_API_SECRET": ""}, "GOGOOKU3_API_SECRET"),
    (["create", "--scope", "predictions:read", "--name", "x"], {"GOGOOKU3_API_SECRET": "short"}, "shorter than 32"),
    (["revoke", "0123456789abcdef"], {}, "KEYID '0123456789abcdef' is not in"),
])  # fmt: skip
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, args, env, message):
    base = {"GOGOOKU3_API_SECRET": SECRET, "GOGOOKU3_API_KEY_FILE": str(tmp_path / "k.json")}
    result = _cli(args, {**base, **env})
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_secrets_come_from_a_0600_file_and_a_readable_one_is_refused(tmp_path):
    from gogooku3.serving.secrets import load_secrets

    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"api_secret": SECRET, "api_key_file": str(tmp_path / "k.json")}))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="mode 0644; it must be 0600"):
        load_secrets(environ={"GOGOOKU3_SECRETS_FILE": str(path)})
    os.chmod(path, 0o600)
    loaded = load_secrets(environ={"GOGOOKU3_SECRETS_FILE": str(path)})
    assert loaded.api_secret == SECRET.encode() and SECRET not in repr(loaded)


def test_a_key_file_others_can_read_is_refused(tmp_path):
    store = K.KeyStore(tmp_path / "k.json", SECRET.encode())
    _, key = store.create("a", ["admin"])
    os.chmod(store.path, 0o644)
    with pytest.raises(ConfigError, match="must be 0600"):
        K.KeyStore(store.path, SECRET.encode()).verify(key)


def test_verification_compares_fixed_length_digests_with_compare_digest(tmp_path, monkeypatch):
    """Every path (wrong, unknown id, malformed, short, long, revoked) goes through one compare_digest of 64 hex."""
    store = K.KeyStore(tmp_path / "k.json", SECRET.encode())
    rec, key = store.create("a", ["predictions:read"])
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(K.hmac, "compare_digest", spy)
    presented = [key, key[:-1] + ("x" if key[-1] != "x" else "y"), f"g3_{'f' * 16}_{'s' * 43}", "garbage",
                 f"g3_{rec.key_id}_s", f"g3_{rec.key_id}_{'s' * 100}", "g3_" + "z" * 500]
    for p in presented:
        try:
            store.verify(p)
        except K.AuthFailure:
            pass
    assert calls == [(64, 64)] * len(presented)


def _per_call_ns(fn, inputs, rounds=41, batch=150):
    """Median per-call time of ``fn`` over each list of ``inputs``, measured interleaved (load moves all alike)."""
    samples = {name: [] for name in inputs}
    for _ in range(rounds):
        for name, values in inputs.items():
            t0 = time.perf_counter_ns()
            for _ in range(batch):
                for v in values:
                    fn(v)
            samples[name].append((time.perf_counter_ns() - t0) / (batch * len(values)))
    return {name: statistics.median(s) for name, s in samples.items()}


def _spread(medians):
    return max(medians.values()) / min(medians.values())


def _wrong_keys(key_id: str, secret: str) -> dict[str, list[str]]:
    flip = {c: ("A" if c != "A" else "B") for c in set(secret)}
    return {
        "no common prefix": [f"g3_{key_id}_{flip[secret[0]]}{secret[1:-1]}{flip[secret[-1]]}"],
        "all but last char": [f"g3_{key_id}_{secret[:-1]}{flip[secret[-1]]}"],
        "short secret": [f"g3_{key_id}_{secret[:3]}"],
        "long secret": [f"g3_{key_id}_{secret * 2}"],
        "unknown key id": [f"g3_{'0' * 16}_{secret}"],
    }


def test_wrong_keys_take_the_same_time_whatever_their_length_or_common_prefix(tmp_path):
    store = K.KeyStore(tmp_path / "k.json", SECRET.encode())
    rec, key = store.create("a", ["predictions:read"])
    secret = key.split("_", 2)[2]

    def attempt(p):
        try:
            store.verify(p)
        except K.AuthFailure:
            pass

    # The same harness must see a leak where there is one: an early-exit comparison of the plaintext.
    def naive(p):
        s = p.split("_", 2)[2]
        for a, b in zip(s, secret, strict=False):
            if a != b:
                return False
        return len(s) == len(secret)

    leaky = _per_call_ns(naive, _wrong_keys(rec.key_id, secret))
    assert leaky["all but last char"] > 1.5 * leaky["no common prefix"], leaky
    ours = _per_call_ns(attempt, _wrong_keys(rec.key_id, secret))
    assert _spread(ours) < 1.3, ours
