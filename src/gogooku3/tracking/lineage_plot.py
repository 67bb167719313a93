"""Draw a run's ``lineage/lineage.json`` as a PNG graph (matplotlib only; no graphviz binary).

Each pipeline step is a box (name, seconds, and per output: rows x columns, date range,
digest); an arrow joins every step named in another step's ``inputs`` to that step.
Columns are dependency depth, so data flows left to right.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gogooku3.errors import DataError


@dataclass(frozen=True)
class LineageGraph:
    """Steps placed in columns by dependency depth."""

    nodes: list[str]  # step names in lineage order, then unknown inputs (external sources)
    edges: list[tuple[str, str]]  # (input, step)
    depth: dict[str, int]
    labels: dict[str, str]
    external: set[str]


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] if len(text) > 16 and all(c in "0123456789abcdef" for c in text.lower()) else text


def _describe_output(name: str, info: Any) -> list[str]:
    if not isinstance(info, dict):
        return [f"{name}: {len(info)} items" if isinstance(info, list) else f"{name}"]
    lines = []
    rows, columns = info.get("rows"), info.get("columns")
    head = name
    if rows is not None:
        head += f": {rows:,} rows" + (f" x {columns} cols" if columns is not None else "")
    lines.append(head)
    if info.get("date_range"):
        first, last = info["date_range"][0], info["date_range"][-1]
        lines.append(f"  {first} .. {last}")
    digest = info.get("sha256") or info.get("data_digest") or info.get("digest")
    if digest:
        lines.append(f"  digest {_short(digest)}")
    if rows is None:  # a small result record, e.g. validation scores: show its first values
        scalars = [(k, v) for k, v in info.items() if isinstance(v, int | float) and not isinstance(v, bool)]
        lines.extend(f"  {k} = {v:.4g}" for k, v in scalars[:3])
    return lines


def lineage_graph(lineage: dict[str, Any]) -> LineageGraph:
    """Nodes, edges and depths of a lineage dict (``{"run": ..., "steps": [...]}``)."""
    steps = lineage.get("steps") if isinstance(lineage, dict) else None
    if not isinstance(steps, list) or not all(isinstance(s, dict) and "name" in s for s in steps):
        raise DataError("lineage.steps: expected a list of steps, each a mapping with a 'name'")
    names = [str(s["name"]) for s in steps]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise DataError(f"lineage.steps: step names must be unique, repeated: {duplicated}")
    known = set(names)
    edges = [(str(i), str(s["name"])) for s in steps for i in s.get("inputs") or []]
    external = {src for src, _ in edges if src not in known}
    depth = {name: 0 for name in external}
    for step in steps:  # steps are in execution order, so inputs are placed first
        parents = [depth.get(str(i), 0) for i in step.get("inputs") or []]
        depth[str(step["name"])] = 1 + max(parents) if parents else 0
    labels = {name: name for name in external}
    for step in steps:
        lines = [str(step["name"])]
        if step.get("seconds") is not None:
            lines[0] += f"  ({float(step['seconds']):.2f} s)"
        outputs = step.get("outputs") or {}
        for out_name, info in outputs.items() if isinstance(outputs, dict) else []:
            lines.extend(_describe_output(str(out_name), info))
        labels[str(step["name"])] = "\n".join(lines)
    return LineageGraph(names + sorted(external), edges, depth, labels, external)


def render_lineage(lineage: dict[str, Any], path: Path) -> Path:
    """Draw ``lineage`` as a left-to-right graph and save it as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    graph = lineage_graph(lineage)
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:
        columns.setdefault(graph.depth[name], []).append(name)
    tallest = max((len(v) for v in columns.values()), default=1)
    width, height = 3.4 * max(len(columns), 1), 1.9 * tallest + 1.0
    fig, ax = plt.subplots(figsize=(max(width, 6.0), max(height, 3.0)))
    position = {  # each column centred on y = 0
        name: (col * 3.4, ((len(names) - 1) / 2 - row) * 1.9)
        for col, names in columns.items()
        for row, name in enumerate(names)
    }
    boxes = {}
    for name, (x, y) in position.items():
        external = name in graph.external
        boxes[name] = ax.text(
            x, y, graph.labels[name], ha="center", va="center", fontsize=7, family="monospace",
            bbox={"boxstyle": "round,pad=0.4", "fc": "#eeeeee" if external else "#dbe9f6",
                  "ec": "#888888" if external else "#2c6fbb"},
        )  # fmt: skip
    xs = [p[0] for p in position.values()] or [0.0]
    ys = [p[1] for p in position.values()] or [0.0]
    ax.set_xlim(min(xs) - 1.8, max(xs) + 1.8)
    ax.set_ylim(min(ys) - 1.1, max(ys) + 1.1)
    ax.axis("off")
    fig.canvas.draw()  # lays the text boxes out, so arrows can run edge to edge
    to_data = ax.transData.inverted()
    extent = {name: to_data.transform(box.get_bbox_patch().get_window_extent()) for name, box in boxes.items()}
    for src, dst in graph.edges:
        (_, _), (src_right, _) = extent[src]
        (dst_left, _), (_, _) = extent[dst]
        ax.annotate(
            "", xy=(dst_left, position[dst][1]), xytext=(src_right, position[src][1]),
            arrowprops={"arrowstyle": "-|>", "color": "#555555", "shrinkA": 1, "shrinkB": 1},
        )  # fmt: skip
    run = lineage.get("run") or {}
    if run.get("git_sha"):
        dirty = " (dirty)" if run.get("git_dirty") else ""
        ax.set_title(f"lineage  code {_short(run['git_sha'])}{dirty}", fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
