"""BOAMP harvester against a local replay of the Explore API serving real recorded records."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import msgspec
import pytest
from nats.js import JetStreamContext

from scope_harvester.base import Window
from scope_harvester.sources.france_boamp import FranceBoamp
from scope_harvester.state import StateStore
from scope_shared.bus import DEAD_STREAM, headers
from scope_shared.devservices.replay.boamp import BoampReplay, load_recorded_records
from scope_shared.devservices.replay.faults import Faults
from scope_shared.schema import RawFormat
from tests.harvester.conftest import HarvestFn
from tests.support.bus import published_raws

RECORDS = load_recorded_records(
    Path(__file__).parents[1]
    / "fixtures/france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
)
IDWEBS = sorted(r["idweb"] for r in RECORDS)
DAY = Window(since=date(2026, 1, 21), until=date(2026, 1, 21))
PAGE_OF_TWO = {"page_size": 2}


async def _published_ids(js: JetStreamContext) -> list[str]:
    ids = []
    for raw in await published_raws(js):
        assert raw.format is RawFormat.BOAMP_JSON
        ids.append(raw.source_id)
    return sorted(ids)


async def test_every_record_published_once_and_cursor_on_the_day(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = BoampReplay(RECORDS)
    url = await serve(replay.app())
    report = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO)
    assert report.status == "ok"
    assert (report.counts.pages, report.counts.published, report.counts.duplicates) == (3, 5, 0)
    assert await _published_ids(js) == IDWEBS
    assert await states.cursor("france_boamp", "live") == "2026-01-21"
    assert [q["offset"] for q in replay.queries] == ["0", "2", "4"]
    assert all(q["limit"] == "2" and q["order_by"] == "idweb" for q in replay.queries)

    again = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO)
    assert (again.counts.published, again.counts.duplicates) == (0, 5)
    state = await states.load("france_boamp")
    assert state.totals.published == 5
    assert state.status == "ok"
    assert state.last_published_at is not None


async def test_cursor_resumes_from_last_complete_day(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = BoampReplay(RECORDS)
    url = await serve(replay.app())
    await states.save_cursor("france_boamp", "live", "2026-01-20")
    report = await harvest(FranceBoamp, url, window=Window(until=date(2026, 1, 22)))
    days = [q["where"] for q in replay.queries]
    assert days == [
        "dateparution = date'2026-01-20'",
        "dateparution = date'2026-01-21'",
        "dateparution = date'2026-01-22'",
    ]
    assert report.counts.published == 5
    assert await states.cursor("france_boamp", "live") == "2026-01-22"


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "truncated", "cut", "reset"])
async def test_transient_fault_is_retried_and_nothing_lost(
    fault: str, serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults(stall_seconds=3.0)
    # aiohttp itself retries once a request whose kept-alive connection was reset, so a reset
    # reaches our retry logic only the second time in a row.
    faults.inject("ok", fault, *(["reset"] if fault == "reset" else []))
    replay = BoampReplay(RECORDS, faults)
    url = await serve(replay.app())
    report = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO)
    assert report.status == "ok"
    assert report.counts.published == 5
    assert report.counts.failed_requests == 1
    assert await _published_ids(js) == IDWEBS


async def test_source_that_keeps_failing_fails_the_run_and_keeps_the_cursor(
    serve, harvest: HarvestFn, states: StateStore
) -> None:
    faults = Faults()
    faults.inject(*["500"] * 50)
    url = await serve(BoampReplay(RECORDS, faults).app())
    await states.save_cursor("france_boamp", "live", "2026-01-21")
    report = await harvest(FranceBoamp, url, window=Window(until=date(2026, 1, 21)))
    assert report.status == "failed"
    assert report.error is not None and "HTTP 500" in report.error
    state = await states.load("france_boamp")
    assert state.status == "failed"
    assert state.last_error == report.error
    assert await states.cursor("france_boamp", "live") == "2026-01-21"


async def test_high_failure_share_is_reported_failed_even_when_complete(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults()
    faults.inject("500", "500", "ok", "500", "500")
    url = await serve(BoampReplay(RECORDS, faults).app())
    report = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO, failure_ratio=0.2)
    assert report.counts.published == 5
    assert report.status == "failed"
    assert report.error is not None and "requests failed" in report.error


async def test_run_killed_mid_day_resumes_and_publishes_nothing_twice(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    faults = Faults(stall_seconds=30.0)
    faults.inject("ok", "timeout")
    url = await serve(BoampReplay(RECORDS, faults).app())
    task = asyncio.create_task(harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO))
    while faults.requests < 2:  # noqa: ASYNC110 - waits on the replay's request counter
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await states.cursor("france_boamp", "live") is None
    assert len(await _published_ids(js)) == 2

    faults.queue.clear()
    report = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO)
    assert (report.counts.published, report.counts.duplicates) == (3, 2)
    assert await _published_ids(js) == IDWEBS
    assert await states.cursor("france_boamp", "live") == "2026-01-21"


async def test_day_that_changes_while_paged_is_walked_again(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    withheld, *visible = sorted(RECORDS, key=lambda r: r["idweb"])
    replay = BoampReplay(visible)
    original = replay.records_handler

    async def late_insert(request):  # type: ignore[no-untyped-def]
        if len(replay.queries) == 1:
            replay.records.append(withheld)
        return await original(request)

    replay.records_handler = late_insert  # type: ignore[method-assign]
    url = await serve(replay.app())
    report = await harvest(FranceBoamp, url, window=DAY, options=PAGE_OF_TWO)
    assert report.status == "ok"
    assert await _published_ids(js) == IDWEBS
    assert len(replay.queries) > 3


async def test_window_run_by_hand_leaves_the_live_cursor(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    url = await serve(BoampReplay(RECORDS).app())
    await states.save_cursor("france_boamp", "live", "2026-01-10")
    report = await harvest(FranceBoamp, url, window=DAY, lane="window")
    assert (report.status, report.counts.published) == ("ok", 5)
    assert await states.cursor("france_boamp", "live") == "2026-01-10"
    assert await states.cursor("france_boamp", "window") is None


async def test_records_without_idweb_are_skipped_and_paging_goes_on(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    # A record without its number sorts first: with one record per page, the first page has
    # nothing to publish, which once ended the day there.
    records = [*RECORDS, {**RECORDS[0], "idweb": " "}]
    replay = BoampReplay(records)
    url = await serve(replay.app())
    report = await harvest(FranceBoamp, url, window=DAY, options={"page_size": 1})
    assert (report.status, report.counts.published, report.counts.rejected) == ("ok", 5, 1)
    assert await _published_ids(js) == IDWEBS
    assert [q["offset"] for q in replay.queries] == ["0", "1", "2", "3", "4", "5"]
    # Kept, with its bytes and the reason, as a dead letter of the harvest stage.
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.subject == "scope.dead.harvest.france_boamp"
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_FIELD] == "$.results[0].idweb"
    assert msgspec.json.decode(dead.data)["idweb"] == " "
