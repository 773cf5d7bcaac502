"""Running one search on a reader connection: page, total, facets, hits.

All the statements of one search run in one read transaction, so the page, the total and the
facet counts describe the same snapshot even while the writer commits batches.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

import msgspec

from scope_shared.schema import Notice
from scope_shared.store import contract
from scope_shared.store.contract import FacetBucket, Hit, SearchQuery, SearchResult
from scope_shared.store.embedded.aggregates import aggregates
from scope_shared.store.embedded.cache import ResultCache
from scope_shared.store.embedded.cards import build_card
from scope_shared.store.embedded.cursor import decode_cursor, encode_cursor
from scope_shared.store.embedded.fields import TermField
from scope_shared.store.embedded.highlight import highlights
from scope_shared.store.embedded.query import (
    CARDS,
    NOTICES,
    SCORED_MATCH,
    Estimate,
    Mode,
    SortKey,
    Where,
    after,
    filters,
    order_by,
    sort_keys,
    text_filter,
)
from scope_shared.store.embedded.syntax import TextQuery, parse

_notice_decoder = msgspec.json.Decoder(Notice)


@dataclass
class _Plan:
    """A search turned into its parts."""

    mode: Mode
    text: TextQuery | None
    filters: Where
    """Every filter but the full text."""
    where: Where
    """Filters and full text: the set that is counted and faceted."""
    keys: list[SortKey]
    scored_expression: str | None
    """The MATCH expression ranked with bm25, when sorting by relevance with words."""


ESTIMATE_CAP = 20_000
"""Rows counted at most to rank a filter's selectivity: enough to tell a département from a
CPV division on a million notices, in a few milliseconds."""


def _estimator(connection: sqlite3.Connection) -> Estimate:
    def estimate(term: TermField, values: list[str]) -> int:
        marks = ",".join("?" * len(values))
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM terms"  # noqa: S608 - placeholders only
            f" WHERE field = ? AND value IN ({marks}) LIMIT ?)"
        )
        (count,) = connection.execute(sql, [int(term), *values, ESTIMATE_CAP]).fetchone()
        return int(count)

    return estimate


def _plan(connection: sqlite3.Connection, query: SearchQuery) -> _Plan:
    mode = CARDS if query.group_by_procedure else NOTICES
    text = parse(query.q) if query.q and query.q.strip() else None
    estimate = _estimator(connection)
    only_filters = filters(query, mode, estimate)
    where = only_filters.plus(text_filter(text)) if text is not None else only_filters
    expression = text.match_expression() if text is not None else None
    scored = query.sort == "relevance" and expression is not None
    keys = sort_keys(query.sort, mode, scored=scored)
    return _Plan(mode, text, only_filters, where, keys, expression if scored else None)


def _page(
    connection: sqlite3.Connection, plan: _Plan, query: SearchQuery, cursor: list[object] | None
) -> list[tuple[object, ...]]:
    """Rows `(doc, *sort values[, procedure_id, meta])` of the page, plus one to see more."""
    where = Where(list(plan.where.clauses), list(plan.where.params))
    prefix, params = "", []
    source = plan.mode.source
    if plan.scored_expression is not None:
        # The scored CTE already restricts to the text matches: drop the text filter clause.
        where = Where(list(plan.filters.clauses), list(plan.filters.params))
        prefix, params = f"WITH {SCORED_MATCH} ", [plan.scored_expression]
        source = plan.mode.scored_source
    if cursor is not None:
        where = where.plus(after(plan.keys, cursor))
    extra = ", p.procedure_id, p.meta" if plan.mode is CARDS else ""
    selected = ", ".join(expr for expr, _, _ in plan.keys)
    sql = (
        f"{prefix}SELECT n.doc, {selected}{extra} FROM {source}"  # noqa: S608 - constants only
        f" WHERE {where.sql()} ORDER BY {order_by(plan.keys)} LIMIT ?"
    )
    return connection.execute(sql, [*params, *where.params, query.page_size + 1]).fetchall()


def _aggregates(
    connection: sqlite3.Connection, plan: _Plan, query: SearchQuery, cache: ResultCache
) -> tuple[int, Literal["eq", "gte"], dict[str, list[FacetBucket]]]:
    """Total (exact up to `TOTAL_EXACT_UP_TO`, read at call time so tests may lower it, then
    that bound with `gte`) and facets: top values by count, ties by value ascending."""
    bound = contract.TOTAL_EXACT_UP_TO
    facets = list(dict.fromkeys(query.facets))
    key = (plan.mode.source, plan.where.sql(), *plan.where.params, "|", *facets, bound)
    count, counts = cache.get(
        key, lambda: aggregates(connection, plan.mode, plan.where, facets, bound)
    )
    result: dict[str, list[FacetBucket]] = {}
    for name in facets:
        top = sorted(counts[name], key=lambda item: (-item[1], item[0]))[: query.facet_size]
        result[name] = [FacetBucket(value, n) for value, n in top]
    return (bound, "gte", result) if count > bound else (count, "eq", result)


def _hits(
    connection: sqlite3.Connection, plan: _Plan, query: SearchQuery, rows: list[tuple[object, ...]]
) -> list[Hit]:
    docs = [row[0] for row in rows]
    marks = ",".join("?" * len(docs))
    bodies = dict(
        connection.execute(f"SELECT doc, body FROM bodies WHERE doc IN ({marks})", docs)  # noqa: S608 - placeholders only
    )
    tokens = plan.text.positive_tokens() if plan.text is not None and query.highlight else set()
    hits: list[Hit] = []
    for row in rows:
        body = bodies[row[0]]
        score = -float(row[1]) if plan.scored_expression is not None else None  # type: ignore[arg-type]
        card = build_card(row[-2], row[-1], body) if plan.mode is CARDS else None  # type: ignore[arg-type]
        # Decoded, not passed on as stored: a body written before a Notice field was added
        # lacks it, and decoding fills it in.
        notice = card.notice if card is not None else _notice_decoder.decode(body)
        marked = highlights(notice, tokens) if tokens else {}
        hits.append(Hit.of(notice, card=card, score=score, highlights=marked))
    return hits


def run_search(
    connection: sqlite3.Connection, query: SearchQuery, cache: ResultCache | None = None
) -> SearchResult:
    """The search, in one read transaction. Raises InvalidCursor for a bad cursor."""
    plan = _plan(connection, query)
    grouped = query.group_by_procedure
    cursor = decode_cursor(query.cursor, query.sort, grouped, plan.keys) if query.cursor else None
    cache = cache if cache is not None else ResultCache(entries=0)
    connection.execute("BEGIN")
    try:
        rows = _page(connection, plan, query, cursor)
        cache.sync(connection)
        total, relation, facets = _aggregates(connection, plan, query, cache)
        page = rows[: query.page_size]
        hits = _hits(connection, plan, query, page) if page else []
    finally:
        connection.execute("COMMIT")
    next_cursor = None
    if len(rows) > query.page_size:
        last = page[-1]
        next_cursor = encode_cursor(query.sort, grouped, list(last[1 : 1 + len(plan.keys)]))
    return SearchResult(
        hits=hits, total=total, total_relation=relation, facets=facets, next_cursor=next_cursor
    )
