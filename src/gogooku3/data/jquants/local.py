"""``data=jquants_local``: the J-Quants path end to end without an account.

Starts the loopback server in-process on a free port, serving the synthetic market, with a
throwaway key that lives only in memory; then ingests and reads exactly as ``data=jquants``
does. The snapshot persists under its own name, so a second run fetches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gogooku3.data.jquants.credentials import ApiKey
from gogooku3.data.jquants.server import JQuantsLoopbackServer, new_api_key, synthetic_market
from gogooku3.data.jquants.source import JQuantsSource
from gogooku3.data.market import MarketData


@dataclass
class LocalJQuantsSource(JQuantsSource):
    name: str = "jquants_local"
    snapshot_name: str = "jquants_local"
    plan: str | None = None
    n_stocks: int = 300
    seed: int = 0
    signal_strength: float = 1.0
    page_size: int = 5000

    def load(self) -> MarketData:
        market = synthetic_market(self.n_stocks, str(self.start), str(self.end), self.seed, self.signal_strength)
        key = new_api_key()
        with JQuantsLoopbackServer(market, key, page_size=self.page_size) as server:
            source = replace(self, base_url=server.url, api_key=ApiKey(key))
            loaded = JQuantsSource.load(source)
            self.summary = source.summary
        # The oracle never travels over the API; the in-process market still knows it.
        return replace(loaded, oracle=market.oracle, source=f"jquants_local:n_stocks={self.n_stocks},seed={self.seed}")
