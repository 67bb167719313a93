"""Data sources. Each returns a :class:`~gogooku3.data.market.MarketData`; none knows of features."""
