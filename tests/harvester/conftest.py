"""Harvester test fixtures: a local replay server and a harvest runner on the real nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nats.js import JetStreamContext

from scope_harvester.base import Harvester, HarvestRun, Lane, RunReport, Window
from scope_harvester.http import PoliteClient, Politeness
from scope_harvester.settings import SourceConfig
from scope_harvester.state import StateStore
from scope_shared.bus import ensure_topology
from scope_shared.config import CommonSettings

FAST = Politeness(concurrency=2, rate=200.0, timeout=2.0, retries=4, backoff=0.01, max_backoff=0.05)
"""Quick retries and a two-second timeout: injected stalls (3 s) time out fast, while a real
request on a loaded two-core machine does not (the tests count failed requests exactly)."""


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(app: web.Application) -> str:
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def states(js: JetStreamContext) -> StateStore:
    await ensure_topology(js, CommonSettings())
    return await StateStore.on_bus(js)


HarvestFn = Callable[..., Awaitable[RunReport]]


@pytest.fixture
def harvest(js: JetStreamContext, states: StateStore) -> HarvestFn:
    async def run(
        cls: type[Harvester],
        base_url: str,
        *,
        name: str | None = None,
        window: Window | None = None,
        politeness: Politeness = FAST,
        options: dict[str, Any] | None = None,
        failure_ratio: float = 0.5,
        lane: Lane = "live",
    ) -> RunReport:
        config = SourceConfig(base_url=base_url, options=options or {})
        async with PoliteClient(politeness) as http:
            harvester = cls(name or cls.kind, config, http)
            return await HarvestRun(harvester, js, states, failure_ratio=failure_ratio).run(
                window or Window(), lane
            )

    return run
