"""Re-run a past MLflow run from its logged overrides and compare every metric with it.

    python scripts/reproduce.py RUN_ID [--force] [--tracking-uri sqlite:///.../mlflow.db]

Exit codes: 0 all metrics equal, 1 some differ, 2 error, 3 code/data differ (nothing run).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runnable before `pip install -e .`

from gogooku3.tools.reproduce import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
