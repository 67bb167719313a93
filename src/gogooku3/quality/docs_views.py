"""Data Docs page views whose Jinja templates are compiled once per process.

Great Expectations builds a new Jinja environment for every page it renders, so each
page compiled the same templates again: about two thirds of the Data Docs time. These
views (named in the site config by :mod:`gogooku3.quality.validator`) share one
in-memory bytecode cache; the pages they render are the stock ones.
"""

from __future__ import annotations

import jinja2
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates by Jinja's bucket key (template name and source checksum)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = _MemoryBytecodeCache()


class CachedPageView(DefaultJinjaPageView):
    """Suite and validation-result pages."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = COMPILED


class CachedIndexPageView(DefaultJinjaIndexPageView):
    """The index page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = COMPILED
