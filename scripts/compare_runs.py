"""Print MLflow runs of an experiment or of one sweep as a table.

    python scripts/compare_runs.py                      # experiment "gogooku3"
    python scripts/compare_runs.py --experiment baseline --csv runs.csv
    python scripts/compare_runs.py --parent <sweep parent run id>
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # runnable before `pip install -e .`

from gogooku3.tools.compare import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
