"""The harvester's `scope` subcommands: `harvest` (one run, with progress) and `sources`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scope_harvester import conformance
from scope_harvester.base import Lane, Page, Window
from scope_harvester.service import SourceInstance, build_instances
from scope_harvester.settings import HarvesterSettings, load_sources
from scope_harvester.state import StateStore
from scope_shared.bus import connect, open_jetstream
from scope_shared.config import load_settings
from scope_shared.errors import ConfigError
from scope_shared.logging import configure_logging
from scope_shared.schema.harvest import RunCounts, SourceState

console = Console()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    harvest = subparsers.add_parser("harvest", help="run one source once, with a progress bar")
    harvest.add_argument("source", help="a configured source instance (france_boamp, ...)")
    harvest.add_argument("--since", type=date.fromisoformat, default=None, metavar="DATE")
    harvest.add_argument("--until", type=date.fromisoformat, default=None, metavar="DATE")
    harvest.set_defaults(func=lambda args: asyncio.run(_harvest(args)))
    sources = subparsers.add_parser("sources", help="each source's state: last run, lag, counts")
    sources.set_defaults(func=lambda args: asyncio.run(_sources()))
    conformance.register(subparsers)


def _settings() -> HarvesterSettings:
    settings = load_settings(HarvesterSettings, service_prefix="HARVESTER_")
    configure_logging("harvester", "WARNING", settings.log_format)
    return settings


def _instance(settings: HarvesterSettings, name: str) -> SourceInstance:
    for instance in build_instances(settings):
        if instance.name == name:
            return instance
    known = ", ".join(sorted(load_sources(settings))) or "none"
    raise ConfigError(f"no enabled source named {name!r} (configured: {known})")


async def _harvest(args: argparse.Namespace) -> int:
    settings = _settings()
    instance = _instance(settings, args.source)
    async with open_jetstream(settings, "scope-cli", declare=False, persistent=False) as js:
        states = await StateStore.on_bus(js)
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=console, transient=False,
        ) as progress:  # fmt: skip
            task = progress.add_task(f"{instance.name}: starting", total=None)

            def on_page(page: Page, counts: RunCounts) -> None:
                progress.update(task, description=(
                    f"{instance.name}: {counts.pages} pages, {counts.published} published, "
                    f"{counts.duplicates} already had"
                ))  # fmt: skip

            window = Window(args.since, args.until)
            # A run over dates given by hand is a one-off: the live cursor stays where it is.
            lane: Lane = "window" if window.since or window.until else "live"
            report = await instance.run_once(js, states, settings, window, lane, on_page=on_page)
    console.print(
        f"{instance.name}: {report.status}" + (f" — {report.error}" if report.error else "")
    )
    return 0 if report.status == "ok" else 1


def _ago(when: datetime | None) -> str:
    if when is None:
        return "-"
    seconds = (datetime.now(UTC) - when).total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


async def _sources() -> int:
    settings = _settings()
    nc = await connect(settings, "scope-cli", persistent=False)
    try:
        states = await StateStore.on_bus(nc.jetstream())
        rows: list[SourceState] = [await states.load(name) for name in load_sources(settings)]
    finally:
        await nc.close()
    table = Table(title="Scope sources")
    for column in ("source", "status", "last success", "lag", "last run", "total", "last error"):
        table.add_column(column)
    for state in rows:
        run, total = state.last_run, state.totals
        table.add_row(
            state.source,
            state.status,
            _ago(state.last_success_at) + (" ago" if state.last_success_at else ""),
            _ago(state.last_published_at),
            f"{run.published} new / {run.duplicates} dup / {run.failed_requests} err",
            f"{total.published} new / {total.fetched} fetched",
            (state.last_error or "")[:60],
        )
    console.print(table)
    return 0
