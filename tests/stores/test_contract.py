"""THE contract suite: every test runs on the embedded store and on a real OpenSearch node.

Expected values are computed in plain Python (tests/stores/model.py) from the real-sample
corpus and the contract's rules (store/contract.py, docs/stores.md); nothing is copied from
what a store returned. This module: indexing, versions, filters, sorting, paging, totals,
facets. Full text is in test_contract_text.py, procedures in test_contract_procedures.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec
import pytest

from scope_shared.schema import Notice, NoticeType
from scope_shared.store import InvalidCursor, SearchQuery, SearchStore, contract
from scope_shared.store.contract import FacetName
from tests.stores.model import (
    SORT_KEYS,
    all_hits,
    cpv_matches,
    expected_facet,
    ids,
    latest_versions,
    nuts_matches,
    places,
    value_of,
    words_of,
)

pytestmark = pytest.mark.timeout(600)


# --- Indexing, look-ups, versions -------------------------------------------------------


async def test_index_reports_one_outcome_per_notice_in_batch_order(
    store: SearchStore, corpus: list[Notice]
) -> None:
    highest: dict[str, int] = {}
    expected = []
    for n in corpus:
        stale = n.version < highest.get(n.id, 0)
        highest[n.id] = max(highest.get(n.id, 0), n.version)
        expected.append((n.id, "stale" if stale else "indexed"))
    outcomes = await store.index(corpus)
    assert [(o.notice_id, o.status) for o in outcomes] == expected


async def test_get_returns_the_latest_version_of_every_notice(
    loaded: SearchStore, corpus: list[Notice]
) -> None:
    for notice_id, notice in latest_versions(corpus).items():
        assert await loaded.get(notice_id) == notice
    assert await loaded.get("france_boamp:does-not-exist") is None


async def test_history_lists_every_version_oldest_first(
    loaded: SearchStore, corpus: list[Notice]
) -> None:
    by_version: dict[str, dict[int, Notice]] = {}
    for n in corpus:
        by_version.setdefault(n.id, {})[n.version] = n
    multi = {i: v for i, v in by_version.items() if len(v) > 1}
    assert multi, "the corpus holds notices with several versions"
    for notice_id, versions in multi.items():
        assert await loaded.history(notice_id) == [versions[v] for v in sorted(versions)]


async def test_new_version_replaces_the_document_and_joins_the_history(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    original = next(n for n in latest if n.version == 1 and n.notice_type is NoticeType.AWARD)
    second = msgspec.structs.replace(original, title="Xylophonie municipale", version=2)
    assert [o.status for o in await loaded.index([second])] == ["indexed"]
    assert await loaded.get(original.id) == second
    assert await loaded.history(original.id) == [original, second]
    assert await all_hits(loaded, q="xylophonie") == [original.id]


async def test_older_version_arriving_late_is_stale_and_kept_in_history(
    store: SearchStore, latest: list[Notice]
) -> None:
    original = latest[0]
    newer = msgspec.structs.replace(original, title="Version trois", version=3)
    older = msgspec.structs.replace(original, title="Version deux", version=2)
    assert [o.status for o in await store.index([newer])] == ["indexed"]
    assert [o.status for o in await store.index([older])] == ["stale"]
    assert await store.get(original.id) == newer
    assert await store.history(original.id) == [older, newer]
    assert await all_hits(store, q='"version deux"') == []


async def test_same_version_again_replaces_the_document(
    store: SearchStore, latest: list[Notice]
) -> None:
    original = latest[0]
    remapped = msgspec.structs.replace(original, title="Quadrature du cercle")
    await store.index([original])
    assert [o.status for o in await store.index([remapped])] == ["indexed"]
    assert await store.get(original.id) == remapped
    assert await store.history(original.id) == [remapped]
    assert await all_hits(store, q="quadrature") == [original.id]


# --- Filters ----------------------------------------------------------------------------


def _most_common(values: Iterable[str]) -> str:
    return Counter(values).most_common(1)[0][0]


def filter_cases(latest: list[Notice]) -> dict[str, tuple[dict[str, Any], set[str]]]:
    """name -> (query arguments, expected ids), values picked from the corpus."""
    mains = [n.cpv_main for n in latest if n.cpv_main]
    division, group, full = _most_common(mains)[:2], _most_common(mains)[:4], mains[0]
    additional = next(c for n in latest for c in n.cpv_additional if c not in mains)
    lot = next(
        c for n in latest for x in n.lots for c in [x.cpv_main, *x.cpv_additional]
        if c and c not in mains and not any(c in m.cpv_additional for m in latest)
    )  # fmt: skip
    department = _most_common(d for n in latest for d in places(n, "departments"))
    region = _most_common(r for n in latest for r in places(n, "regions"))
    nuts = _most_common(c for n in latest for c in places(n, "nuts"))
    siret = _most_common(n.buyer.siret for n in latest if n.buyer and n.buyer.siret)
    deadlines = sorted(n.submission_deadline for n in latest if n.submission_deadline)
    published = sorted(n.published_at for n in latest)
    values = sorted(v for n in latest if (v := value_of(n)) is not None)
    lo, hi = published[len(published) // 3], published[2 * len(published) // 3]
    now = deadlines[len(deadlines) // 2]
    d_lo, d_hi = deadlines[len(deadlines) // 4], deadlines[3 * len(deadlines) // 4]
    v_lo, v_hi = values[len(values) // 4], values[3 * len(values) // 4]

    def where(predicate: Callable[[Notice], bool]) -> set[str]:
        return {n.id for n in latest if predicate(n)}

    def has_deadline_between(n: Notice, a: datetime, b: datetime | None) -> bool:
        d = n.submission_deadline
        return d is not None and d >= a and (b is None or d <= b)

    return {
        "cpv_division": ({"cpv": [division]}, where(lambda n: cpv_matches(n, division))),
        "cpv_group": ({"cpv": [group]}, where(lambda n: cpv_matches(n, group))),
        "cpv_full": ({"cpv": [full]}, where(lambda n: cpv_matches(n, full))),
        "cpv_additional": ({"cpv": [additional]}, where(lambda n: cpv_matches(n, additional))),
        "cpv_lot": ({"cpv": [lot]}, where(lambda n: cpv_matches(n, lot))),
        "cpv_or": ({"cpv": [division, lot]},
                   where(lambda n: cpv_matches(n, division) or cpv_matches(n, lot))),
        "department": ({"department": [department]},
                       where(lambda n: department in places(n, "departments"))),
        "region": ({"region": [region]}, where(lambda n: region in places(n, "regions"))),
        "nuts_full": ({"nuts": [nuts]}, where(lambda n: nuts_matches(n, nuts))),
        "nuts_prefix": ({"nuts": [nuts[:3]]}, where(lambda n: nuts_matches(n, nuts[:3]))),
        "buyer_siret": ({"buyer": siret},
                        where(lambda n: n.buyer is not None and n.buyer.siret == siret)),
        "buyer_siren": ({"buyer": siret[:9]}, where(
            lambda n: n.buyer is not None
            and (n.buyer.siren or (n.buyer.siret or "")[:9]) == siret[:9])),
        "source": ({"source": ["france_boamp", "europe_ted"]},
                   where(lambda n: n.source in {"france_boamp", "europe_ted"})),
        "notice_type": ({"notice_type": ["contract_notice"]},
                        where(lambda n: n.notice_type == "contract_notice")),
        "procedure_type": ({"procedure_type": ["open", "restricted"]},
                           where(lambda n: n.procedure_type in {"open", "restricted"})),
        "contract_nature": ({"contract_nature": ["works"]},
                            where(lambda n: n.contract_nature == "works")),
        "status": ({"status": ["active", "planned"]},
                   where(lambda n: n.status in {"active", "planned"})),
        "open_only": ({"open_only": True, "now": now},
                      where(lambda n: has_deadline_between(n, now, None))),
        "published_range": ({"published_after": lo, "published_before": hi},
                            where(lambda n: lo <= n.published_at <= hi)),
        "deadline_range": ({"deadline_after": d_lo, "deadline_before": d_hi},
                           where(lambda n: has_deadline_between(n, d_lo, d_hi))),
        "deadline_before": ({"deadline_before": d_hi},
                            where(lambda n: n.submission_deadline is not None
                                  and n.submission_deadline <= d_hi)),
        "value_range": ({"value_min": v_lo, "value_max": v_hi},
                        where(lambda n: (v := value_of(n)) is not None and v_lo <= v <= v_hi)),
        "value_min": ({"value_min": v_hi},
                      where(lambda n: (v := value_of(n)) is not None and v >= v_hi)),
        "combined": ({"source": ["france_decp"], "contract_nature": ["works", "supplies"],
                      "cpv": [division]},
                     where(lambda n: n.source == "france_decp" and cpv_matches(n, division)
                           and n.contract_nature in {"works", "supplies"})),
    }  # fmt: skip


FILTERS = [
    "cpv_division", "cpv_group", "cpv_full", "cpv_additional", "cpv_lot", "cpv_or",
    "department", "region", "nuts_full", "nuts_prefix", "buyer_siret", "buyer_siren", "source",
    "notice_type", "procedure_type", "contract_nature", "status", "open_only",
    "published_range", "deadline_range", "deadline_before", "value_range", "value_min",
    "combined",
]  # fmt: skip


@pytest.mark.parametrize("case", FILTERS)
async def test_filter_finds_exactly_the_matching_notices(
    loaded: SearchStore, latest: list[Notice], case: str
) -> None:
    arguments, expected = filter_cases(latest)[case]
    assert 0 < len(expected) < len(latest), f"case {case} must select something, not all"
    found = await all_hits(loaded, sort="newest", **arguments)
    assert len(found) == len(set(found))
    assert set(found) == expected
    result = await loaded.search(SearchQuery(page_size=1, **arguments))
    assert (result.total, result.total_relation) == (len(expected), "eq")


async def test_buyer_name_filter_requires_every_word_of_the_name(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    name = _most_common(n.buyer.name for n in latest if n.buyer)
    found = set(await all_hits(loaded, buyer=name))
    assert ids(n for n in latest if n.buyer and n.buyer.name == name) <= found
    significant = [w for w in words_of(name) if len(w) > 3]
    for n in latest:
        if n.id in found:
            assert n.buyer is not None
            for word in significant:
                assert any(w[:4] == word[:4] for w in words_of(n.buyer.name)), (name, n.buyer)


async def test_every_buyer_facet_value_filters_back_to_its_count(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    """`buyer_name` is the facet's drill-down: exactly the notices the facet counted, also for
    a name of 14 digits or one whose words other buyers share."""
    result = await loaded.search(SearchQuery(facets=["buyer"], facet_size=100, page_size=1))
    buckets = result.facets["buyer"]
    assert len(buckets) == 100
    for bucket in buckets:
        found = await all_hits(loaded, sort="newest", buyer_name=bucket.value)
        expected = ids(n for n in latest if n.buyer and n.buyer.name == bucket.value)
        assert (len(found), set(found)) == (bucket.count, expected), bucket.value


# --- Sorting, paging, totals --------------------------------------------------------------


@pytest.mark.parametrize("sort", ["newest", "deadline", "value", "relevance"])
async def test_sort_order_is_exact_with_ties_broken_by_id(
    loaded: SearchStore, latest: list[Notice], sort: str
) -> None:
    expected = [n.id for n in sorted(latest, key=SORT_KEYS[sort])]
    assert await all_hits(loaded, sort=sort) == expected


@pytest.mark.parametrize("sort", ["newest", "deadline", "value"])
async def test_sort_order_holds_under_a_filter(
    loaded: SearchStore, latest: list[Notice], sort: str
) -> None:
    chosen = [n for n in latest if n.source == "france_decp"]
    expected = [n.id for n in sorted(chosen, key=SORT_KEYS[sort])]
    assert await all_hits(loaded, sort=sort, source=["france_decp"]) == expected


async def test_cursor_paging_by_seven_returns_each_hit_once_in_order(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    expected = [n.id for n in sorted(latest, key=SORT_KEYS["newest"])]
    seen: list[str] = []
    cursor = None
    for _ in range(len(expected) // 7 + 2):
        result = await loaded.search(SearchQuery(sort="newest", page_size=7, cursor=cursor))
        assert len(result.hits) <= 7
        assert (result.total, result.total_relation) == (len(expected), "eq")
        seen += [h.notice.id for h in result.hits]
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == expected


async def test_cursor_paging_by_relevance_matches_one_big_page(loaded: SearchStore) -> None:
    one_page = await loaded.search(SearchQuery(q="travaux", page_size=100))
    assert 7 < one_page.total <= 100
    seen: list[str] = []
    cursor = None
    while True:
        result = await loaded.search(SearchQuery(q="travaux", page_size=7, cursor=cursor))
        seen += [h.notice.id for h in result.hits]
        if (cursor := result.next_cursor) is None:
            break
    assert seen == [h.notice.id for h in one_page.hits]


async def test_total_is_a_lower_bound_beyond_the_exact_limit(
    loaded: SearchStore, latest: list[Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "TOTAL_EXACT_UP_TO", 10)
    result = await loaded.search(SearchQuery(page_size=3))
    assert (result.total, result.total_relation) == (10, "gte")
    assert len(result.hits) == 3 and result.next_cursor is not None
    few = [n for n in latest if n.source == "france_boamp"]
    assert len(few) <= 10
    result = await loaded.search(SearchQuery(source=["france_boamp"]))
    assert (result.total, result.total_relation) == (len(few), "eq")


@pytest.mark.parametrize("cursor", ["not a cursor", "WzFd", "eyJzb3J0IjoibmV3ZXN0In0", "%%%"])
async def test_bad_cursor_raises_value_error(loaded: SearchStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor"):
        await loaded.search(SearchQuery(sort="newest", cursor=cursor))


# --- Facets -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", contract.FACETS)
async def test_facet_counts_every_hit_top_values_ties_by_value(
    loaded: SearchStore, latest: list[Notice], name: FacetName
) -> None:
    result = await loaded.search(SearchQuery(facets=[name], facet_size=100, page_size=1))
    assert [(b.value, b.count) for b in result.facets[name]] == expected_facet(latest, name, 100)
    result = await loaded.search(SearchQuery(facets=[name], facet_size=3, page_size=1))
    assert [(b.value, b.count) for b in result.facets[name]] == expected_facet(latest, name, 3)


async def test_facets_count_the_filtered_and_searched_set(
    loaded: SearchStore, latest: list[Notice]
) -> None:
    hits = set(await all_hits(loaded, q="travaux", contract_nature=["works"]))
    assert hits
    chosen = [n for n in latest if n.id in hits]
    result = await loaded.search(
        SearchQuery(q="travaux", contract_nature=["works"], facets=list(contract.FACETS))
    )
    assert set(result.facets) == set(contract.FACETS)
    for name in contract.FACETS:
        got = [(b.value, b.count) for b in result.facets[name]]
        assert got == expected_facet(chosen, name, 20), name
