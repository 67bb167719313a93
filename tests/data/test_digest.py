from __future__ import annotations

import polars as pl

from gogooku3.data.digest import combine_digests, frame_sha256


def test_digest_ignores_chunking_but_not_values_nulls_or_names():
    frame = pl.DataFrame({"Code": ["13010", "13020", None], "x": [1.0, None, 3.0]})
    rechunked = pl.concat([frame.head(1), frame.tail(2)], rechunk=False)
    assert frame_sha256(frame) == frame_sha256(rechunked)
    assert frame_sha256(frame) != frame_sha256(frame.with_columns(pl.col("x").fill_null(0.0)))
    assert frame_sha256(frame) != frame_sha256(frame.rename({"x": "y"}))
    assert frame_sha256(frame) != frame_sha256(frame.with_columns(pl.col("Code").fill_null("")))


def test_digest_covers_rows_past_ten_thousand():
    frame = pl.DataFrame({"x": [0.0] * 20_000})
    changed = frame.with_columns(pl.when(pl.int_range(pl.len()) == 19_999).then(1.0).otherwise(pl.col("x")).alias("x"))
    assert frame_sha256(frame) != frame_sha256(changed)


def test_combine_is_order_sensitive():
    assert combine_digests({"a": "1", "b": "2"}) != combine_digests({"b": "2", "a": "1"})
