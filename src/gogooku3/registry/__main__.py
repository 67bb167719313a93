"""``python -m gogooku3.registry register|promote|rollback|list``: thin, one line per error.

Exit codes: 0 done, 1 refused (gate 4, nothing to roll back), 2 bad input (unknown run or
version, a run that is not deployable, a missing --reason, a bad setting).
Settings are the ``registry`` schema's defaults (no Hydra at start), changed by
``--config FILE`` (a YAML of registry keys, e.g. conf/registry/*.yaml) and ``--set key=value``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from gogooku3.config.registry import RegistrySettings
from gogooku3.errors import ConfigError, GogookuError
from gogooku3.registry import names
from gogooku3.registry.errors import RegistryError

REPO = Path(__file__).resolve().parents[3]


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the project store ``outputs/mlflow.db`` (as the run tools)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{REPO / 'outputs' / 'mlflow.db'}"


def load_settings(config: str | None = None, overrides: list[str] | None = None) -> RegistrySettings:
    """The schema's defaults, then a YAML file's keys, then ``key=value`` overrides, type-checked."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    settings = OmegaConf.structured(RegistrySettings)
    try:
        if config:
            path = Path(config)
            if not path.is_file():
                raise ConfigError(f"--config {config}: no such file")
            loaded = OmegaConf.load(path)
            own = {k: v for k, v in (OmegaConf.to_container(loaded) or {}).items() if k != "defaults"}
            settings = OmegaConf.merge(settings, own)
        items = [o.removeprefix("registry.") for o in overrides or []]
        for item in items:
            if "=" not in item:
                raise ConfigError(f"--set {item}: expected key=value, e.g. floors.rank_ic=0.02")
        if items:
            settings = OmegaConf.merge(settings, OmegaConf.from_dotlist(items))
        return OmegaConf.to_object(settings)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"registry settings: {str(exc).splitlines()[0]}") from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--tracking-uri", default=None, help="MLflow store (default: $MLFLOW_TRACKING_URI or outputs/mlflow.db)")
    common.add_argument("--name", default=None, help=f"registered model (default: {names.DEFAULT_MODEL_NAME})")
    common.add_argument("--config", default=None, help="YAML of registry settings (keys: gogooku3/config/registry.py)")
    common.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a registry setting, e.g. floors.rank_ic=0.02")
    acting = argparse.ArgumentParser(add_help=False)
    acting.add_argument("--reason", default=None, help="why (required; logged with who and when)")
    acting.add_argument("--who", default=None, help="who acts (default: the OS user)")
    parser = argparse.ArgumentParser(prog="python -m gogooku3.registry", description="Model registry: aliases and gate 4.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    register = verbs.add_parser("register", parents=[common, acting], help="a new version from a deployable run")
    register.add_argument("--run", required=True, help="run id of a train.py deploy=true run")
    promote = verbs.add_parser("promote", parents=[common, acting], help="gate 4, then move champion")
    promote.add_argument("--version", required=True, help="model version number")
    verbs.add_parser("rollback", parents=[common, acting], help="champion <- previous (swap)")
    verbs.add_parser("list", parents=[common], help="versions with aliases, RankIC and canary")
    return parser


def _table(versions: list) -> str:
    rows = []
    for v in versions:
        ic = v.metrics.get(names.TEST_RANK_IC.format(h=1))
        rows.append([v.version, ",".join(v.aliases) or "-", v.created.strftime("%Y-%m-%d %H:%M:%SZ"),
                     (v.run_id or "-")[:12], "-" if ic is None else f"{ic:.4f}",
                     v.tags.get(names.CANARY_PASSED_TAG, "-")])  # fmt: skip
    header = ["version", "aliases", "created (UTC)", "run", "RankIC h1", "canary"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def run(args: argparse.Namespace) -> int:
    from gogooku3.registry.versions import Registry

    settings = load_settings(args.config, args.set)
    name = args.name or settings.model_name
    registry = Registry(args.tracking_uri or default_tracking_uri(), settings)
    if args.verb == "list":
        versions = registry.list(name)
        print(_table(versions) if versions else f"model {name!r}: no versions in {registry.uri}")
    elif args.verb == "register":
        v = registry.register(args.run, name, args.reason, args.who)
        print(f"registered {name} version {v.version} from run {args.run} ({v.source})")
    elif args.verb == "promote":
        result = registry.promote(name, args.version, args.reason, args.who)
        previous = registry.by_alias(name, names.PREVIOUS)
        print(f"promoted {name} version {args.version} to {names.CHAMPION} "
              f"({names.PREVIOUS}: {previous.version if previous else '-'}); {result.message}")  # fmt: skip
    elif args.verb == "rollback":
        v = registry.rollback(name, args.reason, args.who)
        previous = registry.by_alias(name, names.PREVIOUS)
        print(f"rolled back {name}: {names.CHAMPION} is version {v.version} "
              f"({names.PREVIOUS}: {previous.version if previous else '-'})")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # the console is for people
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    try:
        return run(args)
    except RegistryError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
