"""Counts and facet counts of recent searches, reused while the database has not changed.

Paging through results repeats the same query with another cursor: its total and facets are
the same, and on a million notices they cost far more than the page itself. One cache per
reader connection (no locking); `PRAGMA data_version` changes when any connection, in this
process or another one (the indexer), commits, and then the cache is emptied.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_ENTRIES = 256
"""Statements kept per reader: a few dozen users paging through a few queries each."""


class ResultCache:
    """Totals and facet counts by search (SQL and parameters), least recently used out first."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self._entries = entries
        self._values: OrderedDict[tuple[object, ...], Any] = OrderedDict()
        self._version: int | None = None

    def sync(self, connection: sqlite3.Connection) -> None:
        """Forget everything if the database changed; call inside the read transaction."""
        (version,) = connection.execute("PRAGMA data_version").fetchone()
        if version != self._version:
            self._values.clear()
            self._version = version

    def get(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        """The cached value of `key`, else `compute()` (then cached)."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]  # type: ignore[no-any-return]
        value = compute()
        if self._entries:
            self._values[key] = value
            if len(self._values) > self._entries:
                self._values.popitem(last=False)
        return value
