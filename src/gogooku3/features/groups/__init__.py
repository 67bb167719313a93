"""Built-in feature groups: one module each, one registry line each."""

from __future__ import annotations

from gogooku3.features.groups.calendar import calendar
from gogooku3.features.groups.cross_section import cross_section
from gogooku3.features.groups.flow import flow
from gogooku3.features.groups.fundamentals import fundamentals
from gogooku3.features.groups.market import market
from gogooku3.features.groups.price import price
from gogooku3.features.groups.statistical import statistical
from gogooku3.features.groups.technical import technical
from gogooku3.features.groups.volatility import volatility
from gogooku3.features.groups.volume import volume
from gogooku3.features.registry import register_group

register_group("price", price)
register_group("volatility", volatility)
register_group("volume", volume)
register_group("technical", technical)
register_group("statistical", statistical)
register_group("market", market, needs=("index",))
register_group("flow", flow)
register_group("fundamentals", fundamentals, needs=("statements",))
register_group("calendar", calendar)
register_group("cross_section", cross_section, stage=1)
