"""Registers gogooku3's config-group schemas when Hydra scans its plugins.

Hydra imports every ``hydra_plugins.*`` module before it composes a config, so every
entry point (train.py, the compose API in tests and scripts, sweeps) sees the schemas
that the option files under conf/ extend.
"""

from gogooku3.config import register

register()
