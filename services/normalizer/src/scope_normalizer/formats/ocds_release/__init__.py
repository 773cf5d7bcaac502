"""OCDS release -> Notice.

Source: OCDS 1.0/1.1 publishers; releases cut out of release and record packages by
`scope_shared.documents.ocds.split_package` (source_id `<ocid>/<release id>`, the package
metadata as a JSON string in the `package` attribute).
Format: one OCDS release (release-schema.json 1.1.5), core fields plus the lots, location,
techniques and contract_suppliers extensions where present.
Caveats:
    - `procedure_id` is `ocid:<ocid>`, lower-cased (publishers differ in ocid case).
    - The notice type comes from the release tags (see `stages`); `status` is
      `tender.status`, else what the notice type implies.
    - Values without a currency and amounts of zero are dropped (see `fields.amount`).
    - `related` names earlier processes by their procedure key (`ocid:<ocid>`), since a
      process is not one notice; amended releases are named by their notice id.
    - The DECP conversion (decp-rama) has no tender section: title, CPV and duration come
      from its award and contract.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import msgspec

from scope_normalizer.formats.base import identity, procedure_key, require
from scope_normalizer.formats.ocds_release import awards, items, parties, stages
from scope_normalizer.formats.ocds_release.fields import (
    amount,
    duration,
    first_url,
    ident,
    obj,
    objs,
    text,
)
from scope_normalizer.formats.ocds_release.items import Item
from scope_normalizer.formats.ocds_release.release import Release, decode
from scope_normalizer.formats.ocds_release.release import contracts as release_contracts
from scope_normalizer.values.text import first_text
from scope_shared.dates import parse_datetime
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Amount,
    ContractNature,
    Duration,
    Lot,
    Notice,
    NoticeType,
    Place,
    ProcedureMatch,
    ProcedureType,
    RawNotice,
)

_PACKAGE = msgspec.json.Decoder(dict[str, Any])

CATEGORIES = {
    "goods": ContractNature.SUPPLIES,
    "works": ContractNature.WORKS,
    "services": ContractNature.SERVICES,
}

_NOTICE_DOCUMENTS = {
    NoticeType.PLANNING: ("plannedProcurementNotice", "tenderNotice"),
    NoticeType.AWARD: ("awardNotice", "contractNotice", "tenderNotice"),
    NoticeType.CONTRACT_DATA: ("contractNotice", "awardNotice", "tenderNotice"),
    NoticeType.MODIFICATION: ("contractNotice", "awardNotice", "tenderNotice"),
}
"""The document that is the notice's own page, by notice type; a tender notice otherwise."""


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    release = decode(payload)
    ocid = require(ident(release.ocid), "$.ocid", "ocid")
    release_id = require(ident(release.id), "$.id", "release id")
    tender = obj(release.tender)
    # Read once here: half the fields of a notice look into the awards and the contracts.
    release_awards = objs(release.awards)
    contracts = release_contracts(release)
    release_tags = stages.tags(release.tag)
    kind = stages.notice_type(release_tags, tender, release_awards, contracts)
    language = _language(release.language)
    party_index = parties.PartyIndex(release.parties)
    title, description = _texts(tender, [*release_awards, *contracts])
    documents = _document_urls(release, tender, [*release_awards, *contracts])
    envelope = identity(raw)
    envelope["procedure_id"] = procedure_key(ProcedureMatch.OCID, ocid)
    envelope["procedure_match"] = ProcedureMatch.OCID
    return Notice(
        **envelope,
        **_call(
            tender,
            items.release_items(tender, release_awards, contracts),
            french=language in (None, "fr"),
        ),
        source_url=_notice_page(documents, kind),
        source_notice_type=",".join(release_tags) or None,
        notice_type=kind,
        status=stages.status(tender, kind),
        title=title,
        description=description,
        language=language,
        buyer=parties.buyer(release.buyer, tender, party_index, language),
        published_at=_published_at(release, raw),
        duration=_duration(tender, release_awards, contracts),
        documents_url=_document_url(documents, ("biddingDocuments",)),
        awards=awards.awards(release_awards, contracts, tender, party_index),
        modifications=awards.modifications(contracts),
        related=awards.related(
            release.related_processes,
            (tender, contracts),
            (raw.source, ocid, release_id),
            "compiled" in release_tags,
        ),
    )


