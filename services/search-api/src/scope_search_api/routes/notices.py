"""GET /v1/notices (search) and /v1/notices/{id} with its history, procedure and OCDS release."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp import web
from multidict import MultiDict

from scope_search_api import ocds
from scope_search_api.cursor import encode_cursor
from scope_search_api.diff import notice_changes
from scope_search_api.keys import CLOCK, SETTINGS, STORE
from scope_search_api.param_table import FILTER_PARAMS, PAGE_PARAMS
from scope_search_api.params import check_known, parse_all, search_query
from scope_search_api.problems import not_found
from scope_search_api.responses import absolute, cached, encode, notice_path
from scope_search_api.views import (
    FacetValue,
    NoticeDetail,
    NoticeHistory,
    NoticeLinks,
    NoticeRef,
    NoticeVersion,
    PageLinks,
    ProcedureNotices,
    ProcedureSummary,
    ProcedureView,
    SearchHit,
    SearchPage,
    Total,
)
from scope_shared.reference import cpv_entry, department, region
from scope_shared.schema import Notice
from scope_shared.store import FacetBucket, Hit, SearchQuery, SearchResult

NOTICES_PARAMS = FILTER_PARAMS + PAGE_PARAMS

routes = web.RouteTableDef()


def _label(facet: str, value: str) -> str | None:
    if facet == "cpv_division":
        entry = cpv_entry(value.ljust(8, "0")[:8])
        return entry.label_fr if entry else None
    if facet == "department":
        found = department(value)
        return found.name if found else None
    if facet == "region":
        known = region(value)
        return known.name if known else None
    return None


def _facets(facets: dict[str, list[FacetBucket]]) -> dict[str, list[FacetValue]]:
    return {
        name: [FacetValue(value=b.value, count=b.count, label=_label(name, b.value)) for b in bs]
        for name, bs in facets.items()
    }


def _hit(hit: Hit) -> SearchHit:
    card = hit.procedure
    summary = ProcedureSummary(**msgspec.structs.asdict(card)) if card is not None else None
    return SearchHit(
        notice=hit.notice_json, score=hit.score, highlights=hit.highlights, procedure=summary
    )


def page_links(request: web.Request, next_cursor: str | None) -> PageLinks:
    query = MultiDict(request.query)
    self_url = absolute(request, request.path, query)
    if next_cursor is None:
        return PageLinks(self_=self_url)
    query.popall("cursor", None)
    query["cursor"] = next_cursor
    return PageLinks(self_=self_url, next=absolute(request, request.path, query))


def search_page(request: web.Request, query: SearchQuery, result: SearchResult) -> SearchPage:
    next_cursor = encode_cursor(result.next_cursor, query) if result.next_cursor else None
    links = page_links(request, next_cursor)
    return SearchPage(
        total=Total(value=result.total, relation=result.total_relation),
        hits=[_hit(h) for h in result.hits],
        facets=_facets(result.facets),
        next_cursor=next_cursor,
        links=links,
    )


@routes.get("/v1/notices", name="search")
async def search_notices(request: web.Request) -> web.Response:
    values = parse_all(request.query, NOTICES_PARAMS)
    query = search_query(values, request.app[CLOCK]())
    result = await request.app[STORE].search(query)
    page = search_page(request, query, result)
    headers = {"Link": f'<{page.links.next}>; rel="next"'} if page.links.next else None
    return cached(request, encode(page), headers=headers)


async def _notice(request: web.Request) -> Notice:
    check_known(request.query, ())
    notice_id = request.match_info["id"]
    notice = await request.app[STORE].get(notice_id)
    if notice is None:
        raise not_found(f"notice {notice_id!r}")
    return notice


def _ref(notice: Notice) -> NoticeRef:
    return NoticeRef(
        id=notice.id, notice_type=notice.notice_type.value, status=notice.status.value,
        title=notice.title, source=notice.source, published_at=notice.published_at,
        version=notice.version, url=notice_path(notice.id),
    )  # fmt: skip


@routes.get("/v1/notices/{id}", name="notice")
async def get_notice(request: web.Request) -> web.Response:
    notice = await _notice(request)
    siblings = await request.app[STORE].procedure_notices(notice.procedure_id)
    detail = NoticeDetail(
        notice=notice,
        procedure=ProcedureNotices(
            procedure_id=notice.procedure_id,
            notices=[_ref(n) for n in siblings if n.id != notice.id],
        ),
        links=NoticeLinks(
            self_=absolute(request, notice_path(notice.id)),
            history=absolute(request, notice_path(notice.id, "/history")),
            procedure=absolute(request, notice_path(notice.id, "/procedure")),
            ocds=absolute(request, notice_path(notice.id, "/ocds")),
            source=notice.source_url,
        ),
    )
    return cached(request, encode(detail))


@routes.get("/v1/notices/{id}/history", name="notice_history")
async def get_history(request: web.Request) -> web.Response:
    check_known(request.query, ())
    notice_id = request.match_info["id"]
    versions = await request.app[STORE].history(notice_id)
    if not versions:
        raise not_found(f"notice {notice_id!r}")
    history = NoticeHistory(
        notice_id=notice_id,
        versions=[
            NoticeVersion(
                version=v.version,
                updated_at=v.updated_at,
                raw_sha256=v.raw_sha256,
                changes=notice_changes(versions[i - 1], v) if i else [],
                notice=v,
            )
            for i, v in enumerate(versions)
        ],
    )
    return cached(request, encode(history))


@routes.get("/v1/notices/{id}/procedure", name="notice_procedure")
async def get_procedure(request: web.Request) -> web.Response:
    notice = await _notice(request)
    store = request.app[STORE]
    card, notices = await asyncio.gather(
        store.procedure(notice.procedure_id), store.procedure_notices(notice.procedure_id)
    )
    if card is None:
        raise not_found(f"procedure {notice.procedure_id!r}")
    view = ProcedureView(procedure_id=notice.procedure_id, card=card, notices=notices)
    return cached(request, encode(view))


@routes.get("/v1/notices/{id}/ocds", name="notice_ocds")
async def get_ocds(request: web.Request) -> web.Response:
    notice = await _notice(request)
    body = ocds.encode_release(notice, request.app[SETTINGS].api_ocds_prefix)
    return cached(request, body)
