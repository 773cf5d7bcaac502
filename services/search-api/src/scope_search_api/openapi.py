"""The OpenAPI 3.1 document served at /openapi.json.

Schemas come from the response Structs (`views.RESPONSE_TYPES`) through
`msgspec.json.schema_components`; parameters come from the same `Param` tables the handlers
parse with; paths and prose are written here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from scope_search_api.param_table import FILTER_PARAMS, MAX_VALUE, MAX_VALUES, Param, csv_params
from scope_search_api.problems import PROBLEM_CONTENT_TYPE as PROBLEM
from scope_search_api.routes.export import COLUMNS
from scope_search_api.routes.feeds import FEED_PARAMS_ALL
from scope_search_api.routes.notices import NOTICES_PARAMS
from scope_search_api.routes.reference import CPV_PARAMS, DEPARTMENT_PARAMS
from scope_search_api.settings import ApiSettings
from scope_search_api.views import RESPONSE_TYPES, SCHEMA_REF
from scope_shared.store import TOTAL_EXACT_UP_TO

API_VERSION = "1.0.0"

DESCRIPTION = f"""French and EU public-procurement notices (BOAMP, TED, DECP, OCDS publishers,
buyer-profile feeds) in one schema, searchable.

* Errors are RFC 9457 problem documents (`{PROBLEM}`); a 400 names each offending parameter
  and the values it accepts. Unknown query parameters are rejected.
* Paging: follow `links.next` (or pass `next_cursor` back as `cursor`). Totals are exact up to
  {TOTAL_EXACT_UP_TO:,}, then `relation: gte`.
* Multi-valued parameters are repeatable and comma-separated (`cpv=45&cpv=72,48`), at most
  {MAX_VALUES} values.
* Searches, notices and feeds carry a weak `ETag` and `Cache-Control`; send `If-None-Match`
  for a 304. Responses are gzip-compressed when the client accepts it.
* Every response carries `X-Request-Id` (yours, if you send a well-formed one).
* Notice ids contain `:` and sometimes `/`: percent-encode them in paths (`%2F`).
"""


def _base_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of one parameter's value, by kind."""
    item: dict[str, Any] = {"type": "string"}
    if param.pattern:
        item["pattern"] = param.pattern
    if param.kind in ("text", "exact"):
        return {"type": "string", "minLength": 1 if param.required else 0, **item}
    if param.allowed:
        item["enum"] = list(param.allowed)
    by_kind: dict[str, dict[str, Any]] = {
        "list": {"type": "array", "items": item, "maxItems": MAX_VALUES},
        "enum_list": {"type": "array", "items": item, "maxItems": MAX_VALUES},
        "enum": item,
        "bool": {"type": "boolean"},
        "datetime": {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
        "decimal": {"type": "number", "minimum": param.minimum, "maximum": int(MAX_VALUE)},
        "int": {"type": "integer", "minimum": param.minimum, "maximum": param.maximum},
    }
    return by_kind.get(param.kind, {"type": "string"})


def _schema(param: Param) -> dict[str, Any]:
    schema = dict(_base_schema(param))
    if param.max_length is not None:
        schema["maxLength"] = param.max_length
    if param.default is not None:
        default: Any = param.default
        if param.kind == "bool":
            default = param.default == "true"
        elif param.kind == "int":
            default = int(param.default)
        schema["default"] = default
    return schema


def parameters(params: tuple[Param, ...]) -> list[dict[str, Any]]:
    documented = []
    for param in params:
        entry: dict[str, Any] = {
            "name": param.name,
            "in": "query",
            "description": param.description,
            "required": param.required,
            "schema": _schema(param),
        }
        if param.kind in {"list", "enum_list"}:
            entry |= {"style": "form", "explode": True}
        if param.example is not None:
            entry["example"] = (
                param.example.split(",") if param.kind in {"list", "enum_list"} else param.example
            )
        documented.append(entry)
    return documented


def _ref(name: str) -> dict[str, str]:
    return {"$ref": SCHEMA_REF.format(name=name)}


def _json(name: str, description: str, *, cached: bool = True) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(name)}},
    }
    if cached:
        response["headers"] = {
            "ETag": {"description": "Weak validator of the body.", "schema": {"type": "string"}},
            "Cache-Control": {"schema": {"type": "string"}},
        }
    return response


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": _ref("Problem")}}}