class _CallFields(TypedDict):
    contract_nature: ContractNature | None
    procedure_type: ProcedureType | None
    procedure_label: str | None
    framework_agreement: bool | None
    cpv_main: str | None
    cpv_additional: list[str]
    lots: list[Lot]
    place: Place | None
    submission_deadline: datetime | None
    estimated_value: Amount | None
    award_criteria: list[str]
    conditions: str | None
    tender_url: str | None


def _call(tender: dict[str, Any], release_items: list[Item], *, french: bool) -> _CallFields:
    """What the call for competition asks: the fields read from the tender section."""
    cpv_main, cpv_additional = items.cpv_codes(release_items)
    lots = items.lots(tender, release_items, french)
    procedure_type, procedure_label = stages.procedure(tender)
    criteria = text(tender.get("awardCriteriaDetails"))
    return _CallFields(
        contract_nature=CATEGORIES.get(str(tender.get("mainProcurementCategory"))),
        procedure_type=procedure_type,
        procedure_label=procedure_label,
        framework_agreement=_framework(tender),
        cpv_main=cpv_main,
        cpv_additional=cpv_additional,
        lots=lots,
        place=items.place(objs(tender.get("items")), french),
        submission_deadline=_deadline(tender, lots),
        estimated_value=amount(tender.get("value")),
        award_criteria=[criteria] if criteria else [],
        conditions=text(tender.get("eligibilityCriteria")),
        tender_url=first_url(tender.get("submissionMethodDetails")),
    )


def _texts(tender: dict[str, Any], sections: list[dict[str, Any]]) -> tuple[str, str | None]:
    """Title and description; without a tender section, the awards' or contracts'. Without
    any title, the description stands as the title."""
    description = first_text(
        tender.get("description"), *[section.get("description") for section in sections]
    )
    title = first_text(tender.get("title"), *[section.get("title") for section in sections])
    title = require(title or description, "$.tender.title", "title")
    return title, description if description != title else None


def _published_at(release: Release, raw: RawNotice) -> datetime:
    published = parse_datetime(release.date)
    if published is None:
        package = raw.attributes.get("package")
        if package:
            try:
                published = parse_datetime(obj(_PACKAGE.decode(package)).get("publishedDate"))
            except (msgspec.DecodeError, msgspec.ValidationError):
                published = None
    if published is None:
        raise PermanentError("release date is missing", field_path="$.date")
    return published


def _language(value: object) -> str | None:
    """ISO 639-1 from the release's `language` (`fr`, `fr-FR`, `EN`)."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower()[:3].rstrip("-_")
    return code if len(code) == 2 and code.isalpha() else None


def _framework(tender: dict[str, Any]) -> bool | None:
    """techniques extension: `tender.techniques.hasFrameworkAgreement`."""
    value = obj(tender.get("techniques")).get("hasFrameworkAgreement")
    return value if isinstance(value, bool) else None


def _deadline(tender: dict[str, Any], lots: list[Lot]) -> datetime | None:
    deadline = parse_datetime(obj(tender.get("tenderPeriod")).get("endDate"))
    if deadline is None:
        per_lot = [lot.submission_deadline for lot in lots if lot.submission_deadline]
        deadline = min(per_lot) if per_lot else None
    return deadline


def _duration(
    tender: dict[str, Any], awards_: list[dict[str, Any]], contracts: list[dict[str, Any]]
) -> Duration | None:
    """The tender's contract period; else that of the only award, else of the only contract."""
    found = duration(tender.get("contractPeriod"))
    if found is None and len(awards_) == 1:
        found = duration(awards_[0].get("contractPeriod"))
    if found is None and len(contracts) == 1:
        found = duration(contracts[0].get("period"))
    return found


def _document_urls(
    release: Release, tender: dict[str, Any], sections: list[dict[str, Any]]
) -> dict[str, str]:
    """`documentType` -> the URL of its first document (tender, awards and contracts, then
    planning), for the documents that have one."""
    documents = objs(tender.get("documents"))
    for section in sections:
        documents += objs(section.get("documents"))
    documents += objs(obj(release.planning).get("documents"))
    found: dict[str, str] = {}
    for document in documents:
        kind, url = document.get("documentType"), document.get("url")
        if isinstance(kind, str) and kind not in found and isinstance(url, str) and url.strip():
            found[kind] = url.strip()
    return found


def _document_url(urls: dict[str, str], types: tuple[str, ...]) -> str | None:
    return next((urls[wanted] for wanted in types if wanted in urls), None)


def _notice_page(urls: dict[str, str], kind: NoticeType) -> str | None:
    return _document_url(urls, _NOTICE_DOCUMENTS.get(kind, ("tenderNotice",)))
