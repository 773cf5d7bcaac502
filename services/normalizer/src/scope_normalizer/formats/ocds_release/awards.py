"""Awards, contract amendments and related processes of an OCDS release.

An OCDS award and the contract signed on it (`contracts[].awardID`) become one Award; a
contract without its award in the release (a `contract` release such as Paraguay's) becomes
an Award of its own, with its signature date and its suppliers (contract_suppliers extension).
"""

from __future__ import annotations

from typing import Any

from scope_normalizer.formats.base import notice_id, procedure_key
from scope_normalizer.formats.ocds_release.fields import amount, ident, idents, obj, objs, text
from scope_normalizer.formats.ocds_release.parties import PartyIndex, winner
from scope_normalizer.values.text import first_text
from scope_shared.dates import parse_datetime
from scope_shared.schema import (
    Award,
    Modification,
    ProcedureMatch,
    RelatedNotice,
    RelationKind,
    Winner,
)

BACKWARD_RELATIONS = frozenset({"framework", "planning", "parent", "prior", "unsuccessfulProcess"})
"""relatedProcess codes saying this process follows on from the related one. The others
(`subContract`, `replacementProcess`, `renewalProcess`) point at a later process, which no
RelationKind expresses, so they are not kept."""


def awards(
    sources: list[dict[str, Any]],
    contracts: list[dict[str, Any]],
    tender: dict[str, Any],
    parties: PartyIndex,
) -> list[Award]:
    """One Award per `awards[]` entry (`sources`), merged with its contract; then one per
    contract of `contracts[]` without its award."""
    by_award: dict[str, dict[str, Any]] = {}
    for contract in contracts:
        award_id = ident(contract.get("awardID"))
        if award_id is not None:
            by_award.setdefault(award_id, contract)
    # numberOfTenderers counts bids for the whole tender: it is the award's only when alone.
    offers = _count(tender.get("numberOfTenderers")) if len(sources) == 1 else None
    found: list[Award] = []
    matched: set[int] = set()
    for source in sources:
        award_id = ident(source.get("id"))
        contract = by_award.get(award_id, {}) if award_id else {}
        if contract:
            matched.add(id(contract))
        found.append(_award(source, contract, parties, offers))
    found.extend(
        _contract_award(contract, parties) for contract in contracts if id(contract) not in matched
    )
    return found


def _award(
    source: dict[str, Any], contract: dict[str, Any], parties: PartyIndex, offers: int | None
) -> Award:
    lot_ids = idents(source.get("relatedLots"))
    return Award(
        # An award over several lots has no single lot id to give.
        lot_id=lot_ids[0] if len(lot_ids) == 1 else None,
        date=parse_datetime(source.get("date")) or parse_datetime(contract.get("dateSigned")),
        winners=_winners(source.get("suppliers"), parties),
        value=amount(source.get("value")) or amount(contract.get("value")),
        offers_received=offers,
        contract_id=ident(contract.get("id")),
        title=first_text(source.get("title"), contract.get("title"), source.get("description")),
    )


def _contract_award(contract: dict[str, Any], parties: PartyIndex) -> Award:
    lot_ids = idents(contract.get("relatedLots"))
    return Award(
        lot_id=lot_ids[0] if len(lot_ids) == 1 else None,
        date=parse_datetime(contract.get("dateSigned")),
        winners=_winners(contract.get("suppliers"), parties),
        value=amount(contract.get("value")),
        contract_id=ident(contract.get("id")),
        title=text(contract.get("title")),
    )


def _winners(suppliers: object, parties: PartyIndex) -> list[Winner]:
    found = (winner(supplier, parties) for supplier in objs(suppliers))
    return [entry for entry in found if entry is not None]


def modifications(contracts: list[dict[str, Any]]) -> list[Modification]:
    """`contracts[].amendments[]` (OCDS 1.1) and `contracts[].amendment` (OCDS 1.0)."""
    found: list[Modification] = []
    for contract in contracts:
        legacy = obj(contract.get("amendment"))
        for amendment in [*objs(contract.get("amendments")), *([legacy] if legacy else [])]:
            date = parse_datetime(amendment.get("date"))
            description = first_text(amendment.get("description"), amendment.get("rationale"))
            if date is not None or description is not None:
                found.append(Modification(date=date, description=description))
    return found


def related(
    release_processes: object,
    sections: tuple[dict[str, Any], list[dict[str, Any]]],
    ids: tuple[str, str, str],
    compiled: bool,
) -> list[RelatedNotice]:
    """Earlier processes (by ocid) and, for an amendment release, the release it amends;
    `sections` is (tender, contracts), `ids` (source, ocid, release id)."""
    tender, contracts = sections
    source, ocid, release_id = ids
    found: dict[tuple[RelationKind, str], RelatedNotice] = {}
    processes = [*objs(release_processes)]
    processes += [process for c in contracts for process in objs(c.get("relatedProcesses"))]
    for process in processes:
        target = _earlier_process(process)
        if target is not None:
            key = (RelationKind.FOLLOWS, procedure_key(ProcedureMatch.OCID, target))
            found.setdefault(key, RelatedNotice(relation=key[0], notice_id=key[1]))
    if not compiled:
        # A compiled release accumulates every amendment of the process: it corrects nothing.
        tender_amendments = objs(tender.get("amendments"))
        contract_amendments = [a for c in contracts for a in objs(c.get("amendments"))]
        for kind, amendments in (
            (RelationKind.CORRECTS, tender_amendments),
            (RelationKind.MODIFIES, contract_amendments),
        ):
            for amendment in amendments:
                target = _amended_release(amendment, release_id)
                if target is not None:
                    key = (kind, notice_id(source, f"{ocid}/{target}"))
                    found.setdefault(key, RelatedNotice(relation=kind, notice_id=key[1]))
    return list(found.values())


def _earlier_process(process: dict[str, Any]) -> str | None:
    scheme = process.get("scheme")
    if not isinstance(scheme, str) or scheme.strip().lower() != "ocid":
        return None
    relationships = process.get("relationship")
    codes = relationships if isinstance(relationships, list) else []
    if not any(code in BACKWARD_RELATIONS for code in codes if isinstance(code, str)):
        return None
    return ident(process.get("identifier"))


def _amended_release(amendment: dict[str, Any], release_id: str) -> str | None:
    """`amendsReleaseID` of an amendment this release makes (its `releaseID`, when given)."""
    made_by = ident(amendment.get("releaseID"))
    if made_by is not None and made_by != release_id:
        return None
    target = ident(amendment.get("amendsReleaseID"))
    return target if target != release_id else None


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
