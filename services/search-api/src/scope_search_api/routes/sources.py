"""GET /v1/sources: each harvester's last run, lag and counts, read from NATS KV."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web

from scope_search_api.harvest_state import read_sources
from scope_search_api.keys import CLOCK, NATS, SETTINGS
from scope_search_api.params import check_known
from scope_search_api.problems import sources_unavailable
from scope_search_api.responses import json_response

log = structlog.get_logger(component="sources")
routes = web.RouteTableDef()


@routes.get("/v1/sources", name="sources")
async def list_sources(request: web.Request) -> web.Response:
    check_known(request.query, ())
    link = request.app[NATS]
    if not link.connected:
        raise sources_unavailable("NATS, where harvesters record their state, cannot be reached")
    timeout = request.app[SETTINGS].api_store_timeout
    try:
        async with asyncio.timeout(timeout):
            sources = await read_sources(await link.state_bucket(), request.app[CLOCK]())
    except TimeoutError:
        log.warning("sources_read_timed_out", timeout=timeout)
        raise sources_unavailable(f"NATS did not answer within {timeout:g} s") from None
    return json_response(sources)
