"""J-Quants API V2: client, raw snapshots, normalization and a loopback server.

``JQuantsSource(...).load()`` ingests what is missing into raw snapshots and returns
:class:`~gogooku3.data.market.MarketData`; pointing ``base_url`` at the loopback server
(:mod:`gogooku3.data.jquants.server`) is the only difference between offline and live.
"""
