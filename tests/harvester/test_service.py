"""The harvester service: sources from the TOML file, each on its own lane, failures isolated."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from nats.js import JetStreamContext

from scope_harvester import service
from scope_harvester.service import (
    SourceInstance,
    _backfill_lane,
    build_instances,
    run_harvester,
)
from scope_harvester.settings import HarvesterSettings
from scope_harvester.state import StateStore
from scope_shared.devservices.replay.boamp import BoampReplay, load_recorded_records
from scope_shared.errors import ConfigError
from tests.support.bus import published_raws
from tests.support.recent import boamp_records_of_yesterday

RECORDS = load_recorded_records(
    Path(__file__).parents[1]
    / "fixtures/france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
)


def _settings(
    tmp_path: Path, toml: str, nats_url: str = "nats://127.0.0.1:4222"
) -> HarvesterSettings:
    path = tmp_path / "sources.toml"
    path.write_text(toml)
    return HarvesterSettings(harvester_sources_file=str(path), nats_url=[nats_url])


def test_unknown_kind_stops_the_start_naming_the_source(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[sources.france_x]\nkind = "nope"\n')
    with pytest.raises(ConfigError, match=r"france_x.*'nope'"):
        build_instances(settings)


def test_bad_option_stops_the_start_naming_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[sources.france_boamp.options]\npage_size = "many"\n')
    with pytest.raises(ConfigError, match="page_size"):
        build_instances(settings)


def test_unknown_key_in_sources_file_is_an_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path, "[sources.france_boamp]\nintervall = 60\n")
    with pytest.raises(ConfigError, match="intervall"):
        build_instances(settings)


def test_disabled_and_filtered_sources_are_not_run(tmp_path: Path) -> None:
    toml = (
        "[sources.france_boamp]\n[sources.europe_ted_off]\nkind = 'france_boamp'\nenabled = false\n"
    )
    assert [i.name for i in build_instances(_settings(tmp_path, toml))] == ["france_boamp"]


async def test_broken_source_does_not_stop_the_others(
    tmp_path: Path, serve, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    good = await serve(BoampReplay(boamp_records_of_yesterday(RECORDS)).app())

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404)

    broken_app = web.Application()
    broken_app.router.add_get("/{tail:.*}", not_found)
    broken = await serve(broken_app)
    toml = f"""
[sources.france_boamp]
base_url = "{good}"
interval = 3600
rate = 1000.0
options = {{ first_run_days = 1 }}

[sources.france_boamp_mirror]
kind = "france_boamp"
base_url = "{broken}"
interval = 3600
options = {{ first_run_days = 1 }}
"""
    settings = _settings(tmp_path, toml, nats_url)
    stop = asyncio.Event()
    task = asyncio.create_task(run_harvester(settings, stop))
    async with asyncio.timeout(60):
        while (await states.load("france_boamp")).status != "ok":  # noqa: ASYNC110 - polls KV
            await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 15)
    ok, failed = await states.load("france_boamp"), await states.load("france_boamp_mirror")
    assert ok.last_run.published == 5
    assert failed.status == "failed"
    assert failed.last_error is not None and "HTTP 404" in failed.last_error


@pytest.mark.parametrize("kind", ["france_decp", "ocds_api", "rss_feed"])
def test_backfill_of_a_kind_without_date_cursor_stops_the_start(tmp_path: Path, kind: str) -> None:
    toml = (
        f"[sources.editor_x]\nkind = '{kind}'\nbase_url = 'http://127.0.0.1:9/feed'\n"
        "backfill_since = 2020-01-01\n"
    )
    with pytest.raises(ConfigError, match=rf"editor_x: backfill_since is not supported.*{kind}"):
        build_instances(_settings(tmp_path, toml))


async def test_backfill_lane_walks_its_window_once_then_ends(
    tmp_path: Path, serve, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    replay = BoampReplay(RECORDS)
    url = await serve(replay.app())
    settings, instance = await _boamp_backfill(tmp_path, url, nats_url, 3600, states)
    stop = asyncio.Event()
    async with asyncio.timeout(30):
        await _backfill_lane(instance, js, states, settings, stop)
    days = [q["where"] for q in replay.queries]
    assert days == [f"dateparution = date'2026-01-{d}'" for d in (19, 20, 21, 22)]
    assert len(await published_raws(js)) == 5
    assert await states.cursor("france_boamp", "backfill") == "2026-01-22"
    assert await states.cursor("france_boamp", "live") == "2026-01-22"
    # Finished: started again (a restart), the lane asks nothing more.
    async with asyncio.timeout(5):
        await _backfill_lane(instance, js, states, settings, stop)
    assert len(replay.queries) == 4


async def test_backfill_lane_that_fails_waits_before_trying_again(
    tmp_path: Path, serve, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    hits: list[float] = []

    async def down(request: web.Request) -> web.Response:
        hits.append(asyncio.get_running_loop().time())
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", down)
    url = await serve(app)
    settings, instance = await _boamp_backfill(tmp_path, url, nats_url, 0.5, states)
    stop = asyncio.Event()
    task = asyncio.create_task(_backfill_lane(instance, js, states, settings, stop))
    await asyncio.sleep(1.2)
    stop.set()
    await asyncio.wait_for(task, 5)
    # A 404 is not retried: one request per run, one run at start then one per interval,
    # not a loop as fast as the server answers.
    assert 2 <= len(hits) <= 4
    assert min(b - a for a, b in itertools.pairwise(hits)) >= 0.45
    assert (await states.load("france_boamp")).status == "failed"
    assert await states.cursor("france_boamp", "backfill") is None


class _FlakyStates(StateStore):
    """The harvester's state bucket timing out on the first back-fill cursor read."""

    def __init__(self, states: StateStore) -> None:
        super().__init__(states.store)
        self.failed = False

    async def cursor(self, source: str, lane: str) -> str | None:
        if lane == "backfill" and not self.failed:
            self.failed = True
            raise TimeoutError("key-value request timed out")
        return await super().cursor(source, lane)


