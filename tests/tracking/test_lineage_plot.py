"""Lineage rendering: the graph follows the steps' inputs and the PNG is a real image."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from gogooku3.errors import DataError
from gogooku3.tracking.lineage import Lineage, describe_frame
from gogooku3.tracking.lineage_plot import lineage_graph, render_lineage


def _pipeline_lineage() -> dict:
    """A lineage recorded the way the pipeline records it, over a tiny frame."""
    quotes = pl.DataFrame(
        {"Code": ["1301", "1301", "7203"], "Date": [date(2024, 1, 4), date(2024, 1, 5), date(2024, 1, 4)],
         "Close": [1.0, 2.0, 3.0]}
    )  # fmt: skip
    lineage = Lineage(run={"git_sha": "0123456789abcdef0123", "git_dirty": False})
    with lineage.step("ingest", params={"source": "synthetic"}) as step:
        step["outputs"]["quotes"] = {**describe_frame(quotes, digest=False), "data_digest": "654a846bbf79" + "0" * 52}
    with lineage.step("features", inputs=["ingest"]) as step:
        step["outputs"]["features"] = describe_frame(quotes.with_columns(ret=pl.col("Close").pct_change()), digest=False)
    with lineage.step("targets", inputs=["ingest"]) as step:
        step["outputs"]["targets"] = describe_frame(quotes, digest=False)
    with lineage.step("split", inputs=["features", "targets"]) as step:
        step["outputs"]["folds"] = [{"train_start": "2024-01-04"}]
    with lineage.step("train_fold0", inputs=["split"]) as step:
        step["outputs"]["validation"] = {"val/rank_ic_h1": 0.05}
    return lineage.to_dict()


def test_graph_follows_step_inputs():
    graph = lineage_graph(_pipeline_lineage())
    assert graph.nodes == ["ingest", "features", "targets", "split", "train_fold0"]
    assert sorted(graph.edges) == sorted(
        [("ingest", "features"), ("ingest", "targets"), ("features", "split"), ("targets", "split"), ("split", "train_fold0")]
    )
    assert graph.depth == {"ingest": 0, "features": 1, "targets": 1, "split": 2, "train_fold0": 3}
    label = graph.labels["ingest"]
    assert "quotes: 3 rows x 3 cols" in label and "2024-01-04 .. 2024-01-05" in label
    assert "digest 654a846bbf79" in label and "features: 3 rows x 4 cols" in graph.labels["features"]
    assert "val/rank_ic_h1 = 0.05" in graph.labels["train_fold0"]


def test_unknown_inputs_become_external_sources():
    graph = lineage_graph({"steps": [{"name": "ingest", "inputs": ["s3://bucket/quotes.parquet"]}]})
    assert graph.external == {"s3://bucket/quotes.parquet"}
    assert graph.depth == {"s3://bucket/quotes.parquet": 0, "ingest": 1}


def test_render_writes_a_png(tmp_path):
    import matplotlib.image as mpimg

    out = render_lineage(_pipeline_lineage(), tmp_path / "plots" / "lineage.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = mpimg.imread(out)
    assert image.shape[0] > 100 and image.shape[1] > 300
    # not a blank canvas: boxes and arrows leave non-white pixels
    assert (image[..., :3] < 0.9).any()


@pytest.mark.parametrize(
    ("lineage", "message"),
    [
        ({"run": {}}, "lineage.steps: expected a list of steps"),
        ({"steps": [{"inputs": []}]}, "lineage.steps: expected a list of steps"),
        ({"steps": [{"name": "a"}, {"name": "a"}]}, "lineage.steps: step names must be unique, repeated: ['a']"),
    ],
)
def test_malformed_lineage_is_a_one_line_error(tmp_path, lineage, message):
    with pytest.raises(DataError) as info:
        render_lineage(lineage, tmp_path / "x.png")
    assert str(info.value) == message or str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "x.png").exists()


def _wide_lineage(folds: int = 5) -> dict:
    """A pipeline with many folds, long labels and an external source: what crowds a graph."""
    steps = [{"name": "ingest", "inputs": ["s3://bucket/a/very/long/prefix/of/daily/quotes/2024/quotes.parquet"],
              "outputs": {"quotes": {"rows": 12_345_678, "columns": 9, "date_range": ["2015-01-05", "2024-12-30"],
                                     "data_digest": "ab" * 32}}},  # fmt: skip
             {"name": "features", "inputs": ["ingest"], "outputs": {"features": {"rows": 12_345_678, "columns": 431}}},
             {"name": "split", "inputs": ["ingest"], "outputs": {"folds": [{}] * folds}}]
    for k in range(folds):
        metrics = {f"val/rank_ic_h{h}": 0.01 * h for h in (1, 5, 10, 20)}
        steps.append({"name": f"train_fold{k}", "inputs": ["split", "features"], "seconds": 12.5,
                      "outputs": {"validation": metrics}})  # fmt: skip
        steps.append({"name": f"predict_fold{k}", "inputs": [f"train_fold{k}"],
                      "outputs": {"predictions": {"rows": 98_765, "columns": 10, "date_range": ["2024-01-04", "2024-12-30"]}}})  # fmt: skip
    steps.append({"name": "evaluate", "inputs": [f"predict_fold{k}" for k in range(folds)],
                  "outputs": {"metrics": {f"test/oracle_capture_h{h}": 0.5 for h in (1, 5, 10, 20)}}})  # fmt: skip
    return {"run": {"git_sha": "0123456789abcdef0123", "git_dirty": True}, "steps": steps}


@pytest.mark.parametrize("folds", [1, 5, 12])
def test_no_two_labels_overlap(folds):
    import matplotlib.pyplot as plt

    from gogooku3.tracking.lineage_plot import draw_lineage

    fig, boxes = draw_lineage(_wide_lineage(folds))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        extents = {name: box.get_bbox_patch().get_window_extent(renderer) for name, box in boxes.items()}
        from matplotlib.text import Annotation

        (title,) = [t for t in fig.axes[0].texts if not isinstance(t, Annotation) and t not in boxes.values()]
        extents["(title)"] = title.get_window_extent(renderer)
        figure = fig.bbox
        names = sorted(extents)
        for i, a in enumerate(names):
            box = extents[a]
            assert figure.x0 <= box.x0 and box.x1 <= figure.x1 and figure.y0 <= box.y0 and box.y1 <= figure.y1, a
            for b in names[i + 1 :]:
                assert not box.overlaps(extents[b]), (a, b)
    finally:
        plt.close(fig)


def test_labels_wrap_and_keep_a_readable_font():
    from gogooku3.tracking.lineage_plot import FONT_SIZE, WRAP, draw_lineage

    import matplotlib.pyplot as plt

    fig, boxes = draw_lineage(_wide_lineage(2))
    try:
        assert FONT_SIZE >= 8
        lines = [line for box in boxes.values() for line in box.get_text().splitlines()]
        assert max(len(line) for line in lines) <= WRAP
        assert any("quotes.parquet" in line for line in lines)  # the long source name is wrapped, not cut
    finally:
        plt.close(fig)
