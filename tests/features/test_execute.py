"""How groups run: chunk layout of the panel, blocks of dates, the join on sorted codes."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from featurekit import load_set

from gogooku3.errors import DataError
from gogooku3.features import build_features, execute
from gogooku3.features.context import FeatureContext
from gogooku3.features.prepare import adjust, prepare


def test_every_panel_column_shares_one_chunk_layout(messy_market, monkeypatch):
    """Columns chunked differently make polars copy the whole panel at the next operation."""
    monkeypatch.setattr(execute, "CHUNK_ROWS", 2500)
    monkeypatch.setattr(execute, "DATE_BLOCK_ROWS", 1000)
    frame = build_features(messy_market, load_set("standard")).frame
    layouts = {tuple(len(c) for c in frame.get_column(name).get_chunks()) for name in frame.columns}
    assert len(layouts) == 1
    assert len(next(iter(layouts))) > 1


def test_date_blocks_hold_whole_dates_and_every_row_once():
    rng = np.random.default_rng(0)
    codes = [np.sort(rng.integers(lo, lo + 40, 3000)) for lo in (0, 7)]  # two codes' dates, in order
    dates = pl.Series("Date", np.concatenate(codes).astype(np.int32)).cast(pl.Date)
    blocks = list(execute._date_blocks(dates, 500))
    rows = np.concatenate([b.to_numpy() for b in blocks])
    assert np.array_equal(np.sort(rows), np.arange(dates.len()))
    assert all(np.all(np.diff(b.to_numpy()) > 0) for b in blocks)  # in panel order
    seen: set = set()
    for b in blocks:
        block_dates = set(dates.gather(b).to_list())
        assert not block_dates & seen
        seen |= block_dates
        assert b.len() <= 500 or len(block_dates) == 1
    assert len(blocks) > 5


def _ctx(frame: pl.DataFrame) -> FeatureContext:
    return FeatureContext(market=None, frame=frame.lazy(), sessions=pl.Series([]), base=frame)


def test_join_on_code_is_a_left_join():
    frame = pl.DataFrame({"Code": ["1", "1", "2", "3", "3", "3"], "x": range(6)})
    table = pl.DataFrame({"Code": ["3", "1", "9"], "s": ["c", "a", "z"]})
    ctx = _ctx(frame)
    ctx.join_on_code(table)
    expected = frame.join(table, on="Code", how="left", maintain_order="left")
    assert ctx.frame.collect().equals(expected)


def test_join_on_code_refuses_repeated_codes():
    ctx = _ctx(pl.DataFrame({"Code": ["1", "2"], "x": [0, 1]}))
    with pytest.raises(DataError, match="one row per Code"):
        ctx.join_on_code(pl.DataFrame({"Code": ["1", "1", "2"], "s": ["a", "b", "c"]}))


def test_a_group_may_read_columns_through_selectors(feat_market, monkeypatch):
    """Only the columns features name are materialized; selectors and literals still work."""
    from gogooku3.features.ops import CLOSE
    from gogooku3.features.registry import GROUPS, GroupDef, get_group

    def probe(ctx):
        return [ctx.feature("n_adjusted", pl.sum_horizontal(pl.col(pl.Float64).is_not_null().cast(pl.Float64)),
                            ("Close",)),
                ctx.feature("one", pl.lit(1.0), ()),
                ctx.feature("close_again", pl.col(CLOSE), ("Close",))]

    get_group("price")
    monkeypatch.setitem(GROUPS, "probe", GroupDef("probe", probe))
    frame = build_features(feat_market, {"probe": {}}).frame
    n_float = sum(dtype == pl.Float64 for dtype in adjust(prepare(feat_market)[0]).schema.values())
    assert frame.height == feat_market.quotes.height
    assert frame["one"].eq(1.0).all()
    assert frame["n_adjusted"].max() == n_float  # the selector saw every Float64 column
