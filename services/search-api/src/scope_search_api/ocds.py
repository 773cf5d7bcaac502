"""A `Notice` as an OCDS 1.1 release (GET /v1/notices/{id}/ocds).

Mapping (OCDS 1.1 core, plus the Lots, Location and Techniques extensions' fields where core
has no place, as the OCDS eForms profile does):

| Notice | OCDS release |
|---|---|
| procedure_id | `ocid`: the source's ocid for OCDS procedures, else `<prefix>-<procedure_id>` |
| id, version | `id` (`<id>-<version>`); `tender.id` is the notice id |
| published_at / language | `date` / `language` |
| notice_type | `tag` (see `TAGS`) |
| buyer | `parties[]` role `buyer` (identifier, address, contact point) and `buyer` |
| awards[].winners | `parties[]` role `supplier`, `awards[].suppliers` |
| title, description, status | `tender.title`, `.description`, `.status` (unknown: omitted) |
| estimated_value | `tender.value` |
| procedure_type | `tender.procurementMethod` (open, selective, limited; see `METHODS`) |
| procedure_label | `tender.procurementMethodDetails` (else the procedure type) |
| contract_nature | `tender.mainProcurementCategory` (supplies -> goods) |
| cpv_main, cpv_additional | `tender.items[0].classification`, `.additionalClassifications` |
| place | `tender.items[0].deliveryAddresses` (NUTS as `region`), `.deliveryLocation.description` |
| lots | `tender.lots[]` and one item per lot with `relatedLot` (Lots extension) |
| submission_deadline | `tender.tenderPeriod.endDate` |
| duration | `tender.contractPeriod` (months x 30, years x 365 for `durationInDays`) |
| award_criteria, conditions | `tender.awardCriteriaDetails`, `tender.eligibilityCriteria` |
| framework_agreement | `tender.techniques.hasFrameworkAgreement` (Techniques extension) |
| tender_url | `tender.submissionMethod` `electronicSubmission` + `.submissionMethodDetails` |
| documents_url, source_url | `tender.documents[]` (biddingDocuments; the notice itself) |
| awards | `awards[]` (date, value, suppliers, `relatedLots`, title) |
| awards of signed contracts | `contracts[]` (`awardID`, value, `dateSigned`) |
| modifications | `contracts[].amendments[]` (date, description) |

Not mapped (no OCDS place): `considerations`, `offers_received`, `related`, the modification's
new value and winners, and Scope's bookkeeping (`procedure_match`, `raw_sha256`, `updated_at`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from scope_shared.reference import cpv_entry
from scope_shared.schema import (
    Amount,
    Award,
    ContractNature,
    Duration,
    DurationUnit,
    Lot,
    Notice,
    NoticeStatus,
    NoticeType,
    Organization,
    Place,
    ProcedureType,
    Winner,
)

TAGS: dict[NoticeType, list[str]] = {
    NoticeType.PLANNING: ["planning"],
    NoticeType.CONTRACT_NOTICE: ["tender"],
    NoticeType.CORRIGENDUM: ["tenderUpdate"],
    NoticeType.CANCELLATION: ["tenderCancellation"],
    NoticeType.AWARD: ["award"],
    NoticeType.MODIFICATION: ["contractAmendment"],
    NoticeType.CONTRACT_DATA: ["award", "contract"],
}
METHODS: dict[ProcedureType, str] = {
    ProcedureType.OPEN: "open",
    ProcedureType.RESTRICTED: "selective",
    ProcedureType.NEGOTIATED_WITH_CALL: "selective",
    ProcedureType.COMPETITIVE_DIALOGUE: "selective",
    ProcedureType.INNOVATION_PARTNERSHIP: "selective",
    ProcedureType.NEGOTIATED_WITHOUT_CALL: "limited",
}
"""After the OCDS eForms profile (BT-105); MAPA, concessions and `other` have no single method."""
CATEGORIES = {
    ContractNature.WORKS: "works",
    ContractNature.SUPPLIES: "goods",
    ContractNature.SERVICES: "services",
}
NOTICE_DOCUMENT_TYPES = {
    NoticeType.PLANNING: "plannedProcurementNotice",
    NoticeType.AWARD: "awardNotice",
    NoticeType.MODIFICATION: "contractNotice",
    NoticeType.CONTRACT_DATA: "contractNotice",
}
SCHEMES = {"SIRET": "FR-RCS", "SIREN": "FR-RCS"}
"""French registry numbers as the government's own DECP-to-OCDS conversion writes them."""
DAYS = {DurationUnit.DAY: 1, DurationUnit.MONTH: 30, DurationUnit.YEAR: 365}
COUNTRIES = {"FR": "France"}
OCID_PREFIX = "ocid:"
"""How the normalizer names a procedure found by its OCDS ocid."""

