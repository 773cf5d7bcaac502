"""The JSON shape of every response body, as msgspec Structs.

Handlers build these and encode them; `openapi.py` generates the OpenAPI schemas from the same
Structs, so the document cannot drift from what is served.
"""

from scope_search_api.views.health import Health, Readiness, ReadinessChecks
from scope_search_api.views.notices import (
    FieldChange,
    NoticeDetail,
    NoticeHistory,
    NoticeLinks,
    NoticeRef,
    NoticeVersion,
    ProcedureNotices,
    ProcedureView,
)
from scope_search_api.views.problem import InvalidParam, Problem
from scope_search_api.views.reference import (
    CpvEntry,
    CpvList,
    DepartmentEntry,
    DepartmentList,
    RegionEntry,
    RegionList,
)
from scope_search_api.views.search import (
    SCHEMA_REF,
    FacetValue,
    PageLinks,
    ProcedureSummary,
    SearchHit,
    SearchPage,
    Total,
)
from scope_search_api.views.sources import SourceList, SourceStatus
from scope_shared.schema.harvest import RunCounts

RESPONSE_TYPES: tuple[type, ...] = (
    SearchPage,
    NoticeDetail,
    NoticeHistory,
    ProcedureView,
    SourceList,
    CpvList,
    RegionList,
    DepartmentList,
    Health,
    Readiness,
    Problem,
)
"""Every top-level response body; their schemas (and those they use) go into OpenAPI."""

__all__ = [
    "RESPONSE_TYPES",
    "SCHEMA_REF",
    "CpvEntry",
    "CpvList",
    "DepartmentEntry",
    "DepartmentList",
    "FacetValue",
    "FieldChange",
    "Health",
    "InvalidParam",
    "NoticeDetail",
    "NoticeHistory",
    "NoticeLinks",
    "NoticeRef",
    "NoticeVersion",
    "PageLinks",
    "Problem",
    "ProcedureNotices",
    "ProcedureSummary",
    "ProcedureView",
    "Readiness",
    "ReadinessChecks",
    "RegionEntry",
    "RegionList",
    "RunCounts",
    "SearchHit",
    "SearchPage",
    "SourceList",
    "SourceStatus",
    "Total",
]
