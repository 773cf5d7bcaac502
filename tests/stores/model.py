"""The contract's rules in plain Python, written independently of both stores.

The contract suite (test_contract*.py) computes every expected value with these functions from
the real-sample corpus, then compares with what each store returns.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from scope_shared.reference import cpv_ancestors
from scope_shared.schema import Notice
from scope_shared.store import SearchQuery, SearchStore


def latest_versions(notices: Iterable[Notice]) -> dict[str, Notice]:
    """Per id, the highest version; the same version arriving again replaces."""
    latest: dict[str, Notice] = {}
    for notice in notices:
        known = latest.get(notice.id)
        if known is None or notice.version >= known.version:
            latest[notice.id] = notice
    return latest


def cpv_codes(n: Notice) -> set[str]:
    codes = {n.cpv_main, *n.cpv_additional}
    for lot in n.lots:
        codes |= {lot.cpv_main, *lot.cpv_additional}
    return {c for c in codes if c}


def cpv_matches(n: Notice, code: str) -> bool:
    wanted = code.ljust(8, "0")
    return any(wanted == c or wanted in cpv_ancestors(c) for c in cpv_codes(n))


def places(n: Notice, attribute: str) -> set[str]:
    """Departments, regions or NUTS of the place of performance (notice and lots); the
    buyer's when the place gives none of that kind."""
    values: set[str] = set()
    for place in [n.place, *(lot.place for lot in n.lots)]:
        if place is not None:
            values |= set(getattr(place, attribute))
    single = {"departments": "department", "regions": "region", "nuts": "nuts"}[attribute]
    if not values and n.buyer is not None and getattr(n.buyer, single):
        values.add(getattr(n.buyer, single))
    return values


def nuts_matches(n: Notice, code: str) -> bool:
    return any(value.startswith(code) for value in places(n, "nuts"))


def facet_values(n: Notice, name: str) -> set[str]:
    value: Any
    if name == "cpv_division":
        return {c[:2] for c in cpv_codes(n)}
    if name in {"department", "region"}:
        return places(n, {"department": "departments", "region": "regions"}[name])
    value = {
        "source": n.source,
        "notice_type": n.notice_type,
        "procedure_type": n.procedure_type,
        "buyer": n.buyer.name if n.buyer else None,
    }[name]
    return set() if value is None else {str(value)}


def expected_facet(notices: Iterable[Notice], name: str, size: int) -> list[tuple[str, int]]:
    counts = Counter(v for n in notices for v in facet_values(n, name))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]


def value_of(n: Notice) -> Decimal | None:
    return n.estimated_value.amount if n.estimated_value else None


NEVER = datetime(1970, 1, 1, tzinfo=UTC)
SORT_KEYS: dict[str, Callable[[Notice], Any]] = {
    "newest": lambda n: (-n.published_at.timestamp(), n.id),
    "relevance": lambda n: (-n.published_at.timestamp(), n.id),
    "deadline": lambda n: (
        n.submission_deadline is None, (n.submission_deadline or NEVER).timestamp(), n.id
    ),
    "value": lambda n: (value_of(n) is None, -(value_of(n) or 0), n.id),
}  # fmt: skip


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text: str | None) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text or ""))


def searchable_words(n: Notice) -> list[str]:
    texts = [n.title, n.description, n.buyer.name if n.buyer else None]
    texts += [t for lot in n.lots for t in (lot.title, lot.description)]
    return [w for t in texts for w in words_of(t)]


def ids(notices: Iterable[Notice]) -> set[str]:
    return {n.id for n in notices}


async def all_hits(store: SearchStore, **kwargs: Any) -> list[str]:
    """Ids of every hit, following cursors, in the store's order."""
    found: list[str] = []
    cursor = None
    while True:
        result = await store.search(SearchQuery(page_size=100, cursor=cursor, **kwargs))
        found += [h.card.procedure_id if h.card else h.notice.id for h in result.hits]
        cursor = result.next_cursor
        if cursor is None:
            return found


def procedures_of(latest: list[Notice]) -> dict[str, list[Notice]]:
    grouped: dict[str, list[Notice]] = {}
    for n in latest:
        grouped.setdefault(n.procedure_id, []).append(n)
    return grouped


def field_texts(n: Notice, name: str) -> list[str]:
    """The original texts of a highlighted field, named by its path in the notice."""
    texts: dict[str, list[str | None]] = {
        "title": [n.title],
        "description": [n.description],
        "buyer.name": [n.buyer.name if n.buyer else None],
        "lots.title": [lot.title for lot in n.lots],
        "lots.description": [lot.description for lot in n.lots],
    }
    return [t for t in texts[name] if t]


async def hit_ids(store: SearchStore, q: str, **kwargs: Any) -> set[str]:
    return set(await all_hits(store, q=q, sort="newest", **kwargs))


def with_title_word(latest: list[Notice], *forms: str) -> set[str]:
    wanted = {fold(f) for f in forms}
    return {n.id for n in latest if wanted & set(words_of(n.title))}
