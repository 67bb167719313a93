"""Typed schemas of every config group, registered as the groups' base schemas in Hydra.

Each option file under ``conf/<group>/`` starts from its schema
(``defaults: [/schema/<group>/<name>@_here_, _self_]``) and sets only what differs, so
each key has one type and one default. :func:`register` runs when Hydra discovers
plugins (``hydra_plugins.gogooku3_config``), before any config is composed; importing
this package is light (dataclasses only), so ``train.py --cfg job`` stays fast.
"""

from __future__ import annotations

_registered = False


def register() -> None:
    """Store every schema in Hydra's ConfigStore under ``schema/<group>/<name>`` (idempotent)."""
    global _registered
    if _registered:
        return
    from hydra.core.config_store import ConfigStore

    from gogooku3.config.groups import SCHEMAS

    store = ConfigStore.instance()
    for (group, name), node in SCHEMAS.items():
        store.store(group=f"schema/{group}", name=name, node=node, provider="gogooku3")
    _registered = True
