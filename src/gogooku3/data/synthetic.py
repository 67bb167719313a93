"""An embedded synthetic Japanese equity market with planted, exactly known signal.

Daily log returns are

    r[t+1, i] = mu[t, i] + beta_i m[t+1] + s[t+1, sector(i)] + x[t+1, i],
    x[t, i]   = lam g[t, cluster(i)] + sigma[t, i] eps[t, i]

with a GARCH market factor m, sector factors s, and a residual x made of the common move
g of the stock's hidden cluster (the graph of related stocks, independent of sectors, so
related stocks co-move) and a GARCH idiosyncratic shock with Student-t tails. With
z = x / its volatility, ``mu[t]`` is known at the close of t and sums four planted
components, each a unit-variance state scaled by ``SIGNAL_REF * signal_strength * weight``:

* reversal: minus an EWMA of the stock's own z (short-term reversal);
* leadlag:  an EWMA of the mean z of the other stocks in its cluster, less the part the
  stock's own z already reveals. Its own history says nothing about this component, its
  related stocks everything: only a model that looks at other stocks can use it;
* volume:   an EWMA of ``tanh(volume shock) * z``: moves on heavy volume continue;
* cycle:    ``sqrt(2) sin(phi[t+1])`` with a phase whose frequency drifts slowly; the
  cycle also shows in traded volume (attention comes and goes).

Every state is linear in past shocks, so the oracle, the true conditional expectation of
the forward log return, has a closed form for any horizon.

Rare news days add a symmetric jump the states know nothing of; the exchange's daily price
limit (the TSE table in :mod:`gogooku3.data.price_limits`) stops the close, high and low at
base +/- width, so limit-up and limit-down sessions occur as they do in Tokyo. The oracle
ignores jumps and limits (mean-zero noise, about one stock-day in 2,000).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
from scipy.signal import lfilter

from gogooku3.data.calendar import trading_sessions
from gogooku3.data.digest import combine_digests, frame_sha256
from gogooku3.data.market import MarketData
from gogooku3.data.price_limits import daily_price_limit
from gogooku3.errors import ConfigError
from gogooku3.schema import oracle_column

# J-Quants Sector33 codes and the Sector17 group each belongs to.
SECTOR33_TO_17 = {
    "0050": "1", "1050": "2", "2050": "3", "3050": "1", "3100": "4", "3150": "4", "3200": "4",
    "3250": "5", "3300": "2", "3350": "6", "3400": "3", "3450": "7", "3500": "7", "3550": "3",
    "3600": "8", "3650": "9", "3700": "6", "3750": "9", "3800": "10", "4050": "11", "5050": "12",
    "5100": "12", "5150": "12", "5200": "12", "5250": "10", "6050": "13", "6100": "14", "7050": "15",
    "7100": "16", "7150": "16", "7200": "16", "8050": "17", "9050": "10",
}  # fmt: skip
MARKETS = ("0111", "0112", "0113")  # Prime, Standard, Growth
MARKET_SHARES = (0.45, 0.35, 0.20)
SPLIT_FACTORS = (0.5, 0.25, 0.2, 0.1, 2.0)
COMPONENTS = ("reversal", "leadlag", "volume", "cycle")
OUTAGE = date(2020, 10, 1)  # the TSE's full-day system failure: J-Quants rows are all null

# Relative weight of each planted component in mu (before signal_strength).
WEIGHTS = {"reversal": 0.45, "leadlag": 0.45, "volume": 0.35, "cycle": 0.30}
DECAY = {"reversal": 0.6, "leadlag": 0.5, "volume": 0.5}
# Scale of mu in daily log-return units at signal_strength=1 (calibrated so that the
# oracle's mean daily RankIC at h=1 is about 0.07 on the default market).
SIGNAL_REF = 0.0018
MAX_DAILY_MOVE = 0.12  # log return of ordinary days; inside the TSE daily price limit at every price level
JUMP_PROB = 5e-4  # news days per stock-session
JUMP_SIZE = (0.10, 0.40)  # |log jump| range; most exceed the daily limit and close at it
CLUSTER_VOL = 0.010  # daily volatility of a hidden cluster's common move
E_TANH2 = 0.3943  # E[tanh(Z)^2] for Z ~ N(0, 1): keeps the volume state at unit variance


@dataclass
class SyntheticMarketSource:
    """Config-facing source: ``data=synthetic`` instantiates this and calls :meth:`load`."""

    n_stocks: int = 300
    start: str = "2019-01-01"
    end: str = "2023-12-31"
    seed: int = 0
    signal_strength: float = 1.0
    horizons: tuple[int, ...] = (1, 5, 10, 20)
    components: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 1.0))
    extras: bool = False
    calendar: str = "XTKS"

    def load(self) -> MarketData:
        if str(self.calendar).upper() != "XTKS":
            raise ConfigError(f"data.calendar={self.calendar}: the synthetic market is generated on the Tokyo "
                              "calendar (its holidays and price limits); keep data.calendar=XTKS")
        market = generate_market(
            n_stocks=self.n_stocks,
            start=self.start,
            end=self.end,
            seed=self.seed,
            signal_strength=self.signal_strength,
            horizons=tuple(self.horizons),
            components=dict(self.components),
        )
        if self.extras:
            from dataclasses import replace

            from gogooku3.data.synthetic_extras import generate_extras

            market = replace(market, extras=generate_extras(market, seed=self.seed))
        return market


def _student_t(rng: np.random.Generator, shape: tuple[int, ...], df: float = 5.0) -> np.ndarray:
    """Unit-variance Student-t draws: the fat tails of daily returns."""
    return rng.standard_t(df, size=shape) * np.sqrt((df - 2.0) / df)


def _garch_vol(shocks: np.ndarray, sigma: np.ndarray, alpha: float = 0.08, beta: float = 0.9) -> np.ndarray:
    """GARCH(1,1) volatility path driven by unit-variance ``shocks`` [T, N] around ``sigma`` [N]."""
    omega = sigma**2 * (1.0 - alpha - beta)
    var = np.empty_like(shocks)
    h = sigma**2
    for t in range(shocks.shape[0]):  # a recursion in time; vectorized over stocks
        var[t] = h
        h = omega + (alpha * shocks[t] ** 2 + beta) * h
    return np.sqrt(var)


def _ewma(x: np.ndarray, decay: float, rng: np.random.Generator) -> np.ndarray:
    """state[t] = decay * state[t-1] + x[t], started from its stationary distribution."""
    zi = rng.standard_normal((1,) + x.shape[1:]) * np.std(x) / np.sqrt(1.0 - decay**2) * decay
    out, _ = lfilter([1.0], [1.0, -decay], x, axis=0, zi=zi)
    return out


def _geometric_sums(decay: float, horizons: tuple[int, ...]) -> dict[int, float]:
    return {h: (1.0 - decay**h) / (1.0 - decay) for h in horizons}


def _validate(n_stocks: int, signal_strength: float, components: dict[str, float], horizons) -> None:
    if n_stocks < 2:
        raise ConfigError(f"data.n_stocks={n_stocks} must be at least 2")
    if signal_strength < 0:
        raise ConfigError(f"data.signal_strength={signal_strength} must be non-negative")
    unknown = set(components) - set(COMPONENTS)
    if unknown:
        raise ConfigError(f"data.components has unknown keys {sorted(unknown)}; known: {list(COMPONENTS)}")
    if not horizons or min(horizons) < 1:
        raise ConfigError(f"horizons={list(horizons)} must be positive integers")


def generate_market(
    n_stocks: int = 300,
    start: str | date = "2019-01-01",
    end: str | date = "2023-12-31",
    seed: int = 0,
    signal_strength: float = 1.0,
    horizons: tuple[int, ...] = (1, 5, 10, 20),
    components: dict[str, float] | None = None,
) -> MarketData:
    """Generate a seeded market; see the module docstring for the model."""
    components = {**dict.fromkeys(COMPONENTS, 1.0), **(components or {})}
    _validate(n_stocks, signal_strength, components, horizons)
    sessions = trading_sessions(start, end)
    T, N = len(sessions), n_stocks
    if T < 2:
        raise ConfigError(f"data.start={start} .. data.end={end} spans {T} trading sessions; need at least 2")
    rng = np.random.default_rng(seed)

    # --- the cross-section: codes, sectors, segments, hidden clusters, lifetimes ----------
    codes = np.array([f"{c}0" for c in np.sort(rng.choice(np.arange(1301, 9999), N, replace=False))])
    sector33 = np.array(sorted(SECTOR33_TO_17))[rng.integers(0, len(SECTOR33_TO_17), N)]
    sectors, sector_idx = np.unique(sector33, return_inverse=True)
    market_code = np.array(MARKETS)[rng.choice(len(MARKETS), N, p=MARKET_SHARES)]
    n_clusters = max(1, N // 8)
    cluster = rng.permutation(np.arange(N) % n_clusters)
    listed_at = np.where(rng.random(N) < 0.15, rng.integers(0, max(1, int(T * 0.7)), N), 0)
    delisted_at = np.where(
        rng.random(N) < 0.08, rng.integers(np.minimum(listed_at + 120, T - 1), T), T
    )  # exclusive
    alive = (np.arange(T)[:, None] >= listed_at) & (np.arange(T)[:, None] < delisted_at)

    # --- shocks and factors ---------------------------------------------------------------
    beta = np.clip(rng.normal(1.0, 0.3, N), 0.3, 1.8)
    z_market = _student_t(rng, (T, 1))
    market = _garch_vol(z_market, np.array([0.010])) * z_market
    sector_ret = 0.005 * _student_t(rng, (T, len(sectors)))
    gamma = _student_t(rng, (T, n_clusters))  # cluster shocks: the hidden graph's factor
    cluster_ret = CLUSTER_VOL * gamma
    eps = _student_t(rng, (T, N))
    idio_sigma = _garch_vol(eps, np.exp(rng.normal(np.log(0.018), 0.25, N)))

    # --- volume: persistent level, shocks that move with |eps|, and the drifting cycle ----
    period0 = rng.uniform(12.0, 40.0, N)
    drift_phase = rng.uniform(0, 2 * np.pi, N)
    t_ext = np.arange(T + max(horizons) + 1)[:, None]
    period = period0 * np.exp(0.45 * np.sin(2 * np.pi * t_ext / 480.0 + drift_phase))
    phi = rng.uniform(0, 2 * np.pi, N) + np.cumsum(2 * np.pi / period, axis=0)  # [T+H+1, N]
    volume_shock = rng.standard_normal((T, N))
    log_volume = (
        rng.normal(np.log(3e5), 1.0, N)
        + _ewma(0.05 * rng.standard_normal((T, N)), 0.97, rng)
        + 0.35 * volume_shock
        + 0.30 * (np.abs(eps) - 0.8)
        + 0.30 * np.cos(phi[:T])
    )

    # --- trading halts and splits (drawn first: peers that do not trade send no signal) ---
    split = (rng.random((T, N)) < 2.5e-4) & alive
    split[0] = False
    suspended = _suspensions(rng, T, N) & alive & ~split
    if OUTAGE in sessions:
        suspended[sessions.index(OUTAGE)] = alive[sessions.index(OUTAGE)]

    # --- planted signal: unit-variance states known at the close of t -----------------------
    # z: the residual return (cluster + idiosyncratic) in units of its own volatility, which
    # is what a model sees after removing market and sector moves.
    resid = cluster_ret[:, cluster] + idio_sigma * eps
    z = resid / np.sqrt(CLUSTER_VOL**2 + idio_sigma**2)
    # Peers' mean move, less the part the stock's own move already reveals: a stock's own
    # history says nothing about this component; its related stocks say everything.
    peers = _peer_mean(z, cluster, n_clusters, alive & ~suspended)
    peers -= (peers * z).mean() / (z * z).mean() * z
    leadlag = _ewma(peers, DECAY["leadlag"], rng)
    states = {
        "reversal": -np.sqrt(1 - DECAY["reversal"] ** 2) * _ewma(z, DECAY["reversal"], rng),
        "leadlag": leadlag / leadlag.std(),
        "volume": np.sqrt((1 - DECAY["volume"] ** 2) / E_TANH2) * _ewma(np.tanh(volume_shock) * z, DECAY["volume"], rng),
    }
    scale = {k: SIGNAL_REF * signal_strength * WEIGHTS[k] * float(components[k]) for k in COMPONENTS}
    mu = sum(scale[k] * states[k] for k in states) + scale["cycle"] * np.sqrt(2) * np.sin(phi[1 : T + 1])

    # --- returns and prices ------------------------------------------------------------------
    log_ret = beta * market + sector_ret[:, sector_idx] + resid
    log_ret[1:] += mu[:-1]
    np.clip(log_ret, -MAX_DAILY_MOVE, MAX_DAILY_MOVE, out=log_ret)  # t-tail days stay inside the limits
    jump = (rng.random((T, N)) < JUMP_PROB) & alive
    log_ret += jump * rng.choice([-1.0, 1.0], (T, N)) * rng.uniform(*JUMP_SIZE, (T, N))
    factor = np.where(split, np.array(SPLIT_FACTORS)[rng.integers(0, len(SPLIT_FACTORS), (T, N))], 1.0)
    cum_factor = np.cumprod(factor, axis=0)  # raw = adjusted * F_t: a 1:2 split halves raw prices
    first_base = np.round(np.exp(rng.normal(np.log(2500), 0.7, N)) * cum_factor[0], 1)
    raw_close, base, width = _limited_closes(log_ret, factor, first_base)
    adj_close = raw_close / cum_factor
    log_ret = np.log(raw_close / base)  # what was traded: limit days stop at the limit

    gap = 0.3 * log_ret + 0.002 * rng.standard_normal((T, N))
    prev_close = base / cum_factor
    adj_open = prev_close * np.exp(gap)
    wick = idio_sigma * 0.5
    adj_high = np.maximum(adj_open, adj_close) * np.exp(np.abs(rng.standard_normal((T, N))) * wick)
    adj_low = np.minimum(adj_open, adj_close) * np.exp(-np.abs(rng.standard_normal((T, N))) * wick)
    raw = {k: np.round(v * cum_factor, 1) for k, v in
           (("Open", adj_open), ("High", adj_high), ("Low", adj_low))}  # fmt: skip
    raw["Close"] = raw_close
    # No trade happens beyond the day's limits.
    raw["Open"] = np.clip(raw["Open"], base - width, base + width)
    raw["High"] = np.minimum(np.maximum.reduce([raw["High"], raw["Open"], raw["Close"]]), base + width)
    raw["Low"] = np.maximum(np.minimum.reduce([raw["Low"], raw["Open"], raw["Close"]]), base - width)
    raw["Volume"] = np.round(np.exp(log_volume) / cum_factor / 100.0) * 100.0
    raw["TurnoverValue"] = np.round(raw["Volume"] * (raw["High"] + raw["Low"] + raw["Close"]) / 3.0)
    for key in raw:
        raw[key][suspended] = np.nan
    raw["AdjustmentFactor"] = factor

    # --- long frames, Code-major like J-Quants by-code downloads -------------------------
    stock_idx, time_idx = np.nonzero(alive.T)
    dates = pl.Series("Date", sessions, dtype=pl.Date)
    keys = {
        "Code": pl.Series("Code", codes).gather(stock_idx),
        "Date": dates.gather(time_idx),
    }
    quotes = pl.DataFrame(
        {**keys, **{k: pl.Series(k, v.T[stock_idx, time_idx], nan_to_null=True) for k, v in raw.items()}}
    )
    oracle = pl.DataFrame(
        {**keys, **{oracle_column(h): _oracle(states, scale, phi, h, T).T[stock_idx, time_idx] for h in horizons}}
    )
    listed = pl.DataFrame(
        {
            "Code": codes,
            "CompanyName": [f"Synthetic {c[:4]} K.K." for c in codes],
            "Sector17Code": [SECTOR33_TO_17[s] for s in sector33],
            "Sector33Code": sector33,
            "MarketCode": market_code,
        }
    )
    index = _topix(rng, sessions, log_ret, adj_close, alive & ~suspended)
    digest = combine_digests(
        {
            "generator": f"synthetic-v1:{N}:{start}:{end}:{seed}:{signal_strength}:{sorted(components.items())}",
            "quotes": frame_sha256(quotes),
            "listed": frame_sha256(listed),
            "index": frame_sha256(index),
        }
    )
    return MarketData(
        quotes=quotes,
        calendar=dates,
        digest=digest,
        source=f"synthetic://n_stocks={N}&start={start}&end={end}&seed={seed}&signal_strength={signal_strength}",
        listed=listed,
        index=index,
        oracle=oracle,
    )


def _limited_closes(log_ret: np.ndarray, factor: np.ndarray, first_base: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Raw closes (0.1 yen) of ``log_ret`` [T, N] stopped at the TSE daily limits.

    The base of day t is the previous raw close in day t's share units (times that day's
    AdjustmentFactor), as the exchange sets it; returns (close, base, limit width).
    """
    close, base, width = np.empty_like(log_ret), np.empty_like(log_ret), np.empty_like(log_ret)
    prev = first_base / factor[0]
    for t in range(log_ret.shape[0]):  # path-dependent in time; vectorized over stocks
        base[t] = prev * factor[t]
        width[t] = daily_price_limit(base[t])
        proposed = np.round(base[t] * np.exp(log_ret[t]), 1)
        close[t] = prev = np.clip(proposed, np.maximum(base[t] - width[t], 0.1), base[t] + width[t])
    return close, base, width


