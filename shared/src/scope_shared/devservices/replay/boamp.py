"""A local replay of BOAMP's Opendatasoft Explore API v2.1, serving real recorded records.

It answers `GET /api/explore/v2.1/catalog/datasets/boamp/records` with the real API's rules:
`limit` at most 100, `offset + limit` at most 10,000 (HTTP 400 otherwise, as the API does),
`where=dateparution = date'YYYY-MM-DD'` (the only ODSQL form Scope sends), `order_by=idweb`,
and `{"total_count", "results"}` bodies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from scope_shared.devservices.replay.faults import Faults

RECORDS_PATH = "/api/explore/v2.1/catalog/datasets/boamp/records"
MAX_LIMIT = 100
OFFSET_CAP = 10_000
_WHERE_DAY = re.compile(r"^dateparution = date'(\d{4}-\d{2}-\d{2})'$")


class BoampReplay:
    def __init__(self, records: Sequence[dict[str, Any]], faults: Faults | None = None) -> None:
        self.records = list(records)
        self.faults = faults or Faults()
        self.queries: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults.middleware])
        app.router.add_get(RECORDS_PATH, self.records_handler)
        return app

    async def records_handler(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append(query)
        limit, offset = int(query.get("limit", "10")), int(query.get("offset", "0"))
        if limit > MAX_LIMIT or offset + limit > OFFSET_CAP:
            return web.json_response(
                {"error_code": "InvalidRESTParameterError", "message": "limit/offset"}, status=400
            )
        matching = self.records
        if "where" in query:
            match = _WHERE_DAY.match(query["where"])
            if match is None:
                return web.json_response({"error_code": "ODSQLError"}, status=400)
            matching = [r for r in matching if r["dateparution"] == match.group(1)]
        if query.get("order_by") == "idweb":
            matching = sorted(matching, key=lambda r: r["idweb"])
        body = {"total_count": len(matching), "results": matching[offset : offset + limit]}
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")


def load_recorded_records(path: Path) -> list[dict[str, Any]]:
    data: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    return list(data["results"])
