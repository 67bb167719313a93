"""How much of the synthetic oracle's RankIC can be recovered from observable data at all?

    python scripts/signal_ceiling.py [--n-stocks 300] [--start 2019-01-01] [--end 2023-12-31]

The oracle knows the hidden states; a model sees only prices and volumes. For each planted
component, on a market where only it is switched on, this prints the oracle's mean daily
h=1 RankIC and that of a hand-built estimator which knows the generator's equations (decay
rates, where the cycle shows) but uses observable data only, then the same on the
default market with the estimators combined. It is a rough ceiling for what a model
can reach: the lead-lag estimator even picks its peers from the whole sample's
correlations and the combination its weights from the whole sample (look-ahead, in
their favour). Figures are from days 300 on (warm-up).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

COMPONENTS = ("reversal", "leadlag", "volume", "cycle")


def dense(market) -> dict[str, np.ndarray]:
    """[dates, stocks] arrays of adjusted close, adjusted volume and the h=1 oracle."""
    import polars as pl

    q = market.quotes.sort("Code", "Date").with_columns(f=pl.col("AdjustmentFactor").cum_prod().over("Code"))
    q = q.join(market.oracle.select("Code", "Date", "oracle_h1"), on=["Code", "Date"], how="left")
    codes = {c: i for i, c in enumerate(market.listed.get_column("Code").to_list())}
    days = {d: i for i, d in enumerate(market.calendar.to_list())}
    ci = np.array([codes[c] for c in q["Code"]])
    di = np.array([days[d] for d in q["Date"]])
    out = {}
    for name, values in (("close", q["Close"] / q["f"]), ("volume", q["Volume"] * q["f"]), ("oracle", q["oracle_h1"])):
        a = np.full((len(days), len(codes)), np.nan)
        a[di, ci] = values.fill_null(np.nan).to_numpy()
        out[name] = a
    return out


def rolling(x: np.ndarray, w: int, fn: str) -> np.ndarray:
    import polars as pl

    frame = pl.DataFrame(x)
    expr = pl.all().rolling_std(w, min_samples=w // 2) if fn == "std" else pl.all().rolling_mean(w, min_samples=w // 2)
    return frame.select(expr).to_numpy()


def ewma(x: np.ndarray, decay: float) -> np.ndarray:
    from scipy.signal import lfilter

    return lfilter([1.0], [1.0, -decay], np.nan_to_num(x), axis=0)


def estimators(d: dict[str, np.ndarray], sectors: np.ndarray) -> dict[str, np.ndarray]:
    """One observable-data estimate per component, each known at the close of its date."""
    from gogooku3.data.synthetic import DECAY

    r = np.diff(np.log(d["close"]), axis=0, prepend=np.nan)
    r = r - np.nanmean(r, axis=1, keepdims=True)  # market out
    for s in np.unique(sectors):  # sector out
        j = sectors == s
        if j.sum() > 1:
            r[:, j] -= np.nanmean(r[:, j], axis=1, keepdims=True)
    z = r / rolling(r, 20, "std")
    lv = np.log(d["volume"] + 1)
    surprise = lv - rolling(lv, 20, "mean")
    corr = np.corrcoef(np.nan_to_num(z[20:]).T)
    np.fill_diagonal(corr, -1)
    peers = np.argsort(-corr, axis=1)[:, :7]
    peer_z = np.nanmean(z[:, peers], axis=2)
    return {
        "reversal": -ewma(z, DECAY["reversal"]),
        "leadlag": ewma(peer_z, DECAY["leadlag"]),
        "volume": ewma(np.tanh(surprise / 0.5) * z, DECAY["volume"]),
        "cycle": _cycle_phase(lv - rolling(lv, 60, "mean")),
    }


def _cycle_phase(v: np.ndarray, window: int = 40) -> np.ndarray:
    """sin of tomorrow's phase, from the strongest period of a sliding DFT of detrended log volume."""
    v = np.nan_to_num(v)
    t = np.arange(v.shape[0])[:, None]
    best, power = np.zeros_like(v), np.full_like(v, -1.0)
    for period in np.geomspace(8, 70, 40):
        acc = np.cumsum(v * np.exp(-2j * np.pi * t / period), axis=0)
        a = acc - np.vstack([np.zeros((window, v.shape[1])), acc[:-window]])
        forecast = np.sin(np.angle(a) + 2 * np.pi * (t + 1) / period)  # volume ~ cos(phase)
        better = np.abs(a) > power
        best, power = np.where(better, forecast, best), np.where(better, np.abs(a), power)
    return best


def combine(parts: list[np.ndarray], close: np.ndarray) -> np.ndarray:
    """Least-squares weights of the standardized estimates for the next day's demeaned return.

    Fitted on the whole sample (in the estimators' favour, like the peers above).
    """
    x = np.stack([np.nan_to_num(p / np.nanstd(p)) for p in parts], -1)[:-1]  # (T-1, N, K)
    y = np.diff(np.log(close), axis=0)
    y = y - np.nanmean(y, axis=1, keepdims=True)
    ok = np.isfinite(y)
    w, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
    return np.concatenate([x @ w, np.zeros((1, x.shape[1]))])


def mean_rank_ic(pred: np.ndarray, close: np.ndarray, warmup: int = 300) -> float:
    from gogooku3.stats import daily_rank_ic

    forward = np.diff(np.log(close), axis=0)  # r[t+1]
    return float(np.nanmean(daily_rank_ic(pred[:-1], forward)[warmup:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-stocks", type=int, default=300)
    parser.add_argument("--start", default="2019-01-01")
    parser.add_argument("--end", default="2023-12-31")
    args = parser.parse_args()
    from gogooku3.data.synthetic import generate_market

    warnings.simplefilter("ignore", RuntimeWarning)
    print(f"{'market':<10}{'oracle':>9}{'estimator':>11}{'share':>8}")
    for only in (*COMPONENTS, "all"):
        on = COMPONENTS if only == "all" else (only,)
        market = generate_market(n_stocks=args.n_stocks, start=args.start, end=args.end,
                                 components={c: float(c in on) for c in COMPONENTS})
        d = dense(market)
        est = estimators(d, market.listed.get_column("Sector33Code").to_numpy())
        combined = combine([est[c] for c in on], d["close"])
        oracle, got = mean_rank_ic(d["oracle"], d["close"]), mean_rank_ic(combined, d["close"])
        print(f"{only:<10}{oracle:>9.4f}{got:>11.4f}{got / oracle:>8.0%}")


if __name__ == "__main__":
    main()
