"""The in-memory market every source produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class MarketData:
    """Canonical market data (see :mod:`gogooku3.schema`).

    Attributes:
        quotes: daily quotes, one row per (Code, Date), sorted by Code then Date.
        listed: listed info, one row per Code; None when the source has none.
        index: TOPIX-like index bars, one row per Date; None when absent.
        calendar: every trading session in the data's range, ascending (pl.Date Series).
        digest: sha256 over the exact input bytes/values; recorded as MLflow ``data_digest``.
        source: a URI or path describing where the data came from.
        oracle: synthetic data only: true conditional expected forward log return per
            (Code, Date) as columns ``oracle_h{h}``. Never given to a model.
        extras: optional further tables (e.g. ``statements``, ``investor_types``,
            ``margin``, ``short_ratio``) keyed by name, in canonical names.
        calendar_name: where ``calendar`` came from: an exchange-calendars code (``XTKS``),
            ``infer`` (sessions inferred from the data) or ``none`` (every quote date).
        absent: optional quote columns the source did not deliver (e.g. a close-only file
            has no Open, High, Low, Volume); present in ``quotes`` as nulls so every stage
            sees one schema, and features and checks needing them are skipped.
    """

    quotes: pl.DataFrame
    calendar: pl.Series
    digest: str
    source: str
    listed: pl.DataFrame | None = None
    index: pl.DataFrame | None = None
    oracle: pl.DataFrame | None = None
    extras: dict[str, pl.DataFrame] = field(default_factory=dict)
    calendar_name: str = "XTKS"
    absent: tuple[str, ...] = ()

    @property
    def codes(self) -> list[str]:
        return self.quotes.get_column("Code").unique(maintain_order=True).to_list()
