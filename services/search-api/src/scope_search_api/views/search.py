"""GET /v1/notices: one page of a search."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

SCHEMA_REF = "#/components/schemas/{name}"
"""Where the OpenAPI document (openapi.py) puts the schema of each Struct, by name."""

NoticeJson = Annotated[
    msgspec.Raw, msgspec.Meta(extra_json_schema={"$ref": SCHEMA_REF.format(name="Notice")})
]
"""A notice already encoded (the store's JSON of it, sent as is), documented as a Notice."""


class Total(msgspec.Struct, frozen=True, kw_only=True):
    """How many notices (or procedures, when grouped) match."""

    value: int
    relation: Literal["eq", "gte"]
    """`eq`: `value` is exact; `gte`: at least `value` (counting stops at 10,000)."""


class ProcedureSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The procedure a grouped hit stands for (`group=procedure`)."""

    procedure_id: str
    notice_ids: list[str]
    """Every notice of the procedure, oldest first."""
    notice_types: list[str]
    """Their types, in the same order."""
    sources: list[str]
    updated_at: datetime
    """Publication date of the procedure's latest notice."""


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    notice: NoticeJson
    """The notice; with `group=procedure`, the procedure's main notice, its `status` and
    `submission_deadline` as corrected by later notices."""
    score: float | None = None
    """Relevance score (sort=relevance with q), else null."""
    highlights: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """With `highlight=true`: field -> fragments, matches wrapped in `<em>`, the rest
    HTML-escaped (safe to insert as HTML)."""
    procedure: ProcedureSummary | None = None
    """With `group=procedure`: the procedure this hit stands for."""


class FacetValue(msgspec.Struct, frozen=True, kw_only=True):
    value: str
    count: int
    label: str | None = None
    """A French label for codes (CPV division, département, region), when known."""


class PageLinks(msgspec.Struct, frozen=True, kw_only=True):
    self_: str = msgspec.field(name="self")
    next: str | None = None
    """The next page (same query, `cursor` set); null on the last page."""


class SearchPage(msgspec.Struct, frozen=True, kw_only=True):
    total: Total
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]] = msgspec.field(default_factory=dict)
    """Requested facets: name -> top values, by count descending then value ascending."""
    next_cursor: str | None = None
    """Opaque; pass it back as `cursor` (with the same other parameters) for the next page."""
    links: PageLinks
