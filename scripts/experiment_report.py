"""Write an MLflow run as a Markdown experiment report.

    python scripts/experiment_report.py RUN_ID [--out experiments/NAME.md] [--title TITLE]
        [--tracking-uri sqlite:///outputs/mlflow.db]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_id")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--title")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT}/outputs/mlflow.db")
    args = parser.parse_args()

    from gogooku3.tracking.report import run_report

    text = run_report(args.run_id, args.tracking_uri, args.title)
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