_encoder = msgspec.json.Encoder(decimal_format="number")


def ocid(notice: Notice, prefix: str) -> str:
    """The publisher's ocid for an OCDS procedure (as it writes it: the procedure key is
    lower-cased, the notice's `<ocid>/<release id>` is not), else one under `prefix`."""
    if notice.procedure_id.startswith(OCID_PREFIX):
        key = notice.procedure_id[len(OCID_PREFIX) :]
        published = notice.source_id[: len(key)]
        if published.lower() == key and notice.source_id[len(key) : len(key) + 1] == "/":
            return published
        return key
    return f"{prefix}-{notice.procedure_id}"


def _clean(value: Any) -> Any:
    """Drop None, empty strings, lists and objects: OCDS omits what is unknown."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in (None, "", [], {})]
    return value


def _uri(text: str | None) -> str | None:
    """OCDS URLs are absolute (`format: uri`); sources often give `www.example.org`."""
    if not text or " " in text.strip():
        return None
    text = text.strip()
    if urlsplit(text).scheme:
        return text
    return f"http://{text}" if "." in text else None


def _value(amount: Amount | None) -> dict[str, Any] | None:
    return {"amount": amount.amount, "currency": amount.currency} if amount else None


def _instant(day: date | None) -> datetime | None:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None


def _period(duration: Duration | None) -> dict[str, Any] | None:
    if duration is None:
        return None
    days = duration.value * DAYS[duration.unit] if duration.value and duration.unit else None
    return {
        "startDate": _instant(duration.start_date),
        "endDate": _instant(duration.end_date),
        "durationInDays": days,
    }


def _party_id(name: str | None, identifier: Any) -> str:
    if identifier is not None:
        return f"{SCHEMES.get(identifier.scheme, identifier.scheme)}-{identifier.id}"
    digest = hashlib.blake2b((name or "").casefold().encode(), digest_size=6).hexdigest()
    return f"name-{digest}"


def _identifier(name: str | None, identifier: Any) -> dict[str, Any] | None:
    if identifier is None:
        return None
    scheme = SCHEMES.get(identifier.scheme, identifier.scheme)
    return {"scheme": scheme, "id": identifier.id, "legalName": name}


def _buyer_party(buyer: Organization) -> dict[str, Any]:
    return {
        "id": _party_id(buyer.name, buyer.identifier),
        "name": buyer.name,
        "identifier": _identifier(buyer.name, buyer.identifier),
        "address": {
            "streetAddress": buyer.address,
            "locality": buyer.city,
            "postalCode": buyer.postal_code,
            "region": buyer.nuts,
            "countryName": COUNTRIES.get(buyer.country or "", buyer.country),
        },
        "contactPoint": {
            "name": buyer.contact_name,
            "email": buyer.email,
            "telephone": buyer.phone,
            "url": _uri(buyer.url),
        },
        "roles": ["buyer"],
    }


def _supplier_party(winner: Winner) -> dict[str, Any]:
    return {
        "id": _party_id(winner.name, winner.identifier),
        "name": winner.name,
        "identifier": _identifier(winner.name, winner.identifier),
        "address": {"countryName": COUNTRIES.get(winner.country or "", winner.country)},
        "roles": ["supplier"],
    }


def _parties(notice: Notice) -> list[dict[str, Any]]:
    """One party per organisation id, roles merged (a buyer may also be a supplier)."""
    parties: dict[str, dict[str, Any]] = {}
    candidates = [_buyer_party(notice.buyer)] if notice.buyer else []
    candidates += [_supplier_party(w) for a in notice.awards for w in a.winners]
    for party in candidates:
        known = parties.get(party["id"])
        if known is None:
            parties[party["id"]] = party
        elif party["roles"][0] not in known["roles"]:
            known["roles"].append(party["roles"][0])
    return list(parties.values())


def _classification(code: str) -> dict[str, Any]:
    entry = cpv_entry(code)
    return {
        "scheme": "CPV",
        "id": entry.code_with_check_digit if entry else code,
        "description": entry.label_fr if entry else None,
    }


def _delivery(place: Place | None) -> dict[str, Any]:
    if place is None:
        return {}
    country = COUNTRIES.get(place.country or "", place.country)
    return {
        "deliveryAddresses": [{"region": nuts, "countryName": country} for nuts in place.nuts],
        "deliveryLocation": {"description": place.text} if place.text else None,
    }


def _items(notice: Notice) -> list[dict[str, Any]]:
    items = []
    if notice.cpv_main:
        items.append({
            "id": "1",
            "description": notice.title,
            "classification": _classification(notice.cpv_main),
            "additionalClassifications": [_classification(c) for c in notice.cpv_additional],
            **_delivery(notice.place),
        })  # fmt: skip
    for lot in notice.lots:
        if lot.cpv_main:
            items.append({
                "id": f"lot-{lot.id}",
                "description": lot.title,
                "classification": _classification(lot.cpv_main),
                "additionalClassifications": [_classification(c) for c in lot.cpv_additional],
                "relatedLot": lot.id,
                **_delivery(lot.place),
            })  # fmt: skip
    return items


def _lot(lot: Lot) -> dict[str, Any]:
    return {
        "id": lot.id,
        "title": lot.title,
        "description": lot.description,
        "value": _value(lot.estimated_value),
        "contractPeriod": _period(lot.duration),
    }


def _documents(notice: Notice) -> list[dict[str, Any]]:
    documents = []
    if notice.source_url:
        documents.append({
            "id": "notice",
            "documentType": NOTICE_DOCUMENT_TYPES.get(notice.notice_type, "tenderNotice"),
            "title": notice.title,
            "url": _uri(notice.source_url),
            "datePublished": notice.published_at,
        })  # fmt: skip
    if notice.documents_url:
        documents.append(
            {"id": "procurement-documents", "documentType": "biddingDocuments",
             "url": _uri(notice.documents_url)}
        )  # fmt: skip
    return documents


def _tender(notice: Notice) -> dict[str, Any]:
    status = None if notice.status is NoticeStatus.UNKNOWN else notice.status.value
    deadline = notice.submission_deadline
    return {
        "id": notice.id,
        "title": notice.title,
        "description": notice.description,
        "status": status,
        "value": _value(notice.estimated_value),
        "procurementMethod": METHODS.get(notice.procedure_type) if notice.procedure_type else None,
        "procurementMethodDetails": notice.procedure_label
        or (notice.procedure_type.value if notice.procedure_type else None),
        "mainProcurementCategory": CATEGORIES.get(notice.contract_nature)
        if notice.contract_nature
        else None,
        "items": _items(notice),
        "lots": [_lot(lot) for lot in notice.lots],
        "tenderPeriod": {"endDate": deadline} if deadline else None,
        "contractPeriod": _period(notice.duration),
        "awardCriteriaDetails": "\n".join(notice.award_criteria) or None,
        "eligibilityCriteria": notice.conditions,
        "submissionMethod": ["electronicSubmission"] if notice.tender_url else None,
        "submissionMethodDetails": notice.tender_url,
        "techniques": {"hasFrameworkAgreement": notice.framework_agreement}
        if notice.framework_agreement is not None
        else None,
        "documents": _documents(notice),
    }


def _award_id(index: int, award: Award) -> str:
    return f"award-{index + 1}" + (f"-lot-{award.lot_id}" if award.lot_id else "")


def _award(index: int, award: Award) -> dict[str, Any]:
    return {
        "id": _award_id(index, award),
        "title": award.title,
        "status": "active",
        "date": award.date,
        "value": _value(award.value),
        "suppliers": [
            {"id": _party_id(w.name, w.identifier), "name": w.name} for w in award.winners
        ],
        "relatedLots": [award.lot_id] if award.lot_id else None,
    }


def _contracts(notice: Notice) -> list[dict[str, Any]]:
    signed = notice.notice_type in {NoticeType.CONTRACT_DATA, NoticeType.MODIFICATION}
    amendments = [
        {"id": str(i + 1), "date": m.date, "description": m.description}
        for i, m in enumerate(notice.modifications)
    ]
    contracts = []
    for index, award in enumerate(notice.awards):
        if not (signed or award.contract_id):
            continue
        contracts.append({
            "id": award.contract_id or f"contract-{index + 1}",
            "awardID": _award_id(index, award),
            "title": award.title,
            "status": "active",
            "value": _value(award.value),
            "dateSigned": award.date if signed else None,
            "period": _period(notice.duration),
            "amendments": amendments,
        })  # fmt: skip
    return contracts


def release(notice: Notice, prefix: str) -> dict[str, Any]:
    """The notice as one OCDS 1.1 release (a JSON-ready dict, amounts as Decimals)."""
    buyer = notice.buyer
    return _clean({  # type: ignore[no-any-return]
        "ocid": ocid(notice, prefix),
        "id": f"{notice.id}-{notice.version}",
        "date": notice.published_at,
        "tag": TAGS[notice.notice_type],
        "initiationType": "tender",
        "language": notice.language,
        "parties": _parties(notice),
        "buyer": {"id": _party_id(buyer.name, buyer.identifier), "name": buyer.name}
        if buyer
        else None,
        "tender": _tender(notice),
        "awards": [_award(i, a) for i, a in enumerate(notice.awards)],
        "contracts": _contracts(notice),
    })  # fmt: skip


def encode_release(notice: Notice, prefix: str) -> bytes:
    """JSON bytes with amounts as JSON numbers, as OCDS requires."""
    return _encoder.encode(release(notice, prefix))
