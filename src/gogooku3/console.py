"""What the console shows: third-party loggers at WARNING, each line once, and progress.

Hydra's ``job_logging`` (conf/hydra/default.yaml) sets library loggers to WARNING before
the job runs. Some libraries reconfigure their loggers when imported (Lightning adds a
stderr handler next to the root's, so every line prints twice; MLflow installs its own
at INFO), so :func:`quiet_third_party` re-applies the levels right after such imports.

:class:`Progress` is a bar on a terminal and, elsewhere (CI, captured ``make train``),
a log line after 30 s, 90 s, 210 s, ..., so quick phases print nothing and a long one a
few lines. ``GOGOOKU3_PROGRESS=bar|log|off`` forces a mode.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import Any

# Library loggers kept at WARNING; the ones with their own handlers lose them (root prints once).
THIRD_PARTY = (
    "great_expectations", "mlflow", "alembic", "sqlalchemy", "matplotlib", "PIL", "lightning",
    "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric", "torchmetrics",
    "urllib3", "optuna", "fsspec", "git", "wandb", "numexpr", "huey",
)  # fmt: skip
# Python warnings from libraries that say nothing actionable about a run (GE routes warnings
# into the ``py.warnings`` logger, so each would be a console line).
NOISE = (
    r".*smaller than the logging interval.*",  # Lightning: few batches per epoch is deliberate here
    r".*isinstance\(treespec, LeafSpec\)` is deprecated.*",  # Lightning on a newer torch
    r".*does not have many workers which may be a bottleneck.*",  # in-memory tensors need no workers
)
# Library log records that are advice, not news about this run: (logger, message start).
NOISY_RECORDS = (
    ("mlflow.pytorch", "Saving pytorch model by Pickle"),  # the project logs its own nn.Module on purpose
)
PROGRESS_ENV = "GOGOOKU3_PROGRESS"
# A short bar and no rate, so the postfix (current horizon, epoch metrics) fits the line.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}]{postfix}"

log = logging.getLogger("gogooku3")


def quiet_third_party(level: int = logging.WARNING) -> None:
    """Put library loggers at ``level`` (or above) and make their lines go through root only.

    Idempotent; call after importing a library that configures logging at import time.
    ``MLFLOW_LOGGING_LEVEL`` makes MLflow's own setup (on its first import) agree.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", logging.getLevelName(level))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a bar per model download
    root_prints = bool(logging.getLogger().handlers)
    prefixes = tuple(f"{name}." for name in THIRD_PARTY)
    # Modules of a library may pin their own level (GE's data_context sets INFO on import).
    pinned = [n for n, lg in list(logging.root.manager.loggerDict.items())
              if n.startswith(prefixes) and isinstance(lg, logging.Logger) and 0 < lg.level < level]  # fmt: skip
    for name in (*THIRD_PARTY, *pinned):
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)
        if root_prints and logger.handlers:  # one copy of each line, in the run's format
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True
    for pattern in NOISE:
        warnings.filterwarnings("ignore", message=pattern)
    for name, start in NOISY_RECORDS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropStart) and f.start == start for f in logger.filters):
            logger.addFilter(_DropStart(start))


class _DropStart(logging.Filter):
    """Drops records whose message starts with ``start``."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.start)


def progress_mode(stream: Any = None) -> str:
    """``bar`` on a terminal, ``log`` elsewhere; ``GOGOOKU3_PROGRESS`` overrides (bar/log/off)."""
    forced = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if forced in ("bar", "log", "off"):
        return forced
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return "bar" if isatty is not None and isatty() else "log"


class Progress:
    """A phase with ``total`` steps (None: unknown; :meth:`add_total` grows it).

    ``bar``: a tqdm bar on stderr that disappears when closed. ``log``: one INFO line
    ``<desc>: <n>/<total> <unit> (<pct>), <elapsed>`` once ``every`` seconds have passed,
    then after gaps that double (30 s, 90 s, 210 s, ... in): a phase of length T prints
    about log2(T / every) lines, and a closing line only if an interim one was printed.
    """

    def __init__(self, total: int | None, desc: str, unit: str = "it", *, every: float = 30.0,
                 logger: logging.Logger | None = None, mode: str | None = None) -> None:  # fmt: skip
        self.total, self.desc, self.unit, self.every = total, desc, unit, float(every)
        self.logger = logger or log
        self.mode = mode or progress_mode()
        self.n = 0
        self.postfix = ""
        self.lines = 0
        self._start = self._last = time.monotonic()
        self._gap = self.every
        self._bar = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True, file=sys.stderr,
                             bar_format=BAR_FORMAT)  # fmt: skip

    def add_total(self, n: int) -> None:
        self.total = (self.total or 0) + int(n)
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        if self._bar is not None:
            if postfix is not None:
                self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.update(n)
        elif self.mode == "log" and time.monotonic() - self._last >= self._gap:
            self._line()
            self._gap *= 2

    def set(self, n: int, postfix: str | None = None) -> None:
        """Jump to step ``n`` (e.g. the end of a stage that finished early)."""
        self.update(max(0, n - self.n), postfix)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "log" and self.lines:
            self._line("done: ")

    def _line(self, prefix: str = "") -> None:
        self._last = time.monotonic()
        self.lines += 1
        self.logger.info("%s: %s%s, %s%s", self.desc, prefix, self.count(), _seconds(self._last - self._start),
                         f" ({self.postfix})" if self.postfix else "")  # fmt: skip

    def count(self) -> str:
        """``n/total unit (pct)``, or ``n unit`` while the total is unknown."""
        if not self.total:
            return f"{self.n} {self.unit}"
        return f"{self.n}/{self.total} {self.unit} ({100 * self.n / self.total:.0f}%)"

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _seconds(s: float) -> str:
    return f"{s:.0f}s" if s < 120 else f"{s / 60:.1f}min"
