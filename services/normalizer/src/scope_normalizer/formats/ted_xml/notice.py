"""Assembling the Notice of one R2.0.9 document from the section readers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from lxml import etree

from scope_normalizer.formats.base import cited_links, identity
from scope_normalizer.formats.children import Children
from scope_normalizer.formats.ted_xml import awards, kinds, lots, parties
from scope_normalizer.formats.ted_xml.clock import compact_deadline, deadline
from scope_normalizer.formats.ted_xml.tree import (
    CODIF_DATA,
    CONTRACTING_BODY,
    DATE_PUB,
    ISO_COUNTRY,
    LG_ORIG,
    ML_TITLES,
    NOTICE_DATA,
    OBJECT_CONTRACT,
    PROCEDURE,
    TI_TEXT,
    Sections,
    amount_of,
    block,
    block_at,
    code,
    code_of,
    cpv_codes,
    find,
    find_all,
    leaf,
    local_name,
    nuts_codes,
    original_form,
    path,
    text_of,
)
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_datetime
from scope_shared.documents.ted import notice_page, parse_ted_export
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Amount,
    Lot,
    Notice,
    NoticeStatus,
    NoticeType,
    RawNotice,
)

_TITLE_PATH = "/TED_EXPORT/FORM_SECTION/*[@CATEGORY='ORIGINAL']/OBJECT_CONTRACT/TITLE"
_RESERVED = frozenset(
    {
        "RESTRICTED_SHELTERED_WORKSHOP",
        "RESTRICTED_SHELTERED_PROGRAM",
        "RESERVED_ORGANISATIONS_SERVICE_MISSION",
    }
)
"""III.1.5 reserved contracts (sheltered workshops, social-mission bodies): a social aim."""
_SOCIAL = "sociaux"
_NOTICE_VALUES = path("VALUES", "VALUE")
_VALUE_TYPES = ("ESTIMATED_TOTAL",)


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    """The canonical Notice of one TED_EXPORT document (see the package docstring)."""
    sections = _sections(payload)
    kind = kinds.notice_type(sections.codif, sections.form)
    submission_deadline = _deadline(sections)
    # Later keys win: a cited notice's procedure replaces the notice's own.
    envelope: dict[str, Any] = {**identity(raw), **_links(raw, kind, sections)}
    return Notice(
        **envelope,
        **_classification(kind, sections, submission_deadline),
        **_object(sections),
        **_texts(sections),
        source_url=notice_page(raw.source_id),
        language=_language(sections),
        buyer=parties.buyer(sections.buyer_address, sections.country),
        published_at=_published_at(sections.root),
        submission_deadline=submission_deadline,
        tender_url=text_of(sections.body.first(path("URL_PARTICIPATION")))
        or leaf(sections.notice_data, path("IA_URL_ETENDERING")),
        documents_url=text_of(sections.body.first(path("URL_DOCUMENT"))),
        awards=awards.awards(sections.form),
    )


def _classification(
    kind: NoticeType, sections: Sections, submission_deadline: datetime | None
) -> dict[str, Any]:
    """Notice type and status, procedure, contract nature, framework agreement."""
    procedure_type, procedure_label = kinds.procedure(sections.procedure.node, sections.codif)
    return {
        "notice_type": kind,
        "source_notice_type": code_of(sections.codif.first(kinds.TD_DOCUMENT_TYPE)),
        "status": _status(kind, sections.form, submission_deadline),
        "procedure_type": procedure_type,
        "procedure_label": procedure_label,
        "contract_nature": kinds.contract_nature(sections.object_contract, sections.codif),
        "framework_agreement": kinds.framework(sections.procedure),
    }


def _object(sections: Sections) -> dict[str, Any]:
    """Section II: CPV codes, lots, place, duration, value and award criteria."""
    part = lots.read_object(
        sections.object_contract,
        nuts_codes(sections.notice_data, "PERFORMANCE_NUTS"),
        sections.country,
    )
    cpv_main, cpv_additional = _cpv(sections, part.cpv_additional)
    return {
        "cpv_main": cpv_main,
        "cpv_additional": cpv_additional,
        "lots": _with_award_estimates(part.lots, awards.lot_estimates(sections.form)),
        "place": part.place,
        "duration": part.duration,
        "estimated_value": _estimated_value(sections, part.value),
        "award_criteria": part.award_criteria,
    }


def _with_award_estimates(found: list[Lot], estimates: dict[str, Amount]) -> list[Lot]:
    """A lot without an estimate in section II takes the one its awarded contracts state."""
    return [
        msgspec.structs.replace(lot, estimated_value=estimates[lot.id])
        if lot.estimated_value is None and lot.id in estimates
        else lot
        for lot in found
    ]


def _sections(payload: bytes) -> Sections:
    root = parse_ted_export(payload)
    notice_data = find(root, NOTICE_DATA)
    language = leaf(notice_data, LG_ORIG)
    form = original_form(root, language)
    if form is None:
        raise PermanentError("the document has no form", field_path="/TED_EXPORT/FORM_SECTION")
    body = Children(find(form, CONTRACTING_BODY))
    buyer_address = Children(body.first(parties.BUYER_ADDRESS))
    body_country = code_of(buyer_address.first(path("COUNTRY")), "VALUE")
    return Sections(
        root=root,
        notice_data=notice_data,
        codif=Children(find(root, CODIF_DATA)),
        language=language,
        form=form,
        body=body,
        buyer_address=buyer_address,
        object_contract=Children(find(form, OBJECT_CONTRACT)),
        procedure=Children(find(form, PROCEDURE)),
        country=body_country or code(notice_data, ISO_COUNTRY, "VALUE"),
    )


def _texts(sections: Sections) -> dict[str, Any]:
    """Title, description, participation conditions and social considerations."""
    object_contract = sections.object_contract
    title = block(object_contract.first(path("TITLE"))) or _translated_title(sections)
    if title is None:
        raise PermanentError("the notice has no title", field_path=_TITLE_PATH)
    description = block(object_contract.first(path("SHORT_DESCR")))
    if description is None and object_contract.node is not None:
        description = block_at(object_contract.node, f"{lots.OBJECT_DESCR}/{path('SHORT_DESCR')}")
    lefti = find(sections.form, path("LEFTI"))
    conditions = [text for child in lefti if (text := block(child))] if lefti is not None else []
    reserved = lefti is not None and any(local_name(c) in _RESERVED for c in lefti)
    return {
        "title": title,
        "description": description,
        "conditions": "\n\n".join(conditions) or None,
        "considerations": [_SOCIAL] if reserved else [],
    }


def _translated_title(sections: Sections) -> str | None:
    """TED's short title in the original language (`Services de préparation de repas`)."""
    language = sections.language
    for title in find_all(sections.root, ML_TITLES):
        if title.get("LG") == language:
            return block_at(title, TI_TEXT)
    return None


