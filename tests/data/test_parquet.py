from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from gogooku3.data.parquet import ParquetMarketSource
from gogooku3.errors import DataError


@pytest.fixture
def quotes_file(tmp_path: Path, small_market) -> Path:
    path = tmp_path / "quotes.parquet"
    small_market.quotes.write_parquet(path)
    return path


def test_round_trip_keeps_every_row(quotes_file, small_market, tmp_path):
    listed = tmp_path / "listed.parquet"
    small_market.listed.write_parquet(listed)
    market = ParquetMarketSource(str(quotes_file), listed_path=str(listed)).load()
    assert market.quotes.equals(small_market.quotes)
    assert market.listed.equals(small_market.listed)
    assert len(market.digest) == 64 and market.oracle is None


def test_optional_columns_default_and_ints_are_accepted(tmp_path, small_market):
    path = tmp_path / "q.parquet"
    small_market.quotes.drop("TurnoverValue", "AdjustmentFactor").with_columns(
        pl.col("Volume").fill_null(0).cast(pl.Int64)
    ).write_parquet(path)
    market = ParquetMarketSource(str(path)).load()
    assert market.quotes.get_column("AdjustmentFactor").eq(1.0).all()
    assert market.quotes.schema["Volume"] == pl.Float64


def test_digest_changes_with_content(tmp_path, small_market):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    small_market.quotes.write_parquet(a)
    small_market.quotes.with_columns(pl.col("Close") * 1.0001).write_parquet(b)
    assert ParquetMarketSource(str(a)).load().digest != ParquetMarketSource(str(b)).load().digest


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda q: q.drop("Close"), r"missing required column\(s\) \['Close'\]"),
        (lambda q: q.with_columns(pl.col("Close").cast(pl.String)), "column Close has type String; expected Float64"),
        (lambda q: q.with_columns(pl.col("Date").cast(pl.String)), "column Date has type String; expected Date"),
        (lambda q: q.with_columns(pl.lit(None, pl.String).alias("Code")), r"key column\(s\) \['Code'\] contain nulls"),
        (lambda q: q.head(0), "the file has no rows"),
    ],
)
def test_bad_input_gets_one_line_error_naming_file_and_column(tmp_path, small_market, mutate, message):
    path = tmp_path / "bad.parquet"
    mutate(small_market.quotes).write_parquet(path)
    with pytest.raises(DataError, match=message) as info:
        ParquetMarketSource(str(path)).load()
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        ParquetMarketSource(str(tmp_path / "nope.parquet")).load()
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(DataError, match="not a readable parquet file"):
        ParquetMarketSource(str(junk)).load()


def test_content_is_left_to_the_gates_duplicates_and_null_factors_pass_through(tmp_path, small_market):
    path = tmp_path / "q.parquet"
    q = small_market.quotes
    doubled = pl.concat([q, q.head(2).with_columns(pl.col("Close") * 2)])
    doubled.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(None).otherwise(pl.col("AdjustmentFactor"))
                         .alias("AdjustmentFactor")).write_parquet(path)
    market = ParquetMarketSource(str(path)).load()
    assert market.quotes.height == doubled.height and market.absent == ()
    assert market.quotes.get_column("AdjustmentFactor").null_count() == 1
    first = market.quotes.filter((pl.col("Code") == q["Code"][0]) & (pl.col("Date") == q["Date"][0]))
    assert first["Close"].to_list() == [q["Close"][0], q["Close"][0] * 2]  # file order kept within a key


def test_close_only_file_loads_with_absent_columns_as_nulls(tmp_path, small_market):
    path = tmp_path / "close.parquet"
    small_market.quotes.select("Code", "Date", "Close").write_parquet(path)
    market = ParquetMarketSource(str(path)).load()
    assert market.absent == ("Open", "High", "Low", "Volume")
    assert market.quotes.get_column("AdjustmentFactor").eq(1.0).all()
    assert market.quotes.get_column("Volume").null_count() == market.quotes.height
    assert market.calendar_name == "infer" and market.calendar.equals(small_market.calendar)
