"""GET /healthz (the process answers), /readyz (the store answers; NATS reported) and
/metrics (Prometheus)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from scope_search_api.keys import METRICS, NATS, STORE
from scope_search_api.params import check_known
from scope_search_api.responses import json_response
from scope_search_api.views import Health, Readiness, ReadinessChecks

routes = web.RouteTableDef()


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    check_known(request.query, ())
    return json_response(Health())


@routes.get("/readyz", name="readyz")
async def readyz(request: web.Request) -> web.Response:
    """503 only when the store does not answer: without NATS the search still works, so the
    instance stays in the load balancer and says `degraded`."""
    check_known(request.query, ())
    store_ok = await request.app[STORE].ping()
    nats_ok = request.app[NATS].connected
    checks = ReadinessChecks(
        store="ok" if store_ok else "unavailable", nats="ok" if nats_ok else "unavailable"
    )
    if not store_ok:
        return json_response(Readiness(status="unavailable", checks=checks), status=503)
    return json_response(Readiness(status="ready" if nats_ok else "degraded", checks=checks))


@routes.get("/metrics", name="metrics")
async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