def _language(sections: Sections) -> str | None:
    value = (sections.language or sections.form.get("LG") or "").strip()
    return value.lower() if len(value) == 2 and value.isalpha() and value.isascii() else None


def _published_at(root: etree._Element) -> datetime:
    published = parse_datetime(leaf(root, DATE_PUB))
    if published is None:
        raise PermanentError(
            "the notice has no publication date",
            field_path="/TED_EXPORT/CODED_DATA_SECTION/REF_OJS/DATE_PUB",
        )
    return published


def _links(raw: RawNotice, kind: NoticeType, sections: Sections) -> dict[str, Any]:
    """Related notices, and the procedure of the first one cited (REF_NOTICE first)."""
    numbers = kinds.cited_numbers(sections.notice_data, sections.form, sections.procedure)
    return cited_links(raw, numbers, kinds.relation_for(kind))


def _status(kind: NoticeType, form: etree._Element, deadline_at: object) -> NoticeStatus:
    if kind is NoticeType.PLANNING:
        return NoticeStatus.PLANNED
    if kind is NoticeType.CONTRACT_NOTICE:
        return NoticeStatus.ACTIVE
    if kind is NoticeType.AWARD:
        return awards.outcome(form)
    if kind is NoticeType.MODIFICATION:
        return NoticeStatus.COMPLETE
    # A corrigendum carrying a deadline corrects a call that is still open.
    return NoticeStatus.ACTIVE if deadline_at is not None else NoticeStatus.UNKNOWN


def _deadline(sections: Sections) -> datetime | None:
    """IV.2.2 (date and local time) of the form, else CODIF_DATA's copy (also on F14)."""
    procedure = sections.procedure
    found = deadline(
        text_of(procedure.first(path("DATE_RECEIPT_TENDERS"))),
        text_of(procedure.first(path("TIME_RECEIPT_TENDERS"))),
        sections.country,
    )
    return found or compact_deadline(
        text_of(sections.codif.first(path("DT_DATE_FOR_SUBMISSION"))), sections.country
    )


def _cpv(sections: Sections, lot_codes: list[str]) -> tuple[str | None, list[str]]:
    """II.1.2 main CPV, and every other code of the notice (TED's ORIGINAL_CPV, lots)."""
    main = cpv_codes(sections.object_contract.node, path("CPV_MAIN", "CPV_CODE"))
    coded = cpv_codes(sections.notice_data, path("ORIGINAL_CPV"))
    cpv_main = main[0] if main else (coded[0] if coded else None)
    others: list[str] = []
    for cpv in (*coded, *lot_codes):
        if cpv != cpv_main and cpv not in others:
            others.append(cpv)
    return cpv_main, others


def _estimated_value(sections: Sections, single_value: Amount | None) -> Amount | None:
    """II.1.5 estimated total, else the single description's estimate (II.2.6), else the sum
    of the awarded contracts' initial estimates (V.2.4), else TED's coded estimate.

    Not II.1.7, the total value of an award notice (TED's coded `PROCUREMENT_TOTAL`): that is
    what was awarded, carried by the awards, not an estimate (the schema's `estimated_value`
    is eForms BT-27, OCDS `tender.value`).
    """
    object_contract = sections.object_contract
    found = (
        amount_of(object_contract.first(path("VAL_ESTIMATED_TOTAL")))
        or single_value
        or awards.estimated_total(sections.form)
    )
    if found is None and sections.notice_data is not None:
        for value in find_all(sections.notice_data, _NOTICE_VALUES):
            if value.get("TYPE") in _VALUE_TYPES and value.text:
                found = parse_amount(clean_text(value.text), value.get("CURRENCY") or "EUR")
                if found:
                    break
    return found
