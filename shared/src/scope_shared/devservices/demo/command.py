"""`scope demo [--live] [--check]`: run everything, show progress, print where to look."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
import nats
from aiohttp import web
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from scope_shared.config import CommonSettings, load_settings
from scope_shared.devservices.demo.checks import EXAMPLE_QUERIES, run_checks, working_examples
from scope_shared.devservices.demo.processes import ServiceProcesses
from scope_shared.devservices.demo.progress import PipelineState, pipeline_state
from scope_shared.devservices.demo.sources import SAMPLE_WINDOWS, write_sources_file
from scope_shared.devservices.nats import NatsServer
from scope_shared.devservices.replay.composite import build_replay
from scope_shared.lifecycle import install_stop_signals

console = Console(soft_wrap=True)

OFFLINE_SOURCES = ("france_boamp", "europe_ted", "france_decp", "ocds_api")
DRAIN_TIMEOUT_SECONDS = 600.0
"""The shipped samples drain in seconds; ten minutes covers a first OpenSearch start."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo", help="run the whole pipeline on this machine and serve the API"
    )
    demo.add_argument("--live", action="store_true", help="harvest the real public sources")
    demo.add_argument(
        "--check", action="store_true", help="run once, check known results, exit 0 or 1"
    )
    demo.add_argument("--port", type=int, default=8080, help="search API port (default 8080)")
    demo.add_argument(
        "--replay-port", type=int, default=8089, help="port of the local source replay (8089)"
    )
    demo.set_defaults(
        func=lambda args: asyncio.run(run_demo(args.live, args.check, args.port, args.replay_port))
    )


async def run_demo(live: bool, check: bool, api_port: int, replay_port: int) -> int:
    settings = load_settings(CommonSettings)
    data_dir = Path(settings.data_dir) / "demo"
    nats_server = NatsServer(data_dir / "nats", port=urlparse(settings.nats_url[0]).port or 4222)
    nats_url = nats_server.start()
    replay_runner, replay_url, decp_paths = await _start_replay(live, replay_port)
    sources_file = write_sources_file(data_dir, replay_url, decp_paths)
    env = _service_env(settings, data_dir, nats_url, api_port, sources_file)
    # Services log JSON lines to their files; the one-off harvests print to the terminal.
    services = ServiceProcesses(data_dir / "logs", env | {"SCOPE_LOG_FORMAT": "json"})
    api_url = f"http://127.0.0.1:{api_port}"
    try:
        for service in ("normalizer", "indexer", "search-api"):
            services.start(service)
        console.print(f"[bold]Scope demo[/bold]: data in {data_dir}, logs in {data_dir / 'logs'}")
        if live:
            services.start("harvester")
        else:
            await _harvest_samples(env)
        await _wait_until_drained(nats_url, services)
        return await _serve(api_url, check, services)
    finally:
        services.stop()
        if replay_runner is not None:
            await replay_runner.cleanup()
        # The server's data stays under the data dir: the next run starts from it.
        nats_server.stop()


def _service_env(
    settings: CommonSettings, data_dir: Path, nats_url: str, api_port: int, sources: Path
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SCOPE_NATS_URL": nats_url,
            "SCOPE_DATA_DIR": str(data_dir),
            "SCOPE_API_PORT": str(api_port),
            "SCOPE_API_HOST": "127.0.0.1",
            "SCOPE_HARVESTER_SOURCES_FILE": str(sources),
            # Workers' metrics ports would clash with a production-like stack on this host.
            "SCOPE_HARVESTER_METRICS_PORT": "0",
            "SCOPE_NORMALIZER_METRICS_PORT": "0",
            "SCOPE_INDEXER_METRICS_PORT": "0",
        }
    )
    if settings.opensearch_url:
        env["SCOPE_OPENSEARCH_URL"] = settings.opensearch_url
    return env


async def _start_replay(
    live: bool, port: int
) -> tuple[web.AppRunner | None, str | None, list[str]]:
    """The local replay of the source APIs, on a fixed port: harvest cursors hold its URLs
    (an OCDS cursor is a page URL), so the next run must find it at the same address."""
    if live:
        return None, None, []
    app, decp_paths = build_replay()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", decp_paths


async def _harvest_samples(env: dict[str, str]) -> None:
    scope = str(Path(sys.executable).parent / "scope")
    for source in OFFLINE_SOURCES:
        args = [scope, "harvest", source]
        if source in SAMPLE_WINDOWS:
            args += ["--since", SAMPLE_WINDOWS[source]]
        process = await asyncio.create_subprocess_exec(*args, env=env)
        if await process.wait() != 0:
            console.print(f"[yellow]{source}: the harvest reported a failure (see above)[/]")


async def _wait_until_drained(nats_url: str, services: ServiceProcesses) -> PipelineState:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console) as progress:  # fmt: skip
            task = progress.add_task("normalising and indexing", total=None)
            async with asyncio.timeout(DRAIN_TIMEOUT_SECONDS):
                while True:
                    state = await pipeline_state(js)
                    progress.update(task, description=(
                        f"{state.raw} raw notices, {state.notices} canonical versions, "
                        f"{state.dead} dead letters; pending: normalizer "
                        f"{state.normalizer_pending}, indexer {state.indexer_pending}"
                    ))  # fmt: skip
                    if dead := services.dead():
                        raise RuntimeError(f"service stopped: {', '.join(dead)} (see logs)")
                    if state.drained:
                        return state
                    await asyncio.sleep(0.5)
    finally:
        await nc.close()


async def _serve(api_url: str, check: bool, services: ServiceProcesses) -> int:
    async with aiohttp.ClientSession() as session:
        if check:
            failures = await run_checks(session, api_url)
            for failure in failures:
                console.print(f"[red]check failed:[/] {failure}")
            console.print(
                "[green]demo check passed[/]" if not failures else "[red]demo check failed[/]"
            )
            return 1 if failures else 0
        examples = await working_examples(session, api_url, EXAMPLE_QUERIES)
    console.print(f"\nAPI:  {api_url}/v1/notices\nDocs: {api_url}/docs\n\nTry:")
    for url, total in examples:
        console.print(f"  curl '{url}'   # {total} results")
    console.print("\nCtrl-C stops everything; data is kept for the next run.")
    stop = asyncio.Event()
    install_stop_signals(stop)
    while not stop.is_set() and not services.dead():  # noqa: ASYNC110 - also watches children
        await asyncio.sleep(0.5)
    return 0
