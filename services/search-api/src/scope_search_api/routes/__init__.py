"""HTTP routes, one module per group; `setup_routes` registers them all."""

from __future__ import annotations

from aiohttp import web

from scope_search_api.routes import docs, export, feeds, health, notices, reference, sources

ROUTE_TABLES = (
    feeds.routes,
    export.routes,
    notices.routes,
    sources.routes,
    reference.routes,
    health.routes,
    docs.routes,
)


def setup_routes(app: web.Application) -> None:
    for table in ROUTE_TABLES:
        app.router.add_routes(table)
    docs.add_static(app)