async def test_backfill_lane_outlives_a_state_store_timeout(
    tmp_path: Path, serve, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    """Its state reads were outside the lane's guard: one key-value timeout ended the lane for
    good, silently (nothing awaited the task until shutdown)."""
    replay = BoampReplay(RECORDS)
    url = await serve(replay.app())
    settings, instance = await _boamp_backfill(tmp_path, url, nats_url, 0.2, states)
    flaky = _FlakyStates(states)
    async with asyncio.timeout(30):
        await _backfill_lane(instance, js, flaky, settings, asyncio.Event())
    assert flaky.failed
    assert await states.cursor("france_boamp", "backfill") == "2026-01-22"
    assert len(await published_raws(js)) == 5


async def _boamp_backfill(
    tmp_path: Path, url: str, nats_url: str, interval: float, states: StateStore
) -> tuple[HarvesterSettings, SourceInstance]:
    """BOAMP from `url`, back-filled from 2026-01-19 up to a live cursor on 2026-01-22."""
    toml = f"""
[sources.france_boamp]
base_url = "{url}"
interval = {interval}
rate = 1000.0
backfill_since = 2026-01-19
"""
    settings = _settings(tmp_path, toml, nats_url)
    (instance,) = build_instances(settings)
    await states.save_cursor("france_boamp", "live", "2026-01-22")
    return settings, instance


async def test_backfill_moves_its_cursor_chunk_by_chunk_and_resumes_there(
    tmp_path: Path, serve, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service, "BACKFILL_CHUNK_DAYS", 2)
        await _backfill_with_a_day_down(tmp_path, serve, nats_url, js, states)


async def _backfill_with_a_day_down(
    tmp_path: Path, serve: Any, nats_url: str, js: JetStreamContext, states: StateStore
) -> None:
    replay = BoampReplay(RECORDS)
    down = {"2026-01-21"}

    @web.middleware
    async def day_down(request: web.Request, handler: Any) -> web.StreamResponse:
        if any(day in request.query.get("where", "") for day in down):
            return web.Response(status=404)
        return await handler(request)

    app = replay.app()
    app.middlewares.append(day_down)
    url = await serve(app)
    settings, instance = await _boamp_backfill(tmp_path, url, nats_url, 0.2, states)
    stop = asyncio.Event()
    task = asyncio.create_task(_backfill_lane(instance, js, states, settings, stop))
    async with asyncio.timeout(10):
        while (await states.load("france_boamp")).status != "failed":  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    # The first chunk (19-20) is done: a retry starts at the 21st, not the 19th again.
    assert await states.cursor("france_boamp", "backfill") == "2026-01-21"
    down.clear()
    async with asyncio.timeout(10):
        await task
    days = [q["where"][-11:-1] for q in replay.queries]
    assert days == ["2026-01-19", "2026-01-20", "2026-01-21", "2026-01-22"]
    assert await states.cursor("france_boamp", "backfill") == "2026-01-22"
    assert len(await published_raws(js)) == 5


def test_a_mistyped_option_stops_the_start_naming_the_source(tmp_path: Path) -> None:
    toml = "[sources.france_boamp]\noptions = { page_sise = 50 }\n"
    with pytest.raises(ConfigError, match=r"sources.france_boamp: options of france_boamp"):
        build_instances(_settings(tmp_path, toml))
