"""The harvester service: every enabled source on its own schedule, live and back-fill apart.

Each source instance has a live lane (from its cursor to today, every `interval`) and, when
`backfill_since` is set, a back-fill lane walking history with its own cursor and its own
HTTP client at half the rate, so years of back-fill never delay today's notices. A failing
source logs, records its error in KV and tries again at its next interval; it never stops
another source. On SIGTERM, runs are cancelled: their cursors only ever point past acknowledged
pages, so nothing is lost and the next start resumes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import msgspec
from nats.js import JetStreamContext

from scope_harvester.base import Harvester, HarvestRun, Lane, Page, RunReport, Window
from scope_harvester.http import PoliteClient
from scope_harvester.settings import HarvesterSettings, SourceConfig, load_sources
from scope_harvester.sources import find_harvester
from scope_harvester.state import StateStore
from scope_shared.bus import open_jetstream
from scope_shared.config import load_settings
from scope_shared.errors import ConfigError
from scope_shared.lifecycle import run_worker
from scope_shared.logging import get_logger
from scope_shared.schema.base import SourceName
from scope_shared.schema.harvest import RunCounts

log = get_logger(stage="harvest")

BACKFILL_RATE_SHARE = 0.5
"""Back-fill gets half the live rate on the same host, so live runs keep their pace."""
BACKFILL_CHUNK_DAYS = 7
"""Days of history per back-fill run; the back-fill cursor moves after each. A source whose
own cursor moves only at the end of a run (TED's iterations) would otherwise start years of
history again after any failure."""
INTERVAL_JITTER = 0.1
"""±10 % on each interval: many instances of one kind do not hit one host in lock-step."""


class SourceInstance:
    def __init__(self, name: str, config: SourceConfig, cls: type[Harvester]) -> None:
        self.name = name
        self.config = config
        self.cls = cls
        cls.check_config(name, config)

    @property
    def interval(self) -> float:
        return self.config.interval or self.cls.interval

    async def run_once(
        self,
        js: JetStreamContext,
        states: StateStore,
        settings: HarvesterSettings,
        window: Window,
        lane: Lane,
        *,
        on_page: Callable[[Page, RunCounts], None] | None = None,
    ) -> RunReport:
        politeness = self.cls.politeness_for(self.config)
        if lane == "backfill":
            politeness = replace(politeness, rate=politeness.rate * BACKFILL_RATE_SHARE)
        async with PoliteClient(politeness) as http:
            harvester = self.cls(self.name, self.config, http)
            run = HarvestRun(
                harvester, js, states,
                failure_ratio=settings.harvester_failure_ratio, on_page=on_page,
            )  # fmt: skip
            return await run.run(window, lane)


def build_instances(settings: HarvesterSettings) -> list[SourceInstance]:
    """The enabled source instances, validated (a bad name, an unknown kind or bad options
    stop the start, naming the source). Only the kinds configured are loaded: a broken editor
    package stops nothing it is not used by."""
    instances = []
    for name, config in load_sources(settings).items():
        if not config.enabled or (settings.harvester_only and name not in settings.harvester_only):
            continue
        if not _valid_source_name(name):
            raise ConfigError(
                f"source {name!r}: a name is lower case letters, digits and _, starting with a "
                "letter (it is the notices' subject token and the first part of their ids)"
            )
        kind = config.kind or name
        harvester = find_harvester(kind)
        if harvester is None:
            raise ConfigError(f"source {name}: unknown harvester kind {kind!r}")
        instances.append(SourceInstance(name, config, harvester))
    return instances


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return


async def _live_lane(
    instance: SourceInstance, js: JetStreamContext, states: StateStore,
    settings: HarvesterSettings, stop: asyncio.Event,
) -> None:  # fmt: skip
    while not stop.is_set():
        try:
            await instance.run_once(js, states, settings, Window(), "live")
        except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
            log.error("harvest_crashed", source=instance.name, error_type=type(exc).__name__,
                      error=str(exc))  # fmt: skip
        jitter = random.uniform(1 - INTERVAL_JITTER, 1 + INTERVAL_JITTER)  # noqa: S311
        await _sleep_or_stop(stop, instance.interval * jitter)


async def _backfill_lane(
    instance: SourceInstance, js: JetStreamContext, states: StateStore,
    settings: HarvesterSettings, stop: asyncio.Event,
) -> None:  # fmt: skip
    """Walk `[backfill_since, live cursor]` once, `BACKFILL_CHUNK_DAYS` per run; resume from
    the back-fill cursor after a failure or a restart, then stop: the live lane covers
    everything after.

    Only kinds whose cursor is a date get here (`Harvester.backfill`, checked at start). A
    run that succeeds has read its whole window, so the cursor moves past it even when the
    window held no notice; a run that fails is tried again after `interval`.
    """
    since = instance.config.backfill_since
    assert since is not None
    while not stop.is_set():
        try:
            step = await _backfill_step(instance, js, states, settings, since)
        except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
            # The state reads and writes too: a key-value timeout must not end the lane.
            log.error("harvest_crashed", source=instance.name, lane="backfill",
                      error_type=type(exc).__name__, error=str(exc))  # fmt: skip
            step = "failed"
        if step == "finished":
            return
        if step == "failed":
            await _sleep_or_stop(stop, instance.interval)


async def _backfill_step(
    instance: SourceInstance, js: JetStreamContext, states: StateStore,
    settings: HarvesterSettings, since: date,
) -> Literal["finished", "next", "failed"]:  # fmt: skip
    """One back-fill run of up to `BACKFILL_CHUNK_DAYS` days."""
    cursor = await states.cursor(instance.name, "backfill")
    start = date.fromisoformat(cursor) if cursor else since
    live = await states.cursor(instance.name, "live")
    until = date.fromisoformat(live) if live else datetime.now(UTC).date()
    if cursor and start >= until:
        log.info("backfill_finished", source=instance.name, until=str(until))
        return "finished"
    end = min(until, start + timedelta(days=BACKFILL_CHUNK_DAYS - 1))
    report = await instance.run_once(
        js, states, settings, Window(since=start, until=end), "backfill"
    )
    if report.status != "ok":
        return "failed"
    if end >= until:
        await states.save_cursor(instance.name, "backfill", until.isoformat())
        log.info("backfill_finished", source=instance.name, until=str(until))
        return "finished"
    await states.save_cursor(instance.name, "backfill", (end + timedelta(days=1)).isoformat())
    return "next"


async def run_harvester(settings: HarvesterSettings, stop: asyncio.Event) -> None:
    instances = build_instances(settings)
    async with open_jetstream(settings, "scope-harvester") as js:
        states = await StateStore.on_bus(js)
        tasks = [asyncio.create_task(_live_lane(i, js, states, settings, stop)) for i in instances]
        tasks += [
            asyncio.create_task(_backfill_lane(i, js, states, settings, stop))
            for i in instances
            if i.config.backfill_since
        ]
        log.info("harvester_started", sources=[i.name for i in instances])
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    log.info("harvester_stopped")


def main() -> int:
    settings = load_settings(HarvesterSettings, service_prefix="HARVESTER_")
    return run_worker(
        "harvester", settings, run_harvester, metrics_port=settings.harvester_metrics_port
    )


def _valid_source_name(name: str) -> bool:
    """The schema's `SourceName`: a source instance's name is its notices' source."""
    try:
        msgspec.convert(name, SourceName)
    except msgspec.ValidationError:
        return False
    return True
