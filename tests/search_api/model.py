"""The search contract's semantics in plain Python, over the corpus: what the API must answer.

An independent reading of scope_shared/store/contract.py (and the derived-field rules its
docstring points to), used to compute expected ids, orders and facet counts. It never calls a
store, so a store bug cannot hide itself in the expectation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from scope_shared.reference import cpv_ancestors
from scope_shared.schema import Notice


def latest_versions(corpus: Iterable[Notice]) -> list[Notice]:
    """What a store serves: per id, the highest version (the same version again replaces)."""
    found: dict[str, Notice] = {}
    for notice in corpus:
        known = found.get(notice.id)
        if known is None or notice.version >= known.version:
            found[notice.id] = notice
    return list(found.values())


def cpv_codes(notice: Notice) -> list[str]:
    codes = [notice.cpv_main, *notice.cpv_additional]
    for lot in notice.lots:
        codes += [lot.cpv_main, *lot.cpv_additional]
    return [c for c in codes if c]


def cpv_matches(notice: Notice, wanted: list[str]) -> bool:
    targets = {w.split("-")[0].ljust(8, "0")[:8] for w in wanted}
    return any(targets & {code, *cpv_ancestors(code)} for code in cpv_codes(notice))


def locations(notice: Notice) -> tuple[set[str], set[str], set[str]]:
    """Place of performance (notice and lots); for a kind it leaves empty, the buyer's."""
    places = [p for p in (notice.place, *(lot.place for lot in notice.lots)) if p is not None]
    departments = {d for p in places for d in p.departments}
    regions = {r for p in places for r in p.regions}
    nuts = {n for p in places for n in p.nuts}
    buyer = notice.buyer
    if buyer is not None:
        departments = departments or ({buyer.department} if buyer.department else set())
        regions = regions or ({buyer.region} if buyer.region else set())
        nuts = nuts or ({buyer.nuts} if buyer.nuts else set())
    return departments, regions, nuts


def nuts_matches(notice: Notice, wanted: list[str]) -> bool:
    return any(code.startswith(w) for code in locations(notice)[2] for w in wanted)


def value_of(notice: Notice) -> Decimal | None:
    return notice.estimated_value.amount if notice.estimated_value else None


Predicate = Callable[[Notice], bool]


def select(notices: Iterable[Notice], predicate: Predicate) -> set[str]:
    return {n.id for n in notices if predicate(n)}


def order(notices: Iterable[Notice], sort: str) -> list[str]:
    """Ids in the contract's order for `newest`, `deadline` or `value` (ties: id ascending)."""
    items = list(notices)
    if sort == "deadline":
        items.sort(key=lambda n: n.id)
        items.sort(key=lambda n: (n.submission_deadline is None, n.submission_deadline or 0))
    elif sort == "value":
        items.sort(key=lambda n: n.id)
        items.sort(key=lambda n: (value_of(n) is None, -(value_of(n) or 0)))
    else:
        items.sort(key=lambda n: n.id)
        items.sort(key=lambda n: n.published_at, reverse=True)
    return [n.id for n in items]


def facet(notices: Iterable[Notice], name: str, size: int) -> list[tuple[str, int]]:
    """Top `size` values by count (ties by value ascending); each notice counts once per value."""
    counts: Counter[str] = Counter()
    for notice in notices:
        counts.update(facet_values(notice, name))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size]


def facet_values(notice: Notice, name: str) -> set[str]:
    departments, regions, _ = locations(notice)
    by_name: dict[str, set[str]] = {
        "cpv_division": {code[:2] for code in cpv_codes(notice)},
        "department": departments,
        "region": regions,
        "source": {notice.source},
        "notice_type": {notice.notice_type.value},
        "procedure_type": {notice.procedure_type.value} if notice.procedure_type else set(),
        "buyer": {notice.buyer.name} if notice.buyer else set(),
    }
    return by_name[name]


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
