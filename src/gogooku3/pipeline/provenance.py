"""Which code produced a run."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

CODE_PATHS = ("train.py", "src", "conf")
CODE_SUFFIXES = (".py", ".yaml")


def git_state(root: Path) -> tuple[str, bool]:
    """(HEAD sha, whether tracked or untracked files differ from it); ("unknown", True) outside git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=normal"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return sha.stdout.strip(), bool(status.stdout.strip())


def code_digest(root: Path) -> str:
    """sha256 over the project's code and config files, so a dirty tree is still identified."""
    digest = hashlib.sha256()
    for top in CODE_PATHS:
        base = root / top
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.suffix in CODE_SUFFIXES)
        for path in files:
            if "__pycache__" in path.parts or not path.is_file():
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