def _suspensions(rng: np.random.Generator, T: int, N: int) -> np.ndarray:
    """Trading halts: rare starts, each lasting a few sessions."""
    starts = rng.random((T, N)) < 3e-4
    length = rng.geometric(0.4, (T, N))
    end = np.where(starts, np.arange(T)[:, None] + length, -1)
    return np.maximum.accumulate(end, axis=0) > np.arange(T)[:, None]


def _peer_mean(z: np.ndarray, cluster: np.ndarray, n_clusters: int, traded: np.ndarray) -> np.ndarray:
    """Mean of ``z`` over the other traded members of each stock's cluster (0 when none)."""
    onehot = np.eye(n_clusters)[cluster]  # [N, K]
    total = (np.where(traded, z, 0.0) @ onehot)[:, cluster] - np.where(traded, z, 0.0)
    count = (traded @ onehot)[:, cluster] - traded
    return np.divide(total, count, out=np.zeros_like(total), where=count > 0)


def _oracle(states: dict[str, np.ndarray], scale: dict[str, float], phi: np.ndarray, h: int, T: int) -> np.ndarray:
    """E[log P_{t+h} - log P_t | close of t]: future shocks have mean zero, the cycle is known."""
    expected = sum(scale[k] * _geometric_sums(DECAY[k], (h,))[h] * states[k] for k in states)
    cycle = np.cumsum(np.sin(phi), axis=0)  # Q[t] = sum_{u<=t} sin(phi[u])
    return expected + scale["cycle"] * np.sqrt(2) * (cycle[h : T + h] - cycle[:T])


def _topix(
    rng: np.random.Generator, sessions: list[date], log_ret: np.ndarray, adj_close: np.ndarray, traded: np.ndarray
) -> pl.DataFrame:
    """A cap-weighted index of the traded stocks (weights from the previous close)."""
    shares = np.exp(rng.normal(np.log(5e7), 1.0, adj_close.shape[1]))
    cap = np.vstack([adj_close[:1], adj_close[:-1]]) * shares * traded
    ret = (cap * np.expm1(log_ret)).sum(axis=1) / np.maximum(cap.sum(axis=1), 1e-12)
    close = 1800.0 * np.cumprod(1.0 + ret)
    prev = np.concatenate([[1800.0], close[:-1]])
    open_ = prev * (1.0 + 0.3 * ret)
    spread = np.abs(rng.standard_normal(len(ret))) * 0.004
    return pl.DataFrame(
        {
            "Date": pl.Series(sessions, dtype=pl.Date),
            "Open": np.round(open_, 2),
            "High": np.round(np.maximum(open_, close) * (1 + spread), 2),
            "Low": np.round(np.minimum(open_, close) * (1 - spread), 2),
            "Close": np.round(close, 2),
        }
    )
