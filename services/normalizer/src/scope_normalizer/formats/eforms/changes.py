"""Links to other notices: changes (`efac:Changes`), contract modifications
(`efac:ContractModification`) and previous notices (BT-125).

A change notice names the notice it changes by notice UUID and version (BT-758,
`<uuid>-<version>`), never by publication number; the canonical id of that notice is then
`europe_ted:<uuid>`, which matches no published notice's id (those use the publication
number): such a link resolves through the shared contract folder (BT-04) instead. Contract
modifications and previous notices use publication numbers (`ojs-notice-id`), which do match.
"""

from __future__ import annotations

import re

import msgspec

from scope_normalizer.formats.base import notice_id
from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.codes import CANCELLING_CHANGES
from scope_normalizer.formats.eforms.read import (
    Languages,
    children_named,
    element_text,
    elements,
    string,
    strings,
    unique,
)
from scope_normalizer.formats.eforms.results import Results
from scope_normalizer.formats.eforms.xpaths import ID, NOTICE_REFERENCE, Element, xp
from scope_shared.documents.ted import publication_number
from scope_shared.schema import Modification, NoticeType, RelatedNotice, RelationKind

TED = "europe_ted"
"""TED's source name: every id eForms cites is a TED notice."""

_CHANGED_NOTICE = xp("efbc:ChangedNoticeIdentifier")  # BT-758, BT-1501(n)
_CHANGE_REASONS = xp("efac:ChangeReason/cbc:ReasonCode/text()")  # BT-140, BT-200
_CHANGE = xp("efac:Change")
_CHANGE_REASON = xp("efac:ChangeReason")
_CHANGE_DESCRIPTION = xp("efbc:ChangeDescription")  # BT-141, BT-202
_REASON_DESCRIPTION = xp("efbc:ReasonDescription")  # BT-762, BT-201
_MODIFIED_CONTRACT = xp("efbc:ModifiedContractIdentifier/text()")  # BT-1501(c)
_UUID = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-\d{1,3})?$",
    re.IGNORECASE,
)


class Change(msgspec.Struct, frozen=True):
    """What a change notice does: correct or cancel, and which notices."""

    notice_type: NoticeType
    related: list[RelatedNotice]


def notice_ref(text: str | None, scheme: str | None = None) -> str | None:
    """The canonical id of a notice eForms cites, by publication number or by UUID."""
    if not text:
        return None
    number = publication_number(text)
    if number:
        return notice_id(TED, number)
    if scheme in (None, "", "notice-id") and (match := _UUID.match(text.strip())):
        return notice_id(TED, match.group(1).lower())
    return None


def read_change(changes: list[Element]) -> Change | None:
    """A change notice's kind and targets (from its `efac:Changes`); None for a notice that
    changes nothing."""
    if not changes:
        return None
    reasons = {code for change in changes for code in strings(_CHANGE_REASONS(change))}
    cancels = bool(reasons & CANCELLING_CHANGES)
    relation = RelationKind.CANCELS if cancels else RelationKind.CORRECTS
    targets = [
        ref
        for change in changes
        for changed in elements(_CHANGED_NOTICE(change))
        if (ref := notice_ref(element_text(changed), changed.get("schemeName")))
    ]
    return Change(
        notice_type=NoticeType.CANCELLATION if cancels else NoticeType.CORRIGENDUM,
        related=[RelatedNotice(relation=relation, notice_id=ref) for ref in unique(targets)],
    )


def read_modifications(
    contract_modifications: list[Element], results: Results, languages: Languages
) -> tuple[list[Modification], list[RelatedNotice]]:
    """BT-202/BT-201 descriptions, the modified contract's value and winners, and the
    modified notice (BT-1501), of each `efac:ContractModification`."""
    modifications: list[Modification] = []
    targets: list[str] = []
    for modification in contract_modifications:
        for changed in elements(_CHANGED_NOTICE(modification)):
            ref = notice_ref(element_text(changed), changed.get("schemeName"))
            if ref:
                targets.append(ref)
        texts = [
            text
            for holders, path in (
                (_CHANGE(modification), _CHANGE_DESCRIPTION),
                (_CHANGE_REASON(modification), _REASON_DESCRIPTION),
            )
            for holder in elements(holders)
            if (text := languages.text(path(holder)))
        ]
        contract_id = string(_MODIFIED_CONTRACT(modification))
        modifications.append(
            Modification(
                description="\n".join(unique(texts)) or None,
                value=results.contract_value(contract_id),
                winners=results.contract_winners(contract_id),
            )
        )
    related = [RelatedNotice(relation=RelationKind.MODIFIES, notice_id=t) for t in unique(targets)]
    return modifications, related


def previous_notices(processes: list[Children], relation: RelationKind) -> list[RelatedNotice]:
    """BT-125 references in the `cac:TenderingProcess` of the procedure and of each lot."""
    refs = [
        ref
        for process in processes
        for holder in process.all(NOTICE_REFERENCE)
        for reference in children_named(holder, ID)
        if (ref := notice_ref(element_text(reference), reference.get("schemeName")))
    ]
    return [RelatedNotice(relation=relation, notice_id=ref) for ref in unique(refs)]
