"""Draw a run's ``lineage/lineage.json`` as a PNG graph (matplotlib only; no graphviz binary).

Each pipeline step is a box (name, seconds, and per output: rows x columns, date range,
digest); an arrow joins every step named in another step's ``inputs`` to that step.
Columns are dependency depth, so data flows left to right; boxes are measured before they
are placed, so labels never overlap.
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


FONT_SIZE = 9  # points: readable where the MLflow UI shows the PNG at its own size
DPI = 100
WRAP = 44  # characters per label line; longer lines wrap
GAP_X, GAP_Y, MARGIN = 0.8, 0.35, 0.3  # inches between columns, between boxes, around the graph


def _wrapped(label: str) -> str:
    import textwrap

    lines = []
    for line in label.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        lines.extend(textwrap.wrap(line, WRAP, subsequent_indent=indent + "  ", break_on_hyphens=False) or [""])
    return "\n".join(lines)


def draw_lineage(lineage: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The lineage figure and its step boxes (matplotlib texts) by name.

    Boxes are measured first, then placed: each column as wide as its widest box, each box
    below the previous one with a gap, so no two labels overlap whatever their length; the
    figure is sized to the result.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    graph = lineage_graph(lineage)
    columns: dict[int, list[str]] = {}
    for name in graph.nodes:
        columns.setdefault(graph.depth[name], []).append(name)
    fig = plt.figure(figsize=(8, 6), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    boxes = {}
    for name in graph.nodes:
        external = name in graph.external
        boxes[name] = ax.text(
            0, 0, _wrapped(graph.labels[name]), ha="center", va="center", fontsize=FONT_SIZE, family="monospace",
            bbox={"boxstyle": "round,pad=0.4", "fc": "#eeeeee" if external else "#dbe9f6",
                  "ec": "#888888" if external else "#2c6fbb"},
        )  # fmt: skip
    fig.canvas.draw()  # sizes each box patch around its text
    renderer = fig.canvas.get_renderer()
    size = {}  # inches; text size does not depend on the figure's size, only on its dpi
    for name, box in boxes.items():
        extent = box.get_bbox_patch().get_window_extent(renderer)
        size[name] = (extent.width / DPI, extent.height / DPI)
    widths = {c: max(size[n][0] for n in names) for c, names in columns.items()}
    heights = {c: sum(size[n][1] for n in names) + GAP_Y * (len(names) - 1) for c, names in columns.items()}
    order = sorted(columns)
    total_w = sum(widths.values()) + GAP_X * (len(order) - 1) + 2 * MARGIN
    title_h = 0.4
    total_h = max(heights.values(), default=1.0) + 2 * MARGIN + title_h
    position: dict[str, tuple[float, float]] = {}
    x = MARGIN
    for col in order:
        centre_x = x + widths[col] / 2
        y = MARGIN + (max(heights.values()) + heights[col]) / 2  # columns centred vertically, top down
        for name in columns[col]:
            height = size[name][1]
            position[name] = (centre_x, y - height / 2)
            y -= height + GAP_Y
        x += widths[col] + GAP_X
    fig.set_size_inches(total_w, total_h)
    ax.set_xlim(0, total_w)
    ax.set_ylim(0, total_h)  # with the axes filling the figure, one data unit is one inch
    for name, box in boxes.items():
        box.set_position(position[name])
    for src, dst in graph.edges:
        (sx, sy), (dx, dy) = position[src], position[dst]
        ax.annotate(
            "", xy=(dx - size[dst][0] / 2, dy), xytext=(sx + size[src][0] / 2, sy),
            arrowprops={"arrowstyle": "-|>", "color": "#555555", "shrinkA": 1, "shrinkB": 1},
        )  # fmt: skip
    run = lineage.get("run") or {}
    if run.get("git_sha"):
        dirty = " (dirty)" if run.get("git_dirty") else ""
        ax.text(total_w / 2, total_h - title_h / 2 - MARGIN / 2, f"lineage  code {_short(run['git_sha'])}{dirty}",
                ha="center", va="center", fontsize=FONT_SIZE + 1)  # fmt: skip
    return fig, boxes


def render_lineage(lineage: dict[str, Any], path: Path) -> Path:
    """Draw ``lineage`` as a left-to-right graph and save it as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig, _ = draw_lineage(lineage)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
