"""The query parameters of every endpoint, as data.

One table (`Param` entries) describes each query parameter: `params.py` parses with it and
`openapi.py` documents from it, so the document and the behaviour agree. Every bound the store
sees is here: query length, page size, facet size, cursor length, values per parameter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

from scope_shared.reference import departments, regions
from scope_shared.schema import ContractNature, NoticeStatus, NoticeType, ProcedureType
from scope_shared.store import FACETS, MAX_PAGE_SIZE
from scope_shared.store.contract import MAX_FACET_SIZE, MAX_QUERY_LENGTH

MAX_VALUES = 50
"""Values of one multi-valued parameter: a filter widget never needs more, and each value is
one more clause for the store."""
MAX_CURSOR_LENGTH = 2048
MAX_BUYER_LENGTH = 200
MAX_FACET_VALUE_LENGTH = 512
"""The longest buyer name the `buyer` facet counts (OpenSearch keeps longer ones out of it)."""
NOT_NUL = "^[^\\x00]*$"
"""A stored value may hold line breaks and the C1 bytes of mis-decoded sources; not NUL."""
MAX_VALUE = Decimal(10) ** 15
"""Above any public contract (the largest are tens of billions of euros)."""
PRINTABLE = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffe\\uffff]*$"
"""Free text may hold any character but control characters (and the two Unicode
non-characters): none belongs in a search, and none can be written into a feed."""
_ALLOWED = "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffe\\uffff]"
PRINTABLE_WORD = f"^{_ALLOWED}*[^\\s\\x00-\\x1f\\x7f-\\x9f\\ufffe\\uffff]{_ALLOWED}*$"
"""`PRINTABLE` with at least one character that is not a space (a required text)."""
DEFAULT_PAGE_SIZE = 20
DEFAULT_FACET_SIZE = 20
FEED_PAGE_SIZE = 50
"""Feed readers show the latest few dozen entries; 50 covers a day of a busy search."""

Kind = Literal[
    "text", "exact", "list", "bool", "datetime", "decimal", "int", "enum", "enum_list", "cursor"
]
"""`text` is folded (runs of spaces made one) and refuses control characters; `exact` is kept
as given, so that a value read from a facet matches what the store holds."""


class Param(msgspec.Struct, frozen=True, kw_only=True):
    """One query parameter: how it is parsed and how OpenAPI documents it."""

    name: str
    kind: Kind
    description: str
    allowed: tuple[str, ...] = ()
    pattern: str | None = None
    """For `list` values (each value) and `text`."""
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    default: str | None = None
    example: str | None = None
    required: bool = False


def _codes(enum: Any) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _department_codes() -> tuple[str, ...]:
    return tuple(d.code for d in departments())


def region_codes() -> tuple[str, ...]:
    return tuple(r.code for r in regions())


_DATE_HELP = (
    " An ISO 8601 date (`2026-03-01`, midnight UTC) or date-time with offset "
    "(`2026-03-01T12:00:00Z`; without offset, UTC)."
)

FILTER_PARAMS: tuple[Param, ...] = (
    Param(
        name="q",
        kind="text",
        max_length=MAX_QUERY_LENGTH,
        pattern=PRINTABLE,
        example="nettoyage locaux",
        description=(
            "French full-text search over title, description, buyer name and lots (accents, "
            'case, plurals and elisions ignored). Words are all required; `"exact phrase"`, '
            "`-excluded`, `+required`, `word1 OR word2`. Never Lucene syntax."
        ),
    ),
    Param(
        name="cpv",
        kind="list",
        pattern="^[0-9]{2,8}(-[0-9])?$",
        example="45,72",
        description=(
            "CPV codes at any level, with or without check digit: `45` (a division) matches "
            "every code under it, `4523`, `45233140`. Main, additional or lot CPV."
        ),
    ),
    Param(
        name="department",
        kind="enum_list",
        allowed=_department_codes(),
        example="75",
        description=(
            "Département INSEE codes of the place of performance (the buyer's when the notice "
            "gives no place)."
        ),
    ),
    Param(
        name="region",
        kind="enum_list",
        allowed=region_codes(),
        example="11",
        description=(
            "Region INSEE codes (`11` Île-de-France, `76` Occitanie), of the place of "
            "performance (the buyer's when the notice gives no place)."
        ),
    ),
    Param(
        name="nuts",
        kind="list",
        pattern="^[A-Za-z]{2}[0-9A-Za-z]{0,3}$",
        example="FR101",
        description="NUTS codes of the place of performance, any level (`FR1` finds `FR101`).",
    ),
    Param(
        name="buyer",
        kind="text",
        max_length=MAX_BUYER_LENGTH,
        pattern=PRINTABLE,
        example="21750001600019",
        description=("A buyer's SIRET (14 digits) or SIREN (9 digits), or words of its name."),
    ),
    Param(
        name="buyer_name",
        kind="exact",
        max_length=MAX_FACET_VALUE_LENGTH,
        pattern=NOT_NUL,
        example="Ville de Malakoff",
        description=(
            "A buyer's name, exactly as the `buyer` facet gives it: a facet value filters back "
            "to its count (`buyer` matches words of names, so it may find more)."
        ),
    ),
    Param(
        name="source",
        kind="list",
        pattern="^[a-z][a-z0-9_]{1,62}$",
        example="france_boamp",
        description="Source names (`france_boamp`, `europe_ted`, `france_decp`...).",
    ),
    Param(
        name="notice_type",
        kind="enum_list",
        allowed=_codes(NoticeType),
        example="contract_notice",
        description="Notice types.",
    ),
    Param(
        name="procedure_type",
        kind="enum_list",
        allowed=_codes(ProcedureType),
        example="open",
        description="Procedure types (`adapted` is the French MAPA).",
    ),
    Param(
        name="contract_nature",
        kind="enum_list",
        allowed=_codes(ContractNature),
        example="works",
        description="Main nature of the contract.",
    ),
    Param(
        name="status",
        kind="enum_list",
        allowed=_codes(NoticeStatus),
        example="active",
        description="Procedure status as the notice states it.",
    ),
    Param(
        name="open",
        kind="bool",
        default="false",
        description=(
            "`true`: only notices whose submission deadline has not passed (notices without "
            "deadline are left out)."
        ),
    ),
    Param(
        name="published_after",
        kind="datetime",
        description="Published at or after this instant." + _DATE_HELP,
    ),
    Param(
        name="published_before",
        kind="datetime",
        description="Published at or before this instant." + _DATE_HELP,
    ),
    Param(
        name="deadline_after",
        kind="datetime",
        description="Submission deadline at or after this instant." + _DATE_HELP,
    ),
    Param(
        name="deadline_before",
        kind="datetime",
        description="Submission deadline at or before this instant." + _DATE_HELP,
    ),
    Param(
        name="value_min",
        kind="decimal",
        minimum=0,
        example="100000",
        description="Estimated value at least this (euros; notices without value left out).",
    ),
    Param(
        name="value_max",
        kind="decimal",
        minimum=0,
        example="5000000",
        description="Estimated value at most this (euros; notices without value left out).",
    ),
    Param(
        name="sort",
        kind="enum",
        allowed=("relevance", "newest", "deadline", "value"),
        description=(
            "`relevance` (best match, then newest; the search's default with `q`), `newest` "
            "(publication date; the default without `q`, and always that of feeds and CSV "
            "exports), `deadline` (soonest first, none last), `value` (largest first, none "
            "last)."
        ),
    ),
)

_PAGE_SIZE = Param(
    name="page_size",
    kind="int",
    minimum=1,
    maximum=MAX_PAGE_SIZE,
    default=str(DEFAULT_PAGE_SIZE),
    description="Hits per page.",
)
PAGE_PARAMS: tuple[Param, ...] = (
    _PAGE_SIZE,
    Param(
        name="cursor",
        kind="cursor",
        max_length=MAX_CURSOR_LENGTH,
        description=(
            "Opaque: the `next_cursor` of the previous page. Only valid with the same other "
            "parameters (`page_size` may change)."
        ),
    ),
    Param(
        name="facets",
        kind="enum_list",
        allowed=FACETS,
        example="department,cpv_division",
        description="Facets to count over every hit of the query.",
    ),
    Param(
        name="facet_size",
        kind="int",
        minimum=1,
        maximum=MAX_FACET_SIZE,
        default=str(DEFAULT_FACET_SIZE),
        description="Values per facet (the most frequent).",
    ),
    Param(
        name="highlight",
        kind="bool",
        default="false",
        description="`true`: return matching fragments of the text fields with `<em>` marks.",
    ),
    Param(
        name="group",
        kind="enum",
        allowed=("procedure",),
        description=(
            "`procedure`: one hit per procedure (its main notice, corrected by later ones), "
            "with the procedure's notices listed."
        ),
    ),
)
FEED_PARAMS: tuple[Param, ...] = (
    msgspec.structs.replace(
        _PAGE_SIZE, default=str(FEED_PAGE_SIZE), description="Entries in the feed."
    ),
)


def csv_params(max_rows: int) -> tuple[Param, ...]:
    return (
        Param(
            name="limit",
            kind="int",
            minimum=1,
            maximum=max_rows,
            default=str(max_rows),
            description=f"Rows to export (at most {max_rows}, the server's bound).",
        ),
    )
