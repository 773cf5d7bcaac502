"""GET /v1/notices on both stores with the real-sample corpus: every filter, sort, facet,
highlights, grouping and cursor paging, checked against values computed from the corpus."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from scope_shared.reference import cpv_entry, department, region
from scope_shared.schema import Notice
from scope_shared.store import FACETS, SearchStore, procedure_card
from tests.search_api import model
from tests.search_api.conftest import Client, MakeClient, all_pages, get_json, search_ids
from tests.support.corpus import copy_as

Params = list[tuple[str, str]]
Case = Callable[[list[Notice]], tuple[Params, model.Predicate]]


def _most_common(values: list[str], rank: int = 0) -> str:
    return Counter(values).most_common()[rank][0]


def _siret(notices: list[Notice]) -> str:
    return _most_common([n.buyer.siret for n in notices if n.buyer and n.buyer.siret])


def _published(notices: list[Notice], fraction: float) -> datetime:
    moments = sorted(n.published_at for n in notices)
    return moments[int(len(moments) * fraction)]


def _deadlines(notices: list[Notice]) -> list[datetime]:
    return sorted(n.submission_deadline for n in notices if n.submission_deadline)


def _cases() -> dict[str, Case]:
    def locations(kind: int) -> Callable[[Notice], set[str]]:
        return lambda n: model.locations(n)[kind]

    def common_location(notices: list[Notice], kind: int, rank: int = 0) -> str:
        return _most_common([v for n in notices for v in locations(kind)(n)], rank)

    return {
        "cpv_division": lambda ns: ([("cpv", "45")], lambda n: model.cpv_matches(n, ["45"])),
        "cpv_group_and_check_digit": lambda ns: (
            [("cpv", "4523"), ("cpv", "71000000-8")],
            lambda n: model.cpv_matches(n, ["4523", "71"]),
        ),
        "cpv_comma_separated": lambda ns: (
            [("cpv", "45,72")],
            lambda n: model.cpv_matches(n, ["45", "72"]),
        ),
        "cpv_exact_code": lambda ns: (
            [("cpv", "45233140")],
            lambda n: model.cpv_matches(n, ["45233140"]),
        ),
        "department": lambda ns: (
            [("department", common_location(ns, 0))],
            lambda n: common_location(ns, 0) in model.locations(n)[0],
        ),
        "departments_or": lambda ns: (
            [("department", f"{common_location(ns, 0)},{common_location(ns, 0, 1)}")],
            lambda n: bool(
                {common_location(ns, 0), common_location(ns, 0, 1)} & model.locations(n)[0]
            ),
        ),
        "region": lambda ns: (
            [("region", common_location(ns, 1))],
            lambda n: common_location(ns, 1) in model.locations(n)[1],
        ),
        "nuts_prefix": lambda ns: ([("nuts", "frd")], lambda n: model.nuts_matches(n, ["FRD"])),
        "buyer_siret": lambda ns: (
            [("buyer", _siret(ns))],
            lambda n: bool(n.buyer and n.buyer.siret == _siret(ns)),
        ),
        "buyer_siren": lambda ns: (
            [("buyer", _siret(ns)[:9])],
            lambda n: bool(
                n.buyer and (n.buyer.siren or (n.buyer.siret or "")[:9]) == _siret(ns)[:9]
            ),
        ),
        "buyer_name": lambda ns: (
            [("buyer", "Malakoff")],
            lambda n: bool(n.buyer and "malakoff" in n.buyer.name.casefold()),
        ),
        "source": lambda ns: (
            [("source", "europe_ted"), ("source", "ocds_api")],
            lambda n: n.source in {"europe_ted", "ocds_api"},
        ),
        "notice_type": lambda ns: (
            [("notice_type", "contract_notice,award")],
            lambda n: n.notice_type.value in {"contract_notice", "award"},
        ),
        "procedure_type": lambda ns: (
            [("procedure_type", "open")],
            lambda n: n.procedure_type is not None and n.procedure_type.value == "open",
        ),
        "contract_nature": lambda ns: (
            [("contract_nature", "works")],
            lambda n: n.contract_nature is not None and n.contract_nature.value == "works",
        ),
        "status": lambda ns: (
            [("status", "active"), ("status", "planned")],
            lambda n: n.status.value in {"active", "planned"},
        ),
        "published_after_inclusive": lambda ns: (
            [("published_after", model.stamp(_published(ns, 0.5)))],
            lambda n: n.published_at >= _published(ns, 0.5),
        ),
        "published_before_inclusive": lambda ns: (
            [("published_before", model.stamp(_published(ns, 0.3)))],
            lambda n: n.published_at <= _published(ns, 0.3),
        ),
        "published_between_dates": lambda ns: (
            [("published_after", "2019-01-01"), ("published_before", "2019-06-30")],
            lambda n: (
                datetime(2019, 1, 1, tzinfo=UTC)
                <= n.published_at
                <= datetime(2019, 6, 30, tzinfo=UTC)
            ),
        ),
        "deadline_after": lambda ns: (
            [("deadline_after", model.stamp(_deadlines(ns)[5]))],
            lambda n: (
                n.submission_deadline is not None and n.submission_deadline >= _deadlines(ns)[5]
            ),
        ),
        "deadline_before": lambda ns: (
            [("deadline_before", model.stamp(_deadlines(ns)[10]))],
            lambda n: (
                n.submission_deadline is not None and n.submission_deadline <= _deadlines(ns)[10]
            ),
        ),
        "value_min": lambda ns: (
            [("value_min", "500000")],
            lambda n: (model.value_of(n) or -1) >= Decimal(500000),
        ),
        "value_max": lambda ns: (
            [("value_max", "3000000.5")],
            lambda n: model.value_of(n) is not None and model.value_of(n) <= Decimal("3000000.5"),  # type: ignore[operator]
        ),
        "filters_and": lambda ns: (
            [("contract_nature", "works"), ("procedure_type", "adapted"), ("cpv", "45")],
            lambda n: (
                n.contract_nature is not None
                and n.contract_nature.value == "works"
                and n.procedure_type is not None
                and n.procedure_type.value == "adapted"
                and model.cpv_matches(n, ["45"])
            ),
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("case", sorted(CASES))
async def test_filter_returns_exactly_the_matching_notices(
    api: Client, notices: list[Notice], case: str
) -> None:
    params, predicate = CASES[case](notices)
    expected = model.select(notices, predicate)
    assert 0 < len(expected) < len(notices), "the case must split the corpus"
    ids = await search_ids(api, params)
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    first = await (await api.get("/v1/notices", params=params)).json()
    assert first["total"] == {"value": len(expected), "relation": "eq"}


async def test_no_parameters_returns_every_notice_newest_first(
    api: Client, notices: list[Notice]
) -> None:
    body = await get_json(api, "/v1/notices")
    assert body["total"] == {"value": len(notices), "relation": "eq"}
    assert [h["notice"]["id"] for h in body["hits"]] == model.order(notices, "newest")[:20]
    assert all(h["score"] is None and h["procedure"] is None for h in body["hits"])
    assert body["facets"] == {}


@pytest.mark.parametrize("sort", ["newest", "deadline", "value"])
async def test_sort_orders_every_page_as_the_contract_says(
    api: Client, notices: list[Notice], sort: str
) -> None:
    ids = await search_ids(api, [("sort", sort)])
    assert ids == model.order(notices, sort)


async def test_cursor_paging_visits_each_notice_once_in_order(
    api: Client, notices: list[Notice]
) -> None:
    hits, pages = await all_pages(api, [("sort", "newest")], page_size=37)
    assert [h["notice"]["id"] for h in hits] == model.order(notices, "newest")
    assert pages == math.ceil(len(notices) / 37)


async def test_next_link_and_link_header_carry_the_same_query(api: Client) -> None:
    response = await api.get("/v1/notices", params={"cpv": "45", "page_size": "5"})
    body = await response.json()
    assert body["links"]["self"].endswith("/v1/notices?cpv=45&page_size=5")
    assert body["links"]["next"].endswith(f"cpv=45&page_size=5&cursor={body['next_cursor']}")
    assert response.headers["Link"] == f'<{body["links"]["next"]}>; rel="next"'


async def test_open_true_keeps_deadlines_not_passed_at_request_time(
    loaded_store: SearchStore, make_client: MakeClient, notices: list[Notice]
) -> None:
    now = _deadlines(notices)[12] - timedelta(seconds=1)
    client = await make_client(loaded_store, clock=lambda: now)
    expected = model.select(
        notices, lambda n: n.submission_deadline is not None and n.submission_deadline >= now
    )
    assert 0 < len(expected) < 21
    assert set(await search_ids(client, [("open", "true")])) == expected
    assert len(await search_ids(client, [("open", "false")])) == len(notices)


async def test_open_true_pages_with_the_first_page_reference_time(
    loaded_store: SearchStore, make_client: MakeClient, notices: list[Notice]
) -> None:
    """The cursor carries `now`: a later page agrees with the first on what was open."""
    deadline = _deadlines(notices)[12]
    moments = iter([deadline - timedelta(seconds=1), deadline + timedelta(days=1)])
    client = await make_client(loaded_store, clock=lambda: next(moments))
    first = await get_json(client, "/v1/notices", open="true", page_size="1", sort="deadline")
    assert first["hits"][0]["notice"]["submission_deadline"] == model.stamp(deadline)
    expected_total = sum(1 for d in _deadlines(notices) if d >= deadline)
    assert first["total"]["value"] == expected_total
    second = await get_json(client, "/v1/notices", open="true", page_size="1", sort="deadline",
                            cursor=first["next_cursor"])  # fmt: skip
    assert second["total"]["value"] == expected_total


async def test_open_true_polled_within_a_minute_keeps_its_etag(
    loaded_store: SearchStore, make_client: MakeClient, notices: list[Notice]
) -> None:
    """The cursor carries the reference time: to the microsecond, every poll of a search of
    several pages had a new body and never drew a 304."""
    deadline = _deadlines(notices)[12]
    start = deadline.replace(second=0, microsecond=0) - timedelta(minutes=5)
    moments = iter([start + timedelta(seconds=1, microseconds=17), start + timedelta(seconds=42)])
    client = await make_client(loaded_store, clock=lambda: next(moments))
    params = {"open": "true", "page_size": "1"}
    first = await client.get("/v1/notices", params=params)
    assert (await first.json())["next_cursor"] is not None
    again = await client.get(
        "/v1/notices", params=params, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304


@pytest.mark.parametrize("facet", list(FACETS))
async def test_facet_counts_match_the_corpus(
    api: Client, notices: list[Notice], facet: str
) -> None:
    body = await get_json(api, "/v1/notices", facets=facet, facet_size="5")
    buckets = [(b["value"], b["count"]) for b in body["facets"][facet]]
    assert buckets == model.facet(notices, facet, 5)
    filtered = await get_json(
        api, "/v1/notices", facets=facet, facet_size="3", contract_nature="works"
    )
    works = [n for n in notices if n.contract_nature and n.contract_nature.value == "works"]
    got = [(b["value"], b["count"]) for b in filtered["facets"][facet]]
    assert got == model.facet(works, facet, 3)


async def test_facets_carry_french_labels_for_codes(api: Client) -> None:
    body = await get_json(
        api, "/v1/notices", facets="cpv_division,department,region,source", facet_size="3"
    )
    for bucket in body["facets"]["cpv_division"]:
        entry = cpv_entry(bucket["value"].ljust(8, "0"))
        assert entry is not None
        assert bucket["label"] == entry.label_fr
    for bucket in body["facets"]["department"]:
        assert bucket["label"] == department(bucket["value"]).name  # type: ignore[union-attr]
    for bucket in body["facets"]["region"]:
        assert bucket["label"] == region(bucket["value"]).name  # type: ignore[union-attr]
    assert {b["label"] for b in body["facets"]["source"]} == {None}


async def test_several_facets_in_one_request_repeatable_and_comma_separated(
    api: Client, notices: list[Notice]
) -> None:
    response = await api.get(
        "/v1/notices", params=[("facets", "source,notice_type"), ("facets", "procedure_type")]
    )
    body = await response.json()
    assert set(body["facets"]) == {"source", "notice_type", "procedure_type"}
    assert [(b["value"], b["count"]) for b in body["facets"]["source"]] == model.facet(
        notices, "source", 20
    )


async def test_highlights_mark_matches_and_escape_the_rest(api: Client) -> None:
    body = await get_json(api, "/v1/notices", q="aménagements", highlight="true")
    assert body["hits"]
    for hit in body["hits"]:
        fragments = [f for fs in hit["highlights"].values() for f in fs]
        assert any("<em>" in f for f in fragments), hit["highlights"]
        for fragment in fragments:
            assert "'" not in fragment.replace("<em>", "").replace("</em>", "")
    plain = await get_json(api, "/v1/notices", q="aménagements")
    assert all(hit["highlights"] == {} for hit in plain["hits"])


async def test_text_query_syntax_combines_words_as_documented(api: Client) -> None:
    travaux = set(await search_ids(api, [("q", "travaux")]))
    voirie = set(await search_ids(api, [("q", "voirie")]))
    assert travaux and voirie and not voirie <= travaux
    assert set(await search_ids(api, [("q", "travaux voirie")])) == travaux & voirie
    assert set(await search_ids(api, [("q", "+travaux +voirie")])) == travaux & voirie
    assert set(await search_ids(api, [("q", "travaux OR voirie")])) == travaux | voirie
    assert set(await search_ids(api, [("q", "travaux -voirie")])) == travaux - voirie
    assert set(await search_ids(api, [("q", "TRAVAUX")])) == travaux


async def test_quoted_phrase_finds_the_notices_it_was_taken_from(
    api: Client, notices: list[Notice]
) -> None:
    phrase = "cycle lane improvements"
    expected = model.select(
        notices, lambda n: phrase in f"{n.title} {n.description or ''}".casefold()
    )
    assert 0 < len(expected) < 5
    assert set(await search_ids(api, [("q", f'"{phrase}"')])) == expected
    reordered = set(await search_ids(api, [("q", '"lane cycle improvements"')]))
    assert reordered == set()


async def test_french_analysis_ignores_accents_and_plurals(api: Client) -> None:
    accented = set(await search_ids(api, [("q", "aménagements")]))
    assert accented
    assert set(await search_ids(api, [("q", "amenagement")])) == accented


async def test_relevance_is_the_default_with_q_and_scores_decrease(api: Client) -> None:
    body = await get_json(api, "/v1/notices", q="travaux", page_size="50")
    scores = [h["score"] for h in body["hits"]]
    assert all(isinstance(s, float) for s in scores)
    assert scores == sorted(scores, reverse=True)
    explicit = await get_json(api, "/v1/notices", q="travaux", page_size="50", sort="relevance")
    assert explicit["hits"] == body["hits"]


async def test_group_by_procedure_returns_one_card_per_procedure(
    api: Client, notices: list[Notice]
) -> None:
    hits, _ = await all_pages(api, [("group", "procedure")])
    procedures: dict[str, list[Notice]] = {}
    for notice in notices:
        procedures.setdefault(notice.procedure_id, []).append(notice)
    assert len(hits) == len(procedures)
    for hit in hits:
        card = procedure_card(procedures[hit["procedure"]["procedure_id"]])
        assert hit["procedure"]["notice_ids"] == card.notice_ids
        assert hit["procedure"]["notice_types"] == card.notice_types
        assert hit["procedure"]["sources"] == card.sources
        assert hit["notice"]["id"] == card.notice.id
        assert hit["notice"]["status"] == card.notice.status.value
    body = await get_json(api, "/v1/notices", group="procedure")
    assert body["total"] == {"value": len(procedures), "relation": "eq"}


async def test_page_size_is_honoured_up_to_its_cap(api: Client) -> None:
    body = await get_json(api, "/v1/notices", page_size="100")
    assert len(body["hits"]) == 100
    body = await get_json(api, "/v1/notices", page_size="3")
    assert len(body["hits"]) == 3


async def test_a_buyer_facet_value_with_a_line_break_filters_back(
    empty_store: SearchStore, make_client: MakeClient, corpus: list[Notice]
) -> None:
    """Names are kept as published (a line break, a stray Windows-1252 byte): the facet
    value sent back as `buyer_name` must match it, not a folded copy of it."""
    base = next(n for n in corpus if n.buyer is not None)
    assert base.buyer is not None
    name = "Commune de Brive\nService des achats\x92"
    odd = copy_as(base, "odd-1", buyer=msgspec.structs.replace(base.buyer, name=name))
    await empty_store.index([base, odd])
    client = await make_client(empty_store)
    facets = await get_json(client, "/v1/notices", facets="buyer", facet_size="10")
    assert name in [b["value"] for b in facets["facets"]["buyer"]]
    body = await get_json(client, "/v1/notices", buyer_name=name)
    assert [h["notice"]["id"] for h in body["hits"]] == [odd.id]
