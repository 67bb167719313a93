"""``python -m gogooku3.storage backup|verify|restore|retention ...``: each verb lives in its own module."""

from __future__ import annotations

import importlib
import sys

VERBS = {
    "backup": "gogooku3.storage.backup",
    "verify": "gogooku3.storage.backup",
    "restore": "gogooku3.storage.backup",
    "retention": "gogooku3.storage.retention",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in VERBS:
        print(f"usage: python -m gogooku3.storage {{{'|'.join(VERBS)}}} [options]", file=sys.stderr)
        return 2
    # Each module's main(verb, args) parses its own options.
    return int(importlib.import_module(VERBS[argv[0]]).main(argv[0], argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
