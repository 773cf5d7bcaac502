"""Types and protocol of a search store.

Semantics both stores implement identically (the contract suite checks them):
- `index` keeps, per notice id, the highest version as the searchable document and every
  version in the history; an older version arriving after a newer one changes nothing but the
  history (outcome `stale`), the same version again replaces the document (a re-mapping).
- Full text (`q`) searches title, description, buyer name and lot titles/descriptions with
  French analysis: elision, stop words, light stemming, accent and case folding. Syntax: words
  (all required), `"quoted phrases"`, `-excluded`, `+required`, `OR` between words.
- Filters combine with AND; values inside one filter combine with OR. `cpv` codes match at any
  level: `45` (a division), `4523` or `45233140` match every notice whose main or additional
  CPV code (or a lot's) is that code or below it.
- `open_only`: submission deadline at or after `now` (notices without deadline are excluded).
- Sort orders, every one ending with `id` ascending as tie-break so that paging is stable:
  relevance (score desc, then published_at desc), newest (published_at desc), deadline
  (submission_deadline asc, missing last), value (estimated_value desc, missing last).
- `cursor` is opaque: the sort values of the last hit of the previous page.
- `total` is exact up to `TOTAL_EXACT_UP_TO`, then that bound with relation `gte`.
- Facet counts are over every hit of the query (all pages), top `facet_size` values, ties by
  value ascending.
- `group_by_procedure`: hits are `ProcedureCard`s, one per procedure, whose status and
  deadline reflect its corrigenda and cancellations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal, Protocol

import msgspec

from scope_shared.schema import Notice

MAX_PAGE_SIZE = 100
TOTAL_EXACT_UP_TO = 10_000
MAX_QUERY_LENGTH = 500
MAX_FACET_SIZE = 100

SortOrder = Literal["relevance", "newest", "deadline", "value"]
FacetName = Literal[
    "cpv_division", "department", "region", "source", "notice_type", "procedure_type", "buyer"
]
FACETS: tuple[FacetName, ...] = (
    "cpv_division", "department", "region", "source", "notice_type", "procedure_type", "buyer",
)  # fmt: skip


class InvalidCursor(ValueError):  # noqa: N818 - named for what the caller gave
    """A `SearchQuery.cursor` the store did not make, or made for another sort or view."""


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    q: Annotated[str, msgspec.Meta(max_length=MAX_QUERY_LENGTH)] | None = None
    cpv: list[str] = msgspec.field(default_factory=list)
    department: list[str] = msgspec.field(default_factory=list)
    region: list[str] = msgspec.field(default_factory=list)
    nuts: list[str] = msgspec.field(default_factory=list)
    buyer: str | None = None
    """A SIRET (14 digits) or SIREN (9) matches the buyer's identifier; other text its name."""
    buyer_name: str | None = None
    """The buyer's name exactly as the `buyer` facet counts it: a facet value filters back to
    its own count (`buyer` matches words, so `Ville de Paris` also finds other buyers)."""
    source: list[str] = msgspec.field(default_factory=list)
    notice_type: list[str] = msgspec.field(default_factory=list)
    procedure_type: list[str] = msgspec.field(default_factory=list)
    contract_nature: list[str] = msgspec.field(default_factory=list)
    status: list[str] = msgspec.field(default_factory=list)
    open_only: bool = False
    now: datetime | None = None
    """Reference time of `open_only`; the caller passes it so results are reproducible."""
    published_after: datetime | None = None
    published_before: datetime | None = None
    deadline_after: datetime | None = None
    deadline_before: datetime | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    sort: SortOrder = "relevance"
    facets: list[FacetName] = msgspec.field(default_factory=list)
    facet_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_FACET_SIZE)] = 20
    group_by_procedure: bool = False
    highlight: bool = False
    page_size: Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE_SIZE)] = 20
    cursor: str | None = None


class ProcedureCard(msgspec.Struct, frozen=True, kw_only=True):
    """One procedure as a company sees it: its main notice, updated by what followed it.

    Attributes:
        procedure_id: The procedure.
        notice: The main notice (the contract notice when there is one, else the latest),
            with `status` and `submission_deadline` as corrected by later notices.
        notice_ids: Every notice of the procedure, oldest first.
        notice_types: Their types, in the same order.
        sources: Every source that published about it.
        updated_at: When the latest notice of the procedure was published.
    """

    procedure_id: str
    notice: Notice
    notice_ids: list[str]
    notice_types: list[str]
    sources: list[str]
    updated_at: datetime

    def summary(self) -> CardSummary:
        return CardSummary(**{name: getattr(self, name) for name in CardSummary.__struct_fields__})


class CardSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A procedure card without its main notice (see `ProcedureCard` for the fields)."""

    procedure_id: str
    notice_ids: list[str]
    notice_types: list[str]
    sources: list[str]
    updated_at: datetime

    def with_notice(self, notice: Notice) -> ProcedureCard:
        """The whole card, showing `notice` (a summary kept or stored apart from it)."""
        return ProcedureCard(
            notice=notice,
            **{name: getattr(self, name) for name in CardSummary.__struct_fields__},
        )


_notice_encoder = msgspec.json.Encoder()
_notice_decoder = msgspec.json.Decoder(Notice)


class Hit(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    """One search hit; its notice travels as JSON, decoded only when `notice` is read.

    The API sends a page of hits on as JSON: carrying each notice as the bytes the store
    keeps spares decoding 20 notices into Structs and encoding them again, which was a sixth
    of the API's CPU per search.
    """

    notice_json: msgspec.Raw
    """The notice, exactly as `msgspec.json.encode(notice)` writes it; with grouping, the
    card's main notice (status and deadline corrected)."""
    procedure: CardSummary | None = None
    """Set when grouping by procedure: the card, but for its notice (`card` has both)."""
    score: float | None = None
    highlights: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Field -> fragments with matches wrapped in <em>...</em>, text otherwise HTML-escaped."""

    @classmethod
    def of(
        cls,
        notice: Notice,
        *,
        card: ProcedureCard | None = None,
        score: float | None = None,
        highlights: dict[str, list[str]] | None = None,
    ) -> Hit:
        """A hit for a notice already decoded (kept: `notice` does not decode it again)."""
        hit = cls.of_json(
            _notice_encoder.encode(notice),
            procedure=card.summary() if card is not None else None,
            score=score,
            highlights=highlights,
        )
        hit.__dict__["notice"] = notice
        hit.__dict__["card"] = card
        return hit

    @classmethod
    def of_json(
        cls,
        notice_json: bytes,
        *,
        procedure: CardSummary | None = None,
        score: float | None = None,
        highlights: dict[str, list[str]] | None = None,
    ) -> Hit:
        """A hit for a notice's stored JSON, which the store knows to be exactly its current
        encoding (see `opensearch.documents.split_document`)."""
        return cls(
            notice_json=msgspec.Raw(notice_json),
            procedure=procedure,
            score=score,
            highlights=highlights or {},
        )

    @cached_property
    def notice(self) -> Notice:
        return _notice_decoder.decode(self.notice_json)

    @cached_property
    def card(self) -> ProcedureCard | None:
        """The procedure card when grouping by procedure, with the hit's notice as its own."""
        summary = self.procedure
        return summary.with_notice(self.notice) if summary is not None else None


class FacetBucket(msgspec.Struct, frozen=True):
    value: str
    count: int


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    hits: list[Hit]
    total: int
    total_relation: Literal["eq", "gte"] = "eq"
    facets: dict[str, list[FacetBucket]] = msgspec.field(default_factory=dict)
    next_cursor: str | None = None


class IndexOutcome(msgspec.Struct, frozen=True):
    notice_id: str
    status: Literal["indexed", "stale", "failed"]
    reason: str | None = None
    """Why it failed, as the store said it (a mapping error): the indexer dead-letters it."""
    retryable: bool = False
    """True when the store was unavailable or overloaded: try the same document again later."""


class SearchStore(Protocol):
    async def setup(self) -> None:
        """Create indices, templates or tables; idempotent."""

    async def index(self, notices: Sequence[Notice]) -> list[IndexOutcome]:
        """Index a batch; one outcome per notice, in order. Never raises for one bad document."""

    async def get(self, notice_id: str) -> Notice | None:
        """The latest version of a notice."""

    async def history(self, notice_id: str) -> list[Notice]:
        """Every version of a notice, version 1 first."""

    async def procedure(self, procedure_id: str) -> ProcedureCard | None:
        """The procedure's card with its notices."""

    async def procedure_notices(self, procedure_id: str) -> list[Notice]:
        """Every notice (latest versions) of a procedure, oldest publication first."""

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run a query; raises InvalidCursor for a bad cursor."""

    async def ping(self) -> bool:
        """True when the store answers (readiness)."""

    async def close(self) -> None: ...