NOT_MODIFIED = {"description": "Not modified (the `If-None-Match` ETag matches)."}
BAD_REQUEST = _problem("A parameter is invalid or unknown; `invalid_params` says which.")
NOT_FOUND = _problem("No notice with this id.")
UNAVAILABLE = _problem("The search store did not answer in time or cannot be reached.")

ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A notice id (`france_boamp:26-7109`), percent-encoded (`/` as `%2F`).",
    "schema": {"type": "string", "minLength": 1},
}


def _get(  # noqa: PLR0917 - one positional slot per part of an operation reads as a table
    operation_id: str,
    summary: str,
    description: str,
    tag: str,
    params: list[dict[str, Any]],
    responses: dict[str, Any],
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": params,
            "responses": responses,
        }
    }


def _search_paths(settings: ApiSettings) -> dict[str, Any]:
    feed_responses = {
        "304": NOT_MODIFIED, "400": BAD_REQUEST, "503": UNAVAILABLE,
    }  # fmt: skip
    csv_rows = settings.api_max_csv_rows
    return {
        "/v1/notices": _get(
            "searchNotices", "Search notices",
            "Full text and filters; facets, highlights, grouping by procedure, cursor paging.",
            "notices", parameters(NOTICES_PARAMS),
            {"200": _json("SearchPage", "One page of hits."), "304": NOT_MODIFIED,
             "400": BAD_REQUEST, "503": UNAVAILABLE},
        ),
        "/v1/notices.atom": _get(
            "noticesAtom", "A search as an Atom feed",
            "The search's newest notices (or in `sort` order) as Atom 1.0 entries.",
            "feeds", parameters(FEED_PARAMS_ALL),
            {"200": {"description": "Atom feed.",
                     "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
             **feed_responses},
        ),
        "/v1/notices.rss": _get(
            "noticesRss", "A search as an RSS feed",
            "The search's newest notices (or in `sort` order) as RSS 2.0 items.",
            "feeds", parameters(FEED_PARAMS_ALL),
            {"200": {"description": "RSS feed.",
                     "content": {"application/rss+xml": {"schema": {"type": "string"}}}},
             **feed_responses},
        ),
        "/v1/notices.csv": _get(
            "noticesCsv", "A search exported as CSV",
            f"Streamed CSV (UTF-8, comma, CRLF, header row) of at most {csv_rows:,} rows. "
            f"Columns: {', '.join(COLUMNS)}. Headers `X-Total-Count`, `X-Total-Relation`, "
            "`X-Row-Limit`. A failure mid-stream aborts the connection.",
            "notices", parameters(FILTER_PARAMS + csv_params(csv_rows)),
            {"200": {"description": "CSV rows.",
                     "content": {"text/csv": {"schema": {"type": "string"}}}},
             "400": BAD_REQUEST, "503": UNAVAILABLE},
        ),
    }  # fmt: skip


def _notice_responses(ok: dict[str, Any]) -> dict[str, Any]:
    """The answers every `/v1/notices/{id}...` route can give, `ok` being its 200."""
    return {
        "200": ok, "304": NOT_MODIFIED, "400": BAD_REQUEST, "404": NOT_FOUND,
        "503": UNAVAILABLE,
    }  # fmt: skip


def _notice_paths() -> dict[str, Any]:
    return {
        "/v1/notices/{id}": _get(
            "getNotice", "A notice",
            "The latest version, the other notices of its procedure and links (history, "
            "procedure, OCDS release, the publisher's page).",
            "notices", [ID_PARAM],
            _notice_responses(_json("NoticeDetail", "The notice.")),
        ),
        "/v1/notices/{id}/history": _get(
            "getNoticeHistory", "Every version of a notice",
            "Versions oldest first, each with the fields changed since the previous one.",
            "notices", [ID_PARAM],
            _notice_responses(_json("NoticeHistory", "The versions.")),
        ),
        "/v1/notices/{id}/procedure": _get(
            "getNoticeProcedure", "The procedure of a notice",
            "The procedure card (main notice corrected by later ones) and all its notices.",
            "notices", [ID_PARAM],
            _notice_responses(_json("ProcedureView", "The procedure.")),
        ),
        "/v1/notices/{id}/ocds": _get(
            "getNoticeOcds", "A notice as an OCDS 1.1 release",
            "One OCDS 1.1 release (core, with Lots, Location and Techniques extension fields). "
            "See https://standard.open-contracting.org/1.1/en/schema/release/",
            "notices", [ID_PARAM],
            _notice_responses({"description": "OCDS release.",
                     "content": {"application/json": {"schema": {"type": "object"}}}}),
        ),
    }  # fmt: skip


def _other_paths() -> dict[str, Any]:
    reference_ok = {"304": NOT_MODIFIED, "400": BAD_REQUEST}
    return {
        "/v1/sources": _get(
            "listSources", "Harvester states",
            "Each source's last run, last success, lag and counts (from NATS KV).",
            "sources", [],
            {"200": _json("SourceList", "The sources.", cached=False), "400": BAD_REQUEST,
             "503": _problem("NATS cannot be reached.")},
        ),
        "/v1/reference/cpv": _get(
            "searchCpv", "CPV autocomplete", "CPV 2008 codes whose label or code matches.",
            "reference", parameters(CPV_PARAMS),
            {"200": _json("CpvList", "Matching codes."), **reference_ok},
        ),
        "/v1/reference/regions": _get(
            "listRegions", "French regions", "INSEE regions with their NUTS 1 code.",
            "reference", [], {"200": _json("RegionList", "Regions."), **reference_ok},
        ),
        "/v1/reference/departments": _get(
            "listDepartments", "French départements",
            "INSEE départements and overseas collectivities, with region and NUTS 3.",
            "reference", parameters(DEPARTMENT_PARAMS),
            {"200": _json("DepartmentList", "Départements."), **reference_ok},
        ),
        "/healthz": _get(
            "healthz", "Liveness", "The process answers.", "operations", [],
            {"200": _json("Health", "Alive.", cached=False), "400": BAD_REQUEST},
        ),
        "/readyz": _get(
            "readyz", "Readiness",
            "200 when the store answers (`degraded` if NATS is down), else 503.",
            "operations", [],
            {"200": _json("Readiness", "Ready or degraded.", cached=False),
             "400": BAD_REQUEST,
             "503": _json("Readiness", "The store does not answer.", cached=False)},
        ),
        "/metrics": _get(
            "metrics", "Prometheus metrics", "Request counts and latency by route and status.",
            "operations", [],
            {"200": {"description": "Prometheus text format.",
                     "content": {"text/plain": {"schema": {"type": "string"}}}}},
        ),
    }  # fmt: skip


def build_openapi(settings: ApiSettings) -> dict[str, Any]:
    _, components = msgspec.json.schema_components(RESPONSE_TYPES, ref_template=SCHEMA_REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Scope search API",
            "version": API_VERSION,
            "description": DESCRIPTION,
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "tags": [
            {"name": "notices", "description": "Search and read notices."},
            {"name": "feeds", "description": "Searches as Atom and RSS feeds."},
            {"name": "sources", "description": "Harvesting status."},
            {"name": "reference", "description": "Code lists for filter widgets."},
            {"name": "operations", "description": "Probes and metrics."},
        ],
        "paths": _search_paths(settings) | _notice_paths() | _other_paths(),
        "components": {"schemas": components},
    }


def encode_openapi(settings: ApiSettings) -> bytes:
    return msgspec.json.encode(build_openapi(settings))
