"""``python -m gogooku3.serve [key=value ...]``: the prediction API on one uvicorn worker.

Overrides are Hydra's, on conf/serve.yaml (the ``serving`` group and ``paths``), e.g.
``serving.port=8600 serving.store_root=/data/predictions``. It binds 127.0.0.1 unless
``serving.host`` says otherwise. Secrets come from the environment (see conf/serving).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USAGE = "usage: python -m gogooku3.serve [serving.port=8500 serving.store_root=... ...]"


def compose(overrides: list[str]):  # noqa: ANN201 - an OmegaConf node
    """The composed ``serve`` root (``serving``, ``storage``, ``monitoring``, ``paths``); one-line ConfigError on a bad value."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from gogooku3.config import register
    from gogooku3.errors import ConfigError

    os.environ.setdefault("PROJECT_ROOT", str(ROOT))
    register()
    try:
        with initialize_config_dir(str(ROOT / "conf"), version_base=None):
            return hydra_compose("serve", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(str(exc).strip().splitlines()[0]) from None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(USAGE + "\n" + __doc__)
        return 0
    from gogooku3.errors import GogookuError

    try:
        root = compose(args)
        cfg = root.serving
        import uvicorn

        from gogooku3.serving.app import create_app
        from gogooku3.serving.settings import from_config

        app = create_app(from_config(cfg, storage=root.storage, monitoring=root.monitoring))
    except GogookuError as exc:
        print(f"gogooku3: error: {exc}", file=sys.stderr)
        return 2
    print(f"gogooku3 API on http://{cfg.host}:{cfg.port} (store {cfg.store_root})", file=sys.stderr)
    uvicorn.run(app, host=cfg.host, port=int(cfg.port), workers=1, access_log=False, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
