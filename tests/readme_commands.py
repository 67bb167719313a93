"""Find the shell commands in the README's code blocks and say how the suite runs each one.

Each command runs as written, with two kinds of change only, both listed per command in
:func:`plan`: sizes are shrunk by *appended* overrides or flags (the last value wins), and
every output goes to the test's own folder (a private MLflow store, ``HOME`` and ports).
A README command this module cannot place fails the suite, so no command goes untested.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYTHONS = ("python", ".venv/bin/python")

# A small market, short walk-forward and tiny models: each training command in seconds.
TRAIN_SMALL = [
    "data.n_stocks=40",
    "data.start=2021-06-01",
    "data.end=2022-12-31",
    "split.n_folds=1",
    "split.test_days=40",
    "split.valid_days=30",
    "split.min_train_days=100",
]
MODEL_SMALL = {
    "lightgbm": ["model.params.num_threads=1", "model.num_boost_round=30", "model.early_stopping_rounds=10"],
    "atft": ["model.hidden_size=16", "model.lookback=10", "model.data.train_dates_per_epoch=16",
             "trainer.max_epochs=1", "model.graph.window=20", "model.graph.min_periods=5"],
}
SWEEP_SMALL = ["hydra.sweeper.n_trials=2"]
# Against the loopback server: no client-side rate limit, the free plan's four tables.
JQUANTS_FAST = ["data.rate_limit_per_minute=0", "data.endpoints=[calendar,master,bars,topix]", "data.progress=false"]

BENCH_SMALL = {
    "scripts/bench_synthetic.py": ["--n-stocks", "40", "--start", "2022-01-01", "--end", "2022-06-30"],
    "scripts/bench_features.py": ["--stocks", "40", "--sessions", "150"],
    "scripts/bench_quality.py": ["--n-stocks", "40", "--start", "2021-01-01", "--end", "2022-06-30", "--repeat", "1"],
    "scripts/bench_ingest.py": ["--n-stocks", "20", "--start", "2022-01-04", "--end", "2022-02-28"],
    "scripts/bench_atft.py": ["--stocks", "40", "--graph-stocks", "100", "--steps", "1"],
}
# Targets that run this suite itself: checked with `make -n` (the recipe resolves), not run.
SELF_SUITE = {"test", "test-fast"}


@dataclass(frozen=True)
class Command:
    """One README command: its text, the argv it parses to, and leading VAR=value words."""

    text: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


@dataclass
class Plan:
    """How the suite runs a command: the argv, extra env, and whether it is a server to probe."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    server: bool = False
    needs_run_id: bool = False
    needs_jquants_server: bool = False
    changes: list[str] = field(default_factory=list)


def is_training(command: Command) -> bool:
    """Commands that train (the costly half of the README: the suite runs them in their own file)."""
    return "train.py" in command.argv or command.argv[:2] == ("make", "train")


def readme_commands(path: Path = README) -> list[Command]:
    """Every distinct command line in the ``bash`` code blocks, in order (continuations joined)."""
    commands, block, pending = [], False, ""
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            block = line.strip() == "```bash" and not block
            continue
        if not block:
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        words = shlex.split(text, comments=True)
        if not words:
            continue
        env = []
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            key, _, value = words.pop(0).partition("=")
            env.append((key, value))
        command = Command(text.split(" #")[0].strip(), tuple(words), tuple(env)) if words else None
        if command and command not in commands:
            commands.append(command)
    return commands


def plan(command: Command, out: Path) -> Plan:
    """The argv and environment the suite uses for ``command``; ValueError if it is unknown."""
    words = list(command.argv)
    env = dict(command.env)
    head = words[0]
    if head in PYTHONS:
        words[0] = sys.executable
        return _python(words, env, out)
    if head == ".venv/bin/pytest":
        return Plan([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *words[1:]], env)
    if head == "make":
        return _make(words, env, out)
    raise ValueError(f"README command not covered by tests/readme_commands.py: {command.text}")


def _python(words: list[str], env: dict[str, str], out: Path) -> Plan:
    store = f"sqlite:///{out}/mlflow.db"
    if words[1] == "-m" and words[2] == "gogooku3.data.jquants.server":
        return Plan(words + ["--n-stocks", "20", "--start", "2022-01-04", "--end", "2022-12-30"], env, server=True,
                    changes=["small synthetic market"])
    script = words[1]
    if script == "train.py":
        return _train(words, env, out)
    if script == "scripts/ingest.py":
        extra = [f"paths.output_dir={out}", "data.start=2022-01-04", "data.end=2022-02-28", *JQUANTS_FAST]
        return Plan(words + extra, env, needs_jquants_server=True, changes=extra)
    if script in BENCH_SMALL:
        return Plan(words + BENCH_SMALL[script], env, changes=BENCH_SMALL[script])
    if script in ("scripts/reproduce.py", "scripts/compare_runs.py", "scripts/experiment_report.py"):
        argv = [w for w in words if not (w.startswith("<") or w.startswith("[") or w.endswith(">") or w.endswith("]"))]
        needs_id = any(w.startswith("<") for w in words)
        return Plan(argv + ["--tracking-uri", store], env, needs_run_id=needs_id, changes=["the test's MLflow store"])
    raise ValueError(f"README python command not covered: {' '.join(words[1:])}")


def _train(words: list[str], env: dict[str, str], out: Path) -> Plan:
    args = words[2:]
    if "--cfg" in args or "--help" in args:
        return Plan(words, env)
    extra = TRAIN_SMALL + MODEL_SMALL[_model(args)]
    if any(a.startswith("hparams_search=") for a in args):
        extra += SWEEP_SMALL
    if any(a in ("data=jquants", "data=jquants_local") for a in args):
        extra += ["data.start=2022-01-04", "data.end=2022-12-30", *JQUANTS_FAST]
    if "data=parquet" in args:  # the file decides the market's size and dates (the test writes ~/quotes.parquet)
        extra = [e for e in extra if not e.startswith(("data.n_stocks", "data.start", "data.end"))]
    if "data=jquants" in args:  # the server decides the universe
        extra = [e for e in extra if not e.startswith("data.n_stocks")]
    extra.append(f"paths.output_dir={out}")
    multirun = "-m" in args or "--multirun" in args
    if not multirun:
        extra.append(f"hydra.run.dir={out}/run")
    return Plan(words + extra, env, needs_jquants_server="data=jquants" in args and "data.base_url" in " ".join(args),
                changes=extra)


def _model(args: list[str]) -> str:
    """The model a train.py command trains: named directly, or through a sweep or experiment."""
    picks = [a.split("=", 1)[1] for a in args if a.startswith(("model=", "hparams_search=", "experiment="))]
    return "atft" if any(p.startswith("atft") for p in picks) else "lightgbm"


def _make(words: list[str], env: dict[str, str], out: Path) -> Plan:
    target = words[1] if len(words) > 1 else "help"
    if target in SELF_SUITE:
        return Plan(["make", "-n", *words[1:]], env, changes=["make -n: this target runs the suite itself"])
    if target == "train":
        args = " ".join(TRAIN_SMALL + MODEL_SMALL["lightgbm"] + [f"paths.output_dir={out}", f"hydra.run.dir={out}/run"])
        return Plan(words + [f"ARGS={args}"], env, changes=[f"ARGS={args}"])
    if target == "mlflow-ui":
        return Plan(words + [f"MLFLOW_DB={out}/mlflow.db"], env, server=True, changes=["the test's store and port"])
    if target == "help":
        return Plan(words, env)
    raise ValueError(f"README make target not covered: {' '.join(words)}")
