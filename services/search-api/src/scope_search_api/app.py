"""The application factory: `create_app(settings, store=None)`.

Resources live in `cleanup_ctx` (one async generator each: set up before `yield`, released
after, released only if set up): the search store, the optional NATS connection. Handlers
reach them through typed `AppKey`s (keys.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import aiohttp_cors
import structlog
from aiohttp import hdrs, web

from scope_search_api.gateway import StoreGateway
from scope_search_api.keys import CLOCK, METRICS, NATS, OPENAPI, SETTINGS, STORE
from scope_search_api.metrics import ApiMetrics
from scope_search_api.middlewares import add_request_id, observe, problems
from scope_search_api.nats_link import NatsLink
from scope_search_api.openapi import encode_openapi
from scope_search_api.routes import setup_routes
from scope_search_api.settings import ApiSettings
from scope_shared.store import SearchStore
from scope_shared.store.factory import open_store

log = structlog.get_logger(component="app")

CLIENT_MAX_SIZE = 64 * 1024
"""The API takes no request bodies; anything larger than a few headers' worth is refused."""
CORS_EXPOSED = ("ETag", "Link", "X-Request-Id", "X-Total-Count", "X-Total-Relation",
                "X-Row-Limit", "Retry-After")  # fmt: skip
CORS_MAX_AGE = 86_400
"""Browsers cache a preflight answer this long (Chromium caps it at 2 h anyway)."""


def _store_context(
    settings: ApiSettings, given: SearchStore | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def store_context(app: web.Application) -> AsyncIterator[None]:
        store = given if given is not None else open_store(settings)
        if given is None:
            try:
                async with asyncio.timeout(settings.api_store_timeout):
                    await store.setup()
            except Exception as exc:  # noqa: BLE001 - serve anyway; /readyz says the store is down
                log.warning("store_setup_failed", error_type=type(exc).__name__, error=str(exc))
        app[STORE] = StoreGateway(store, settings.api_store_timeout, app[METRICS])
        yield
        if given is None:
            await store.close()

    return store_context


async def _nats_context(app: web.Application) -> AsyncIterator[None]:
    link = NatsLink(app[SETTINGS])
    await link.start()
    app[NATS] = link
    yield
    await link.close()


async def _security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


async def _vary_on_origin(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """With CORS on, an answer depends on the request's Origin (its Access-Control headers):
    a shared cache must not hand one origin's answer to another."""
    vary = response.headers.get(hdrs.VARY)
    if vary is None:
        response.headers[hdrs.VARY] = hdrs.ORIGIN
    elif hdrs.ORIGIN.lower() not in vary.lower():
        response.headers[hdrs.VARY] = f"{vary}, {hdrs.ORIGIN}"


def _setup_cors(app: web.Application, origins: list[str]) -> None:
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]
        allow_credentials=False,
        expose_headers=CORS_EXPOSED,
        allow_headers=("If-None-Match", "X-Request-Id", "Accept", "Accept-Language"),
        allow_methods=("GET", "HEAD"),
        max_age=CORS_MAX_AGE,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        resource = route.resource
        if route.method == "GET" and resource and not resource.canonical.startswith("/docs"):
            cors.add(route)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: ApiSettings,
    store: SearchStore | None = None,
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> web.Application:
    """The search API.

    Args:
        settings: Its settings.
        store: A store to serve (tests, benchmarks), owned by the caller: the app neither sets
            it up nor closes it. None opens the configured store (`SCOPE_STORE`).
        clock: Now (aware, UTC); tests pin it to make `open=true` reproducible.
    """
    app = web.Application(middlewares=[observe, problems], client_max_size=CLIENT_MAX_SIZE)
    app[SETTINGS] = settings
    app[METRICS] = ApiMetrics()
    app[OPENAPI] = encode_openapi(settings)
    app[CLOCK] = clock
    app.cleanup_ctx.append(_store_context(settings, store))
    app.cleanup_ctx.append(_nats_context)
    app.on_response_prepare.append(add_request_id)
    app.on_response_prepare.append(_security_headers)
    if settings.api_cors_origins:
        app.on_response_prepare.append(_vary_on_origin)
    setup_routes(app)
    _setup_cors(app, settings.api_cors_origins)
    return app
