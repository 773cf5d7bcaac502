"""One DECP contract (marché or contrat de concession, 2019 or 2024) to a Notice.

The two generations share their fields but for renames the readers absorb (list wrappers)
and additions read where present (2024 `offresRecues`, `techniques`, considerations,
`idAccordCadre`); so one function maps both.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from scope_normalizer.formats.base import (
    IdentityFields,
    identity,
    notice_id,
    procedure_key,
    require,
)
from scope_normalizer.formats.decp import codes
from scope_normalizer.formats.decp.parties import buyer, buyer_party, winners
from scope_normalizer.formats.decp.place import place
from scope_normalizer.formats.decp.record import Contract, Kind, entries, integer, text
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.identifiers import normalize_cpv
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_date, parse_datetime
from scope_shared.schema import (
    Amount,
    Award,
    Duration,
    DurationUnit,
    Modification,
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    RawNotice,
    RelatedNotice,
    RelationKind,
)


def map_contract(raw: RawNotice, contract: Contract) -> Notice:
    record = contract.record
    contract_id = require(text(record.id), "$.id", "contract id")
    title = require(clean_text(record.objet), "$.objet", "title (objet)")
    published_at = require(
        _when(record.date_publication_donnees),
        "$.datePublicationDonnees",
        "publication date",
    )
    party = buyer_party(record)
    # The buyer's id as published, the first half of the consolidation's `uid`.
    buyer_key = text(party.get("id"))
    cpv = normalize_cpv(text(record.code_cpv))
    label = clean_text(record.procedure)
    return Notice(
        **_identity(raw, buyer_key, contract_id),
        source_notice_type=contract.kind.value,
        notice_type=NoticeType.CONTRACT_DATA,
        status=NoticeStatus.COMPLETE,
        title=title,
        language="fr",
        buyer=buyer(party),
        contract_nature=codes.contract_nature(contract.kind, record, cpv),
        procedure_type=codes.procedure(contract.kind, label),
        procedure_label=label,
        framework_agreement=codes.framework_agreement(contract.kind, record),
        cpv_main=cpv,
        place=place(record.lieu_execution),
        published_at=published_at,
        duration=_duration(record.duree_mois, record.date_debut_execution),
        considerations=codes.considerations(record),
        awards=[_award(contract, contract_id)],
        modifications=_modifications(record.modifications, contract.kind),
        related=_related(raw, buyer_key, text(record.id_accord_cadre)),
    )


def _identity(raw: RawNotice, buyer_key: str | None, contract_id: str) -> IdentityFields:
    """The procedure is the buyer's contract: `buyer_contract_id:<buyer SIRET>:<id>`.

    The id is kept as published, modification counter included: real ids rarely follow the
    year + reference + 2-digit counter pattern, so cutting two digits would merge distinct
    contracts (`2018050001` and `2018050002` are two contracts of one buyer), while a
    modified contract is republished under its own unchanged id.
    """
    ids = identity(raw)
    if buyer_key:
        ids["procedure_id"] = procedure_key(
            ProcedureMatch.BUYER_CONTRACT_ID, f"{buyer_key}:{contract_id}"
        )
        ids["procedure_match"] = ProcedureMatch.BUYER_CONTRACT_ID
    return ids


def _award(contract: Contract, contract_id: str) -> Award:
    record = contract.record
    if contract.kind is Kind.CONCESSION:
        signed, value = record.date_signature, record.valeur_globale
        parties = winners(record.concessionnaires, "concessionnaire")
    else:
        signed, value = record.date_notification, record.montant
        parties = winners(record.titulaires, "titulaire")
    offers = integer(record.offres_recues)
    return Award(
        date=_when(signed),
        winners=parties,
        value=_value(value),
        offers_received=offers if offers is not None and offers >= 0 else None,
        contract_id=contract_id,
    )


def _modifications(value: object, kind: Kind) -> list[Modification]:
    found: list[Modification] = []
    for item in entries(value, "modification"):
        changed = Modification(
            date=_when(
                item.get("dateNotificationModification") or item.get("dateSignatureModification")
            ),
            description=clean_text(item.get("objetModification")),
            value=_value(item.get("valeurGlobale" if kind is Kind.CONCESSION else "montant")),
            duration=_duration(item.get("dureeMois"), None),
            winners=winners(item.get("titulaires"), "titulaire"),
        )
        if changed != Modification():
            found.append(changed)
    return found


def _when(value: object) -> datetime | None:
    """`parse_datetime`, with impossible dates (`2018-13-45`, year 1 shifted to UTC) as None."""
    try:
        return parse_datetime(text(value))
    except (ValueError, OverflowError):
        return None


def _day(value: object) -> date | None:
    try:
        return parse_date(text(value))
    except ValueError:
        return None


_ZERO = Decimal(0)


def _value(value: object) -> Amount | None:
    """The amount in euros; 0 is left out: buyers write it for a framework agreement
    without a maximum, and it is not the contract's value."""
    amount = parse_amount(value)
    return amount if amount is not None and amount.amount > _ZERO else None


def _duration(months: object, start: object) -> Duration | None:
    count = integer(months)
    start_date = _day(start)
    if (count is None or count < 0) and start_date is None:
        return None
    return Duration(
        value=count if count is not None and count >= 0 else None,
        unit=DurationUnit.MONTH if count is not None and count >= 0 else None,
        start_date=start_date,
    )


def _related(
    raw: RawNotice, buyer_key: str | None, framework_id: str | None
) -> list[RelatedNotice]:
    """A 2024 marché subséquent names its framework agreement (`idAccordCadre`), which is
    published under the same buyer, hence the same `source_id` rule."""
    if not (buyer_key and framework_id):
        return []
    return [
        RelatedNotice(
            relation=RelationKind.FOLLOWS,
            notice_id=notice_id(raw.source, f"{buyer_key}{framework_id}"),
        )
    ]
