"""What the embedded store derives from a notice to filter, sort, facet and search on it.

The contract's field semantics (CPV with ancestors, places with the buyer's as fallback, NUTS
prefixes) are `scope_shared.store.derived`, shared with the OpenSearch store. Here:
- facet values of the multi-valued facets (CPV divisions, departments, regions) are also kept
  on the notice row as one space-separated string (`45 71`): counting `GROUP BY` that column
  and splitting the few distinct strings in Python counts each notice once per value, without
  a join per notice (the join made facets ten times slower on large result sets);
- buyer: SIRET, SIREN (given, else the SIRET's first nine digits) and name;
- estimated value: the procedure's `estimated_value.amount`, compared as given, whatever the
  currency (the schema does not convert).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from scope_shared.schema import Notice
from scope_shared.store.derived import cpv_divisions, cpv_terms, locations, nuts_prefixes
from scope_shared.store.embedded.analysis import analysed_text

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

MISSING_DEADLINE = 2**62
"""Sort key of a notice without deadline: after every real date (deadline sort: missing last)."""
MISSING_VALUE = -1.0e300
"""Sort key of a notice without value: below every real amount (value sort: missing last)."""


class TermField(IntEnum):
    """Multi-valued fields, stored one row per value in the `terms` table."""

    CPV = 1
    DEPARTMENT = 3
    REGION = 4
    NUTS = 5


def micros(moment: datetime) -> int:
    """A timezone-aware instant as integer microseconds since the epoch: exact and sortable."""
    return (moment - _EPOCH) // _MICROSECOND


def terms(notice: Notice) -> list[tuple[int, str]]:
    """Every (field, value) pair of the notice's multi-valued filters, without repeats."""
    pairs: dict[tuple[int, str], None] = {}
    for code in cpv_terms(notice):
        pairs[(TermField.CPV, code)] = None
    departments, regions, nuts = locations(notice)
    pairs.update(((TermField.DEPARTMENT, value), None) for value in sorted(departments))
    pairs.update(((TermField.REGION, value), None) for value in sorted(regions))
    for code in sorted(nuts):
        pairs.update(((TermField.NUTS, prefix), None) for prefix in nuts_prefixes(code))
    return list(pairs)


@dataclass(frozen=True, slots=True)
class NoticeColumns:
    """The scalar columns of the `notices` table (filters and sort keys)."""

    published_at: int
    deadline: int | None
    value: float | None
    source: str
    notice_type: str
    status: str
    procedure_type: str | None
    contract_nature: str | None
    procedure_id: str
    buyer_siret: str | None
    buyer_siren: str | None
    buyer_name: str | None
    cpv_divisions: str | None
    departments: str | None
    regions: str | None


def _joined(values: Iterable[str]) -> str | None:
    return " ".join(sorted(set(values))) or None


def columns(notice: Notice) -> NoticeColumns:
    buyer = notice.buyer
    departments, regions, _ = locations(notice)
    siret = buyer.siret if buyer else None
    siren = (buyer.siren or (siret[:9] if siret else None)) if buyer else None
    return NoticeColumns(
        published_at=micros(notice.published_at),
        deadline=micros(notice.submission_deadline) if notice.submission_deadline else None,
        value=float(notice.estimated_value.amount) if notice.estimated_value else None,
        source=notice.source,
        notice_type=notice.notice_type.value,
        status=notice.status.value,
        procedure_type=notice.procedure_type.value if notice.procedure_type else None,
        contract_nature=notice.contract_nature.value if notice.contract_nature else None,
        procedure_id=notice.procedure_id,
        buyer_siret=siret,
        buyer_siren=siren,
        buyer_name=buyer.name if buyer else None,
        cpv_divisions=_joined(cpv_divisions(notice)),
        departments=_joined(departments),
        regions=_joined(regions),
    )


def sort_keys(notice: Notice) -> tuple[int, int, float]:
    """(deadline, published_at, value) as stored: the missing ones as their sort keys."""
    deadline, value = notice.submission_deadline, notice.estimated_value
    return (
        MISSING_DEADLINE if deadline is None else micros(deadline),
        micros(notice.published_at),
        MISSING_VALUE if value is None else float(value.amount),
    )


def fts_columns(notice: Notice) -> tuple[str, str, str, str]:
    """The analysed text of the FTS columns: title, description, buyer, lots."""
    lots = [text for lot in notice.lots for text in (lot.title, lot.description)]
    return (
        analysed_text(notice.title),
        analysed_text(notice.description),
        analysed_text(notice.buyer.name if notice.buyer else None),
        analysed_text(*lots),
    )
