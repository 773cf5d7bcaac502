"""Caches for values that repeat within one source file, and one call that empties them all.

A DECP or OCDS file repeats its buyers, places, labels and codes from one contract to the
next; mapping each from scratch is most of a mapper's time. A function whose result depends
only on its (hashable) arguments is memoised with `file_cache`; `clear` forgets every such
cache, so that benchmarks measure each round from a cold start, as a new file would be.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import ParamSpec, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")

_CLEARS: list[Callable[[], None]] = []


def file_cache(function: Callable[P, T]) -> Callable[P, T]:
    """`functools.lru_cache`, registered with `clear`. The bound (65,536 entries, as the date
    and SIRET caches) holds the distinct values of a large file; a cache of Organizations
    that full takes some tens of MB, and beyond it the least recently used are dropped."""
    cached = lru_cache(maxsize=65_536)(function)
    _CLEARS.append(cached.cache_clear)
    return cast(Callable[P, T], cached)


def clear() -> None:
    """Forget every `file_cache` result."""
    for clear_one in _CLEARS:
        clear_one()
