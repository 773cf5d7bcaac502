"""What an OCDS release is: notice type from its tags, status, procedure.

Tags (releaseTag codelist) name the stages a release reports. A release with several tags
(`["award", "contract"]`, `["tender", "award"]`) is typed by its most advanced stage, in the
order planning < tender < tender change < cancellation < award < contract < contract change.
A compiled release (`compiled`), or one without a known tag, is typed from its content: a
contract amendment, else contracts, else awards, else a cancelled tender, else a tender
(a planned one is planning), else planning.
"""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.formats.ocds_release.fields import obj, objs, text
from scope_normalizer.values.caches import file_cache
from scope_shared.schema import NoticeStatus, NoticeType, ProcedureType

STAGE_ORDER = (
    NoticeType.PLANNING,
    NoticeType.CONTRACT_NOTICE,
    NoticeType.CORRIGENDUM,
    NoticeType.CANCELLATION,
    NoticeType.AWARD,
    NoticeType.CONTRACT_DATA,
    NoticeType.MODIFICATION,
)

TAG_TYPES = {
    "planning": NoticeType.PLANNING,
    "planningUpdate": NoticeType.PLANNING,
    "tender": NoticeType.CONTRACT_NOTICE,
    "tenderAmendment": NoticeType.CORRIGENDUM,
    "tenderUpdate": NoticeType.CORRIGENDUM,
    "tenderCancellation": NoticeType.CANCELLATION,
    "award": NoticeType.AWARD,
    "awardUpdate": NoticeType.AWARD,
    # An award cancelled is not the procedure cancelled: it stays an award-stage notice.
    "awardCancellation": NoticeType.AWARD,
    "contract": NoticeType.CONTRACT_DATA,
    "contractUpdate": NoticeType.CONTRACT_DATA,
    "contractTermination": NoticeType.CONTRACT_DATA,
    "contractAmendment": NoticeType.MODIFICATION,
    "implementation": NoticeType.MODIFICATION,
    "implementationUpdate": NoticeType.MODIFICATION,
}

TENDER_STATUS = {
    "planning": NoticeStatus.PLANNED,
    "planned": NoticeStatus.PLANNED,
    "active": NoticeStatus.ACTIVE,
    "cancelled": NoticeStatus.CANCELLED,
    "unsuccessful": NoticeStatus.UNSUCCESSFUL,
    "complete": NoticeStatus.COMPLETE,
    # "No further information is available under this ocid": nothing to say about it.
    "withdrawn": NoticeStatus.UNKNOWN,
}

_STATUS_OF_TYPE = {
    NoticeType.PLANNING: NoticeStatus.PLANNED,
    NoticeType.CONTRACT_NOTICE: NoticeStatus.ACTIVE,
    NoticeType.CORRIGENDUM: NoticeStatus.ACTIVE,
    NoticeType.CANCELLATION: NoticeStatus.CANCELLED,
    NoticeType.AWARD: NoticeStatus.COMPLETE,
    NoticeType.CONTRACT_DATA: NoticeStatus.COMPLETE,
    NoticeType.MODIFICATION: NoticeStatus.COMPLETE,
}

METHODS = {
    "open": ProcedureType.OPEN,
    "selective": ProcedureType.RESTRICTED,
    # Both mean no call for competition: the buyer picks whom to ask (limited) or one (direct).
    "limited": ProcedureType.NEGOTIATED_WITHOUT_CALL,
    "direct": ProcedureType.NEGOTIATED_WITHOUT_CALL,
}

_DETAILS = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"adapt[ée]e|\bMAPA\b", ProcedureType.ADAPTED),
        (r"dialogue comp|competitive dialogue", ProcedureType.COMPETITIVE_DIALOGUE),
        (r"partenariat d.innovation|innovation partnership", ProcedureType.INNOVATION_PARTNERSHIP),
        (r"concession|d[ée]l[ée]gation de service", ProcedureType.CONCESSION),
        (
            r"sans (publicit|mise en concurrence)|without (prior )?(publication|call)",
            ProcedureType.NEGOTIATED_WITHOUT_CALL,
        ),
        (r"n[ée]goci|negotiat", ProcedureType.NEGOTIATED_WITH_CALL),
        (r"restreint|restricted", ProcedureType.RESTRICTED),
        (r"\bouverte?\b|\bopen (procedure|tender)", ProcedureType.OPEN),
    )
)
"""`procurementMethodDetails` wording, French and English, most specific first; it refines
the four-value `procurementMethod` (a French MAPA is `open` or `limited` in OCDS terms)."""


def tags(values: object) -> list[str]:
    """The release's `tag` codes."""
    return [tag for tag in values if isinstance(tag, str)] if isinstance(values, list) else []


def notice_type(
    release_tags: list[str],
    tender: dict[str, Any],
    awards: list[dict[str, Any]],
    contracts: list[dict[str, Any]],
) -> NoticeType:
    """By the most advanced stage of the tags; else by what the sections hold."""
    known = [TAG_TYPES[tag] for tag in release_tags if tag in TAG_TYPES]
    if known:
        return max(known, key=STAGE_ORDER.index)
    return _type_from_content(tender, awards, contracts)


def _type_from_content(
    tender: dict[str, Any], awards: list[dict[str, Any]], contracts: list[dict[str, Any]]
) -> NoticeType:
    if any(objs(c.get("amendments")) or obj(c.get("amendment")) for c in contracts):
        return NoticeType.MODIFICATION
    if contracts:
        return NoticeType.CONTRACT_DATA
    if awards:
        return NoticeType.AWARD
    status = tender.get("status")
    if status == "cancelled":
        return NoticeType.CANCELLATION
    if tender and status not in ("planning", "planned"):
        return NoticeType.CONTRACT_NOTICE
    return NoticeType.PLANNING


def status(tender: dict[str, Any], kind: NoticeType) -> NoticeStatus:
    """`tender.status` as published; without one, what the notice type implies."""
    code = tender.get("status")
    if isinstance(code, str) and code in TENDER_STATUS:
        return TENDER_STATUS[code]
    return _STATUS_OF_TYPE[kind]


def procedure(tender: dict[str, Any]) -> tuple[ProcedureType | None, str | None]:
    """The procedure type and label from `procurementMethod` and `procurementMethodDetails`."""
    label = text(tender.get("procurementMethodDetails"))
    if label is not None and (kind := _detail_kind(label)) is not None:
        return kind, label
    method = tender.get("procurementMethod")
    return (METHODS.get(method) if isinstance(method, str) else None), label


@file_cache
def _detail_kind(label: str) -> ProcedureType | None:
    """Cached: the eight case-insensitive searches take microseconds, and a publisher words
    its procedures the same way release after release."""
    for pattern, kind in _DETAILS:
        if pattern.search(label):
            return kind
    return None
