"""The harvester service: sources from the TOML file, each on its own lane, failures isolated."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp import web
from nats.js import JetStreamContext

from scope_harvester.service import build_instances, run_harvester
from scope_harvester.settings import HarvesterSettings
from scope_harvester.state import StateStore
from scope_shared.devservices.replay.boamp import BoampReplay, load_recorded_records
from scope_shared.errors import ConfigError

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
    good = await serve(BoampReplay(RECORDS).app())

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404)

    broken_app = web.Application()
    broken_app.router.add_get("/{tail:.*}", not_found)
    broken = await serve(broken_app)
    # Reach back to the recorded records' publication day, whatever today is.
    days_back = (datetime.now(UTC).date() - date(2026, 1, 21)).days
    toml = f"""
[sources.france_boamp]
base_url = "{good}"
interval = 3600
rate = 1000.0
options = {{ first_run_days = {days_back} }}

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
