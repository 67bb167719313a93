"""``python -m gogooku3.monitoring render|start|stop [--out DIR] [key=value ...]``.

render: write the Prometheus and Alertmanager files for conf/monitor.yaml (+ overrides) under
--out (default ops/, the committed copy). start: render into --out (default outputs/monitor/)
with receiver secrets from the environment, start Prometheus, the Pushgateway and Alertmanager
on loopback and record their PIDs there. stop: end exactly the PIDs recorded under --out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gogooku3.monitoring", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["render", "start", "stop"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides on conf/monitor.yaml")
    args = parser.parse_intermixed_args(argv)
    from gogooku3.errors import GogookuError
    from gogooku3.monitoring import render, stack

    out = args.out or (render.ROOT / "ops" if args.action == "render" else Path("outputs/monitor"))
    try:
        if args.action == "stop":
            pids = stack.stop(out)
            print(f"ended {pids}" if pids else f"{out}: no PID files; nothing to stop")
            return 0
        cfg = render.compose(args.overrides)
        if args.action == "render":
            for path in render.render(cfg, out):
                print(path)
            return 0
        routing = cfg["monitoring"]["routing"]
        for env in stack.unset_secrets(routing):
            print(f"warning: neither {env} nor {env}_FILE is set: its receiver cannot deliver", file=sys.stderr)
        secrets = stack.secret_files(routing, out.resolve() / "alertmanager" / "secrets")
        render.render(cfg, out, secrets)
        pids = stack.start(cfg["monitoring"]["stack"], out.resolve())
        s = cfg["monitoring"]["stack"]
        print(" ".join(f"{k} pid {v}" for k, v in pids.items()))
        print(f"Prometheus http://{s['host']}:{s['prometheus_port']}  Pushgateway http://{s['host']}:"
              f"{s['pushgateway_port']}  Alertmanager http://{s['host']}:{s['alertmanager_port']}")  # fmt: skip
    except (GogookuError, RuntimeError, OSError) as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
