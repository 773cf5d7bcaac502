"""The total and the facet counts of a search: over every hit, not only the page.

Two ways, chosen per search:
- no filter and no text (the landing page: everything, with facets): each facet is a
  `GROUP BY` over an index of its column, and the total a count capped at the exact bound;
- anything else with facets: the hits are materialized once, with their facet columns, in a
  per-connection in-memory temporary table, then counted and grouped there. Evaluating the
  filters and the full text once instead of once per facet made these searches several times
  faster on a million notices (docs/benchmarks.md).
A multi-valued facet column holds space-separated values (`45 71`): rows are grouped by the
whole string, and the few distinct strings are split and summed in Python.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from scope_shared.store.contract import FacetName
from scope_shared.store.embedded.query import (
    FACET_COLUMNS,
    MULTI_VALUED_FACETS,
    NOTICES,
    Mode,
    Where,
)

_HITS = (
    "CREATE TEMP TABLE IF NOT EXISTS hits (source TEXT, notice_type TEXT, procedure_type TEXT,"
    " buyer TEXT, cpv_division TEXT, department TEXT, region TEXT)"
)
_FILLED = ("source", "notice_type", "procedure_type", "buyer", "cpv_division", "department",
           "region")  # fmt: skip

Counts = dict[str, list[tuple[str, int]]]
"""Facet name -> every (value, count), unsorted."""


def _split(name: str, rows: list[tuple[object, object]]) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for value, count in rows:
        values = str(value).split(" ") if name in MULTI_VALUED_FACETS else [str(value)]
        for one in values:
            counts[one] += int(count)  # type: ignore[call-overload]
    return list(counts.items())


def _capped_count(connection: sqlite3.Connection, mode: Mode, where: Where, bound: int) -> int:
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM {mode.source}"  # noqa: S608 - constants only
        f" WHERE {where.sql()} LIMIT ?)"
    )
    (count,) = connection.execute(sql, [*where.params, bound + 1]).fetchone()
    return int(count)


def _direct(connection: sqlite3.Connection, facets: list[FacetName]) -> Counts:
    result: Counts = {}
    for name in facets:
        column = FACET_COLUMNS[name]
        sql = f"SELECT {column}, count(*) FROM notices n WHERE {column} IS NOT NULL GROUP BY 1"  # noqa: S608 - constants only
        result[name] = _split(name, connection.execute(sql).fetchall())
    return result


def _materialized(
    connection: sqlite3.Connection, mode: Mode, where: Where, facets: list[FacetName]
) -> tuple[int, Counts]:
    connection.execute(_HITS)
    columns = ", ".join(FACET_COLUMNS[name] for name in _FILLED)
    connection.execute(
        f"INSERT INTO temp.hits SELECT {columns} FROM {mode.source} WHERE {where.sql()}",  # noqa: S608 - constants only
        where.params,
    )
    try:
        (count,) = connection.execute("SELECT count(*) FROM temp.hits").fetchone()
        result: Counts = {}
        for name in facets:
            sql = f"SELECT {name}, count(*) FROM temp.hits WHERE {name} IS NOT NULL GROUP BY 1"  # noqa: S608 - constants only
            result[name] = _split(name, connection.execute(sql).fetchall())
    finally:
        connection.execute("DELETE FROM temp.hits")
    return int(count), result


def aggregates(
    connection: sqlite3.Connection, mode: Mode, where: Where, facets: list[FacetName], bound: int
) -> tuple[int, Counts]:
    """(hit count, exact up to `bound` and possibly more beyond it; facet counts)."""
    if not facets:
        return _capped_count(connection, mode, where, bound), {}
    if mode is NOTICES and not where.clauses:
        return _capped_count(connection, mode, where, bound), _direct(connection, facets)
    return _materialized(connection, mode, where, facets)
