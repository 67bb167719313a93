"""The published OpenAPI spec (docs/openapi.json), generated from the app itself.

    python -m gogooku3.serving.openapi            # write docs/openapi.json
    python -m gogooku3.serving.openapi --check    # exit 1 when the file is not current
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def spec() -> dict[str, Any]:
    """The app's OpenAPI document; built over empty throw-away files (no secrets, no registry access)."""
    from gogooku3.serving.app import create_app
    from gogooku3.serving.keys import KeyStore
    from gogooku3.serving.models import ModelRegistry
    from gogooku3.serving.settings import AppSettings
    from gogooku3.storage.predictions import LocalPredictionStore

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = AppSettings(
            store=LocalPredictionStore(root / "store"), keys=KeyStore(root / "keys.json", b"x" * 32),
            registry=ModelRegistry(f"sqlite:///{root}/none.db", "gogooku3"), latest_session=date.today,
            audit_log=root / "audit.jsonl", security_log=root / "security.jsonl",
        )  # fmt: skip
        app = create_app(settings)
        doc = app.openapi()
        app.state.g3.audit.close()
    return doc


def render() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gogooku3.serving.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.read_text() if args.path.is_file() else ""
        if current != text:
            print(f"{args.path} is not current; run python -m gogooku3.serving.openapi", file=sys.stderr)
            return 1
        print(f"{args.path} is current")
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(text)
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
