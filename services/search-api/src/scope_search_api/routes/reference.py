"""GET /v1/reference/*: CPV autocomplete, regions and départements, for filter widgets."""

from __future__ import annotations

import msgspec
from aiohttp import web

from scope_search_api.param_table import PRINTABLE_WORD, Param, region_codes
from scope_search_api.params import parse_all
from scope_search_api.responses import cached, encode
from scope_search_api.views import (
    CpvEntry,
    CpvList,
    DepartmentEntry,
    DepartmentList,
    RegionEntry,
    RegionList,
)
from scope_shared.reference import departments, regions, search_cpv

REFERENCE_MAX_AGE = 86_400
"""The code lists change with a Scope release, not during a day."""
MAX_CPV_QUERY = 100

CPV_PARAMS = (
    Param(
        name="q",
        kind="text",
        max_length=MAX_CPV_QUERY,
        pattern=PRINTABLE_WORD,
        required=True,
        example="travaux routiers",
        description=(
            "Words of a French or English label, or digits of a code (accents and case "
            "ignored); every word must appear. Required."
        ),
    ),
    Param(
        name="limit",
        kind="int",
        minimum=1,
        maximum=100,
        default="20",
        description="Entries to return.",
    ),
)
REGION_PARAMS: tuple[Param, ...] = ()
DEPARTMENT_PARAMS = (
    Param(
        name="region",
        kind="enum",
        allowed=region_codes(),
        example="76",
        description="Only the départements of this region (INSEE code).",
    ),
)

routes = web.RouteTableDef()


@routes.get("/v1/reference/cpv", name="reference_cpv")
async def cpv(request: web.Request) -> web.Response:
    values = parse_all(request.query, CPV_PARAMS)
    found = search_cpv(values["q"], limit=values["limit"])
    items = msgspec.convert(found, list[CpvEntry], from_attributes=True)
    return cached(request, encode(CpvList(items=items)), max_age=REFERENCE_MAX_AGE)


@routes.get("/v1/reference/regions", name="reference_regions")
async def list_regions(request: web.Request) -> web.Response:
    parse_all(request.query, REGION_PARAMS)
    items = msgspec.convert(regions(), list[RegionEntry], from_attributes=True)
    return cached(request, encode(RegionList(items=items)), max_age=REFERENCE_MAX_AGE)


@routes.get("/v1/reference/departments", name="reference_departments")
async def list_departments(request: web.Request) -> web.Response:
    values = parse_all(request.query, DEPARTMENT_PARAMS)
    region = values["region"]
    wanted = [d for d in departments() if region is None or d.region == region]
    items = msgspec.convert(wanted, list[DepartmentEntry], from_attributes=True)
    return cached(request, encode(DepartmentList(items=items)), max_age=REFERENCE_MAX_AGE)
