"""``paths`` group. PROJECT_ROOT is set by train.py to its own directory when unset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Paths:
    root_dir: str = "${oc.env:PROJECT_ROOT}"
    output_dir: str = "${paths.root_dir}/outputs"
    data_dir: str = "${paths.output_dir}/data"
