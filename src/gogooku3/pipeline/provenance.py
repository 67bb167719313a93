"""Which code produced a run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gogooku3.data.digest import files_sha256

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
    files: list[Path] = []
    for top in CODE_PATHS:
        base = root / top
        files += [base] if base.is_file() else [p for p in base.rglob("*") if p.suffix in CODE_SUFFIXES]
    return files_sha256(root, files)
