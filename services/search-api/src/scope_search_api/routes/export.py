"""GET /v1/notices.csv: a search exported as CSV, streamed page by page.

Same parameters as the search (filters, `q`, `sort`) plus `limit`; at most `api_max_csv_rows`
rows (10,000 by default), which bounds the store work to that many hits read in pages of
100 through the cursor. Headers tell the client what it gets before the rows come:
`X-Total-Count` (the search's total), `X-Total-Relation` (`eq` or `gte`) and `X-Row-Limit`.
The first page is read before anything is sent, so a store that does not answer gives a 503
problem; a failure after rows were sent aborts the connection, so a client never mistakes a
cut export for a complete one.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable
from datetime import datetime

import msgspec
import structlog
from aiohttp import web

from scope_search_api.keys import CLOCK, SETTINGS, STORE
from scope_search_api.middlewares import accepted_coding
from scope_search_api.param_table import FILTER_PARAMS, csv_params
from scope_search_api.params import parse_all, search_query
from scope_search_api.problems import ProblemError
from scope_search_api.responses import absolute, notice_path
from scope_shared.schema import Notice
from scope_shared.store import MAX_PAGE_SIZE

log = structlog.get_logger(component="export")
routes = web.RouteTableDef()

COLUMNS = (
    "id", "procedure_id", "source", "notice_type", "status", "title", "buyer_name",
    "buyer_siret", "departments", "regions", "cpv_main", "cpv_additional", "contract_nature",
    "procedure_type", "published_at", "submission_deadline", "estimated_value", "currency",
    "lots", "source_url", "api_url",
)  # fmt: skip
WRITE_TIMEOUT_SECONDS = 30.0
"""A page of rows taking longer than this to leave means the client stopped reading."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with these as a formula (CSV injection)."""


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


def _stamp(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


def row(notice: Notice, api_url: str) -> list[str]:
    """One CSV row; list cells are joined with `|`; the cells a source writes freely (title,
    buyer, its page's URL) are made formula-safe."""
    place = notice.place
    buyer = notice.buyer
    value = notice.estimated_value
    return [
        notice.id, notice.procedure_id, notice.source, notice.notice_type.value,
        notice.status.value, _text(notice.title), _text(buyer.name if buyer else None),
        (buyer.siret or "") if buyer else "", "|".join(place.departments) if place else "",
        "|".join(place.regions) if place else "", notice.cpv_main or "",
        "|".join(notice.cpv_additional),
        notice.contract_nature.value if notice.contract_nature else "",
        notice.procedure_type.value if notice.procedure_type else "",
        _stamp(notice.published_at), _stamp(notice.submission_deadline),
        str(value.amount) if value else "", value.currency if value else "",
        str(len(notice.lots)), _text(notice.source_url), api_url,
    ]  # fmt: skip


def _chunk(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


@routes.get("/v1/notices.csv", name="export_csv")
async def export_csv(request: web.Request) -> web.StreamResponse:
    max_rows = request.app[SETTINGS].api_max_csv_rows
    values = parse_all(request.query, FILTER_PARAMS + csv_params(max_rows))
    limit: int = values["limit"]  # the parameter defaults to max_rows
    # Newest first even with `q`: relevance scores move whenever the index commits, so an
    # export paged by relevance across a commit could skip rows; dates do not move.
    query = search_query(
        values, request.app[CLOCK](), page_size=min(MAX_PAGE_SIZE, limit), default_sort="newest"
    )
    store = request.app[STORE]
    result = await store.search(query)
    filename = f"scope-notices-{request.app[CLOCK]():%Y%m%d}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Total-Count": str(result.total),
            "X-Total-Relation": result.total_relation,
            "X-Row-Limit": str(limit),
        }
    )
    response.content_type = "text/csv"
    response.charset = "utf-8"
    if request.method == "HEAD":
        # The headers alone: a streamed response sends whatever is written, HEAD or not,
        # and compression would write a gzip trailer.
        return response
    coding = accepted_coding(request)
    if coding is not None:
        response.enable_compression(coding)
    await response.prepare(request)
    written = 0
    try:
        async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
            await response.write(_chunk([list(COLUMNS)]))
        while True:
            hits = result.hits[: limit - written]
            rows = _chunk(row(h.notice, absolute(request, notice_path(h.notice.id))) for h in hits)
            async with asyncio.timeout(WRITE_TIMEOUT_SECONDS):
                await response.write(rows)
            written += len(hits)
            if written >= limit or not result.next_cursor or not hits:
                break
            page = msgspec.structs.replace(
                query, cursor=result.next_cursor, page_size=min(MAX_PAGE_SIZE, limit - written)
            )
            result = await store.search(page)
    except ProblemError as error:
        return _abort(request, response, written, error.detail)
    except TimeoutError:
        # A client that stopped reading would hold this handler (and its store cursor) until
        # the server stops.
        return _abort(request, response, written, "the client stopped reading")
    await response.write_eof()
    return response


def _abort(
    request: web.Request, response: web.StreamResponse, rows: int, reason: str
) -> web.StreamResponse:
    """Cut the connection: a client never mistakes a cut export for a complete one."""
    log.warning("export_aborted", rows=rows, reason=reason)
    if request.transport is not None:
        request.transport.abort()
    return response
