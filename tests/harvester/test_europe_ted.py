"""TED harvester against a local replay of the Search API v3 and notice XML, from real samples."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

import aiohttp
import msgspec
import pytest
from nats.js import JetStreamContext

from scope_harvester.base import Window
from scope_harvester.sources.europe_ted import EuropeTed
from scope_harvester.state import StateStore
from scope_shared.bus import DEAD_STREAM, RAW_STREAM, headers
from scope_shared.devservices.replay.faults import Faults
from scope_shared.devservices.replay.ted import Notice, TedReplay, load_notices
from scope_shared.schema import RawFormat
from tests.conftest import SAMPLES
from tests.harvester.conftest import HarvestFn
from tests.support.bus import published_ids, published_raws, stream_messages

NOTICES = load_notices(SAMPLES / "europe_ted")
NUMBERS = sorted({n.fields["publication-number"] for n in NOTICES})
ALL = Window(since=date(2018, 1, 1), until=date(2024, 12, 31))
NEWEST_DAY = "2024-04-15"
SEARCH_ONLY = {"fetch_xml": False}
"""The search fields as notices: the tests of the search paging itself."""
PAGE_OF_FOUR = {"page_size": 4, **SEARCH_ONLY}
"""14 listed notices (one listed twice, as recorded) make 4 pages."""


async def test_every_notice_published_once_and_cursor_on_newest_day(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = TedReplay(NOTICES)
    url = await serve(replay.app())
    report = await harvest(EuropeTed, url, window=ALL, options=SEARCH_ONLY)
    assert report.status == "ok"
    assert (report.counts.fetched, report.counts.published, report.counts.duplicates) == (14, 13, 1)
    assert await published_ids(js) == NUMBERS
    assert {raw.format for raw in await published_raws(js)} == {RawFormat.TED_API_JSON}
    assert await states.cursor("europe_ted", "live") == NEWEST_DAY
    (body,) = replay.bodies
    assert body["query"] == (
        "(buyer-country=FRA) AND publication-date>=20180101 AND publication-date<=20241231"
    )
    assert (body["limit"], body["paginationMode"], body["scope"]) == (250, "ITERATION", "ALL")
    assert "iterationNextToken" not in body


async def test_small_pages_follow_the_iteration_tokens(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = TedReplay(NOTICES)
    url = await serve(replay.app())
    report = await harvest(EuropeTed, url, window=ALL, options=PAGE_OF_FOUR)
    assert (report.counts.pages, report.counts.published, report.counts.duplicates) == (4, 13, 1)
    tokens = [b.get("iterationNextToken") for b in replay.bodies]
    assert tokens[0] is None
    assert len(tokens) == 4 and len(set(tokens[1:])) == 3 and all(tokens[1:])
    assert {b["query"] for b in replay.bodies} == {replay.bodies[0]["query"]}
    assert await published_ids(js) == NUMBERS
    assert await states.cursor("europe_ted", "live") == NEWEST_DAY


async def test_cursor_day_is_read_again_without_upper_bound(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = TedReplay(NOTICES)
    url = await serve(replay.app())
    await states.save_cursor("europe_ted", "live", "2024-04-11")
    report = await harvest(EuropeTed, url)
    assert replay.bodies[0]["query"] == "(buyer-country=FRA) AND publication-date>=20240411"
    assert await published_ids(js) == ["215550-2024", "219998-2024"]
    assert report.counts.published == 2
    assert await states.cursor("europe_ted", "live") == NEWEST_DAY


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "truncated", "cut", "reset"])
async def test_transient_fault_is_retried_and_nothing_lost(
    fault: str, serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults(stall_seconds=3.0)
    # Unlike BOAMP's GET, a reset POST is not retried by aiohttp itself (not idempotent), so
    # one reset reaches the client's retry logic.
    faults.inject("ok", fault)
    url = await serve(TedReplay(NOTICES, faults).app())
    report = await harvest(EuropeTed, url, window=ALL, options=PAGE_OF_FOUR)
    assert report.status == "ok"
    assert report.counts.failed_requests == 1
    assert await published_ids(js) == NUMBERS


async def test_run_killed_mid_iteration_reruns_from_cursor_and_publishes_nothing_twice(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    faults = Faults(stall_seconds=30.0)
    faults.inject("ok", "timeout")
    url = await serve(TedReplay(NOTICES, faults).app())
    task = asyncio.create_task(harvest(EuropeTed, url, window=ALL, options=PAGE_OF_FOUR))
    # The first page (the recorded notice twice and two more) is stored; the next one stalls.
    # Polling: neither the stream nor the replay signals an event.
    while await stream_messages(js, RAW_STREAM) < 3 or faults.requests < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await states.cursor("europe_ted", "live") is None

    faults.queue.clear()
    report = await harvest(EuropeTed, url, window=ALL, options=PAGE_OF_FOUR)
    assert (report.counts.published, report.counts.duplicates) == (10, 4)
    assert await published_ids(js) == NUMBERS
    assert await states.cursor("europe_ted", "live") == NEWEST_DAY


async def test_fetch_xml_publishes_notice_xml_named_by_publication_number(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = TedReplay(NOTICES)
    url = await serve(replay.app())
    report = await harvest(EuropeTed, url, window=ALL)
    assert report.status == "ok"
    published = await published_raws(js)
    assert Counter(raw.format for raw in published) == {
        RawFormat.EFORMS_XML: 5, RawFormat.TED_XML: 7, RawFormat.TED_API_JSON: 1,
    }  # fmt: skip
    assert sorted(raw.source_id for raw in published) == NUMBERS
    by_number = {n.fields["publication-number"]: n for n in NOTICES}
    for raw in published:
        if raw.format is RawFormat.TED_API_JSON:
            # The recorded notice has no stored XML: its link answers 404 and its JSON stays.
            assert raw.source_id == "67623-2022"
            continue
        assert raw.payload == by_number[raw.source_id].xml
        assert raw.url == f"{url}/en/notice/{raw.source_id}/xml"
        assert raw.content_type == "application/xml"
    assert sorted(replay.xml_requests) == NUMBERS


async def test_fetch_xml_refetches_a_truncated_notice(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults()
    faults.inject("ok", "truncated")
    url = await serve(TedReplay(NOTICES, faults).app())
    since_2023 = Window(since=date(2023, 1, 1), until=date(2024, 12, 31))
    report = await harvest(EuropeTed, url, window=since_2023)
    assert report.counts.failed_requests == 1
    published = await published_raws(js)
    assert {raw.format for raw in published} == {RawFormat.EFORMS_XML, RawFormat.TED_XML}
    assert sorted(raw.source_id for raw in published) == [
        "121869-2023", "191536-2024", "215550-2024", "219998-2024", "47522-2024", "486429-2023",
    ]  # fmt: skip


async def test_xml_host_down_fails_the_run_and_keeps_the_cursor(
    serve, harvest: HarvestFn, states: StateStore
) -> None:
    faults = Faults()
    faults.inject("ok", *["500"] * 100)
    url = await serve(TedReplay(NOTICES, faults).app())
    await states.save_cursor("europe_ted", "live", "2024-04-01")
    report = await harvest(EuropeTed, url)
    assert report.status == "failed"
    assert report.error is not None and "HTTP 500" in report.error
    assert await states.cursor("europe_ted", "live") == "2024-04-01"


async def test_page_size_over_the_api_cap_is_refused(serve, harvest: HarvestFn) -> None:
    url = await serve(TedReplay(NOTICES).app())
    report = await harvest(EuropeTed, url, window=ALL, options={"page_size": 251})
    assert report.status == "failed"
    assert report.error is not None and "HTTP 400" in report.error


async def test_replay_answers_like_the_api_to_bad_requests(serve) -> None:
    url = await serve(TedReplay(NOTICES).app())
    good = {"query": "buyer-country=FRA", "fields": ["ND"], "limit": 2}
    bad_bodies = [
        {**good, "pageSize": 2},  # an unknown key
        {**good, "limit": 251},
        {**good, "scope": "EVERYTHING"},
        {**good, "page": 61, "limit": 250},  # past the 15,000 notices of PAGE_NUMBER mode
    ]
    async with aiohttp.ClientSession() as session:
        for body in bad_bodies:
            async with session.post(f"{url}/v3/notices/search", json=body) as response:
                assert response.status == 400, body
        async with session.get(f"{url}/v3/notices/search") as response:
            assert response.status == 405
        async with session.post(f"{url}/v3/notices/search", json=good) as response:
            page = await response.json()
    assert (len(page["notices"]), page["totalNoticeCount"]) == (2, 14)
    assert page["iterationNextToken"] is None
    assert set(page["notices"][0]) == {"ND", "publication-number", "links"}


async def test_a_notice_without_publication_number_is_kept_aside_and_the_rest_harvested(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    """It used to end the iteration: TED's cursor never moved past that page again. Now it
    is a dead letter of the harvest stage, once however many runs read it."""
    nameless = Notice(fields={"PD": "2024-04-12+02:00"}, day=date(2024, 4, 12))
    url = await serve(TedReplay([*NOTICES, nameless]).app())
    report = await harvest(EuropeTed, url, window=ALL, options=SEARCH_ONLY)
    assert report.status == "ok"
    assert (report.counts.published, report.counts.rejected) == (13, 1)
    assert await published_ids(js) == NUMBERS
    assert await states.cursor("europe_ted", "live") == NEWEST_DAY
    assert await stream_messages(js, DEAD_STREAM) == 1
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.subject == "scope.dead.harvest.europe_ted"
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_ERROR] == "the notice has no publication number"
    assert dead.headers[headers.DEAD_FIELD].endswith("].publication-number")
    assert dead.headers[headers.DEAD_DOCUMENT_URL].endswith("/v3/notices/search")
    assert msgspec.json.decode(dead.data) == {"PD": "2024-04-12+02:00"}
    again = await harvest(EuropeTed, url, window=ALL, options=SEARCH_ONLY)
    assert (again.status, again.counts.rejected) == ("ok", 0)
    # Beyond the dead-letter stream's one-day Msg-Id window too: the harvester remembers it.
    await js.purge_stream(DEAD_STREAM)
    later = await harvest(EuropeTed, url, window=ALL, options=SEARCH_ONLY)
    assert (later.status, later.counts.rejected) == ("ok", 0)
    assert await stream_messages(js, DEAD_STREAM) == 0
