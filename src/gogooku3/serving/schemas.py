"""Request and response models of the API: strict on the way in, checked on the way out."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

CODE = r"[0-9A-Z]{4,5}"
CODES_RE = re.compile(rf"{CODE}(,{CODE})*")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (no timestamps, no datetimes); any such day is valid (404 when nothing is stored)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date YYYY-MM-DD")
    return date.fromisoformat(value)


IsoDate = Annotated[date, BeforeValidator(_iso_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictionQuery(_Strict):
    """Filters of /v1/predictions: unknown parameters are refused (422), not ignored."""

    codes: str | None = Field(None, pattern=rf"^{CODE}(,{CODE})*$", max_length=6 * 500,
                              description="comma-separated stock codes, e.g. 72030,67580")
    horizon: int | None = Field(None, ge=1, le=260, description="forecast horizon in sessions")
    top_k: int | None = Field(None, ge=1, le=10000, description="only ranks 1..top_k of each horizon")
    model_version: str | None = Field(None, pattern=r"^[0-9]{1,9}$",
                                      description="a registry version; default the champion's when stored")


class Prediction(_Strict):
    code: str
    date: date
    for_session: date
    horizon: int = Field(ge=1)
    prediction: float | None
    quantile_levels: list[float]
    quantiles: list[float | None]
    ensemble_score: float | None
    confidence: float | None = Field(ge=0.0, le=1.0)
    rank: int | None = Field(ge=1)
    model_version: str
    run_id: str


class PredictionsResponse(_Strict):
    date: date
    model_version: str
    is_champion: bool
    available_versions: list[str]
    count: int = Field(ge=0)
    predictions: list[Prediction]


class ModelVersion(_Strict):
    version: str
    run_id: str | None
    status: str
    created_at: datetime | None
    aliases: list[str]
    tags: dict[str, str]
    metrics: dict[str, float]


class ModelsResponse(_Strict):
    name: str
    aliases: dict[str, str]
    versions: list[ModelVersion]


class GateResult(_Strict):
    date: date
    run_id: str
    gate: str
    status: str
    success_ratio: float | None
    rows_in: int | None
    rows_quarantined: int | None
    detail: JsonValue


class QualityResponse(_Strict):
    date: date
    passed: bool
    gates: list[GateResult]


class Health(_Strict):
    status: str


class Check(_Strict):
    ok: bool
    detail: str


class Readiness(_Strict):
    ready: bool
    checks: dict[str, Check]


class Error(_Strict):
    detail: str
