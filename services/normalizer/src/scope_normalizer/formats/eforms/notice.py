"""eForms UBL 2.3 notice -> canonical Notice.

Source: TED (`europe_ted`, every notice since November 2022) and BOAMP's copies of the notices
it forwards to TED; one RawNotice holds one notice file, split by
`scope_shared.documents.eforms`.
Format: eForms UBL 2.3 (`ContractNotice`, `PriorInformationNotice`, `ContractAwardNotice`),
SDK 1.3 to 1.15; field paths after the SDK's `fields.json`.
Caveats:
    - The notice type is the form type (`cbc:NoticeTypeCode/@listName`, else derived from the
      notice type or subtype, else from the root); a notice carrying `efac:Changes` is a
      change notice whatever its form: a cancellation when a change reason is `cancel` or
      `cancel-intent`, else a corrigendum.
    - Lot `LOT-0000` (`PAR-0000` in a PIN) is how eForms writes "not divided into lots": its
      content is the procedure's, so it makes no canonical Lot.
    - What eForms gives only per lot (deadline, URLs, criteria, framework) is raised to the
      notice: the earliest deadline, the first URL, the criteria (prefixed by lot when lots
      differ); procedure-level values missing from the notice are filled from the lots.
    - Multilingual texts: the French version when there is one, else the notice's language.
    - A business registration notice (BRIN) is not a procurement notice: PermanentError.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from scope_normalizer.formats.base import identity, procedure_key, require
from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.changes import (
    Change,
    previous_notices,
    read_change,
    read_modifications,
)
from scope_normalizer.formats.eforms.codes import (
    FORM_TYPES,
    NOTICE_TYPE_FORMS,
    PROCEDURE_LABELS,
    PROCEDURE_TYPES,
    SUBTYPE_FORMS,
)
from scope_normalizer.formats.eforms.lots import (
    UNDIVIDED_LOTS,
    LotTerms,
    Project,
    read_lot,
    read_project,
)
from scope_normalizer.formats.eforms.parties import Parties
from scope_normalizer.formats.eforms.read import (
    Languages,
    child_text,
    children_named,
    element_text,
    iso_language,
    unique,
)
from scope_normalizer.formats.eforms.results import Results
from scope_normalizer.formats.eforms.xpaths import (
    BUYER_PROFILE,
    CHANGES,
    CONTRACT_FOLDER,
    CONTRACT_MODIFICATION,
    CONTRACTING_PARTY,
    ID,
    LOT,
    NOTICE_LANGUAGE,
    NOTICE_RESULT,
    NOTICE_SUBTYPE,
    NOTICE_TYPE,
    ORGANIZATIONS,
    PARTY,
    PARTY_IDENTIFICATION,
    PROCEDURE_CODE,
    PROCUREMENT_PROJECT,
    SUBTYPE_CODE,
    TENDERING_PROCESS,
    Element,
)
from scope_normalizer.values.amounts import sum_amounts
from scope_normalizer.values.places import build_place
from scope_shared.dates import parse_datetime
from scope_shared.documents.eforms import eforms_extension, parse_notice, publication
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Amount,
    Duration,
    Notice,
    NoticeStatus,
    NoticeType,
    Organization,
    Place,
    ProcedureMatch,
    RawNotice,
    RelatedNotice,
    RelationKind,
)

TED_PAGE = "https://ted.europa.eu/fr/notice/-/detail/{}"
"""A published notice's page on TED, in French (`links.html.FRA` of the TED API)."""

_ROOT_FORMS = {
    "ContractNotice": "competition",
    "PriorInformationNotice": "planning",
    "ContractAwardNotice": "result",
    "BusinessRegistrationInformationNotice": "bri",
}


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    """Map one eForms notice; PermanentError when it is not one or has no title or date."""
    root = parse_notice(payload)
    top, extension_element = Children(root), eforms_extension(root)
    extension = Children(extension_element)
    published = publication(root, extension_element)
    notice_language = (top.text(NOTICE_LANGUAGE) or "").upper() or None
    languages = Languages(notice=notice_language)
    parties = Parties(extension.first(ORGANIZATIONS), languages)
    results = Results(extension.first(NOTICE_RESULT), parties, languages)
    lots = [terms for lot in top.all(LOT) if (terms := read_lot(lot, languages))]
    project = notice_project(read_project(top.first(PROCUREMENT_PROJECT), languages), lots)
    change = read_change(extension.all(CHANGES))
    notice_type, status, source_type = classify(root, top, extension, results, change)
    modifications, modified = read_modifications(
        extension.all(CONTRACT_MODIFICATION), results, languages
    )
    process = Children(top.first(TENDERING_PROCESS))
    procedure_code = process.text(PROCEDURE_CODE) or ""
    return Notice(
        **_identity(raw, top, published.number),
        source_notice_type=source_type,
        notice_type=notice_type,
        status=status,
        title=require(project.title, "/cac:ProcurementProject/cbc:Name", "the title (BT-21)"),
        description=project.description,
        language=iso_language(project.title_language or notice_language),
        buyer=_buyer(top, parties),
        contract_nature=project.nature,
        procedure_type=PROCEDURE_TYPES.get(procedure_code),
        procedure_label=PROCEDURE_LABELS.get(procedure_code),
        cpv_main=project.cpv_main,
        cpv_additional=project.cpv_additional,
        place=project.place,
        estimated_value=project.estimated_value,
        duration=project.duration,
        considerations=project.considerations,
        published_at=_published_at(raw, published.day),
        awards=results.awards(UNDIVIDED_LOTS),
        modifications=modifications,
        related=[
            *(change.related if change else []),
            *modified,
            *_previous(process, lots, notice_type),
        ],
        **lot_fields(lots),
    )


def classify(
    root: Element, top: Children, extension: Children, results: Results, change: Change | None
) -> tuple[NoticeType, NoticeStatus, str | None]:
    """Notice type, status and the source's own type code (BT-02)."""
    code_element = top.first(NOTICE_TYPE)
    code = element_text(code_element)
    list_name = code_element.get("listName") if code_element is not None else None
    subtype = child_text(extension.first(NOTICE_SUBTYPE), SUBTYPE_CODE)
    form = (
        (list_name if list_name in FORM_TYPES or list_name == "bri" else None)
        or NOTICE_TYPE_FORMS.get(code or "")
        or SUBTYPE_FORMS.get(subtype or "")
        or _ROOT_FORMS.get(etree.QName(root).localname, "bri")
    )
    if form not in FORM_TYPES:
        raise PermanentError(
            "a business registration notice is not a procurement notice",
            field_path="/cbc:NoticeTypeCode",
        )
    notice_type, status = FORM_TYPES[form]
    if change is not None:
        notice_type = change.notice_type
        if notice_type is NoticeType.CANCELLATION:
            status = NoticeStatus.CANCELLED
    outcomes = results.outcomes()
    if notice_type is NoticeType.AWARD and outcomes and all(o == "clos-nw" for o in outcomes):
        status = NoticeStatus.UNSUCCESSFUL
    return notice_type, status, code


def notice_project(procedure: Project, lots: list[LotTerms]) -> Project:
    """The procedure's own fields, completed from the undivided lot, then from all lots."""
    undivided = [terms.project for terms in lots if terms.undivided]
    projects = [terms.project for terms in lots]
    own = [procedure, *undivided]
    titled = next((p for p in [*own, *projects] if p.title), procedure)
    cpv_main, cpv_additional = _cpvs(own, projects)
    return Project(
        title=titled.title,
        title_language=titled.title_language,
        description=next((p.description for p in own if p.description), None)
        or (projects[0].description if len(projects) == 1 else None),
        nature=next((p.nature for p in [*own, *projects] if p.nature), None),
        cpv_main=cpv_main,
        cpv_additional=cpv_additional,
        estimated_value=next((p.estimated_value for p in own if p.estimated_value), None)
        or _sum_values(projects),
        place=next((p.place for p in own if p.place), None) or _merge_places(projects),
        duration=next((p.duration for p in own if p.duration), None) or _same_duration(projects),
        considerations=unique([c for p in [procedure, *projects] for c in p.considerations]),
    )


def _cpvs(own: list[Project], projects: list[Project]) -> tuple[str | None, list[str]]:
    """BT-262/263 of the procedure (with its undivided lot), else of all the lots."""
    sources = own if any(p.cpv_main for p in own) else projects
    main = next((p.cpv_main for p in sources if p.cpv_main), None)
    codes = [c for p in sources for c in (p.cpv_main, *p.cpv_additional) if c]
    return main, [c for c in unique(codes) if c != main]


def lot_fields(lots: list[LotTerms]) -> dict[str, Any]:
    """The notice fields eForms gives per lot: the canonical lots and what is raised from them."""
    deadlines = [t.lot.submission_deadline for t in lots if t.lot.submission_deadline]
    frameworks = [t.framework for t in lots if t.framework is not None]
    conditions = unique([c for t in lots for c in t.conditions])
    return {
        "lots": [t.lot for t in lots if not t.undivided],
        "submission_deadline": min(deadlines) if deadlines else None,
        "documents_url": next((t.documents_url for t in lots if t.documents_url), None),
        "tender_url": next((t.tender_url for t in lots if t.tender_url), None),
        "award_criteria": _award_criteria(lots),
        "conditions": "\n\n".join(conditions) or None,
        "framework_agreement": any(frameworks) if frameworks else None,
    }


def _identity(raw: RawNotice, top: Children, number: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = dict(identity(raw))
    folder = top.text(CONTRACT_FOLDER)
    if folder:
        fields["procedure_id"] = procedure_key(ProcedureMatch.CONTRACT_FOLDER, folder)
        fields["procedure_match"] = ProcedureMatch.CONTRACT_FOLDER
    fields["source_url"] = TED_PAGE.format(number) if number else None
    return fields


def _buyer(top: Children, parties: Parties) -> Organization | None:
    """The first organisation of the first `cac:ContractingParty` (OPT-300), with BT-508."""
    contracting = top.all(CONTRACTING_PARTY)
    refs = [
        ref
        for party in contracting
        for holder in children_named(party, PARTY)
        for identification in children_named(holder, PARTY_IDENTIFICATION)
        if (ref := child_text(identification, ID))
    ]
    profile = next((u for p in contracting if (u := child_text(p, BUYER_PROFILE))), None)
    return parties.buyer(refs, profile)


def _previous(
    process: Children, lots: list[LotTerms], notice_type: NoticeType
) -> list[RelatedNotice]:
    """BT-125 of the procedure and its lots: the call a result awards, else earlier notices."""
    processes = [process, *(terms.process for terms in lots)]
    relation = RelationKind.AWARDS if notice_type is NoticeType.AWARD else RelationKind.FOLLOWS
    return previous_notices(processes, relation)


def _published_at(raw: RawNotice, day: str | None) -> datetime:
    published: datetime = require(
        parse_datetime(day) or raw.published_at,
        "/ext:UBLExtensions//efac:Publication/efbc:PublicationDate",
        "the publication or dispatch date (BT-05)",
    )
    return published


def _award_criteria(lots: list[LotTerms]) -> list[str]:
    """The criteria once when every lot has the same, else each lot's, prefixed by its id."""
    with_criteria = [t for t in lots if t.award_criteria]
    if not with_criteria:
        return []
    if all(t.award_criteria == with_criteria[0].award_criteria for t in with_criteria):
        return with_criteria[0].award_criteria
    return [f"{t.lot.id}: {c}" for t in with_criteria for c in t.award_criteria]


def _sum_values(projects: list[Project]) -> Amount | None:
    """The lots' estimated values added up, when every lot has one in the same currency."""
    values = [p.estimated_value for p in projects if p.estimated_value is not None]
    return sum_amounts(values) if len(values) == len(projects) else None


def _merge_places(projects: list[Project]) -> Place | None:
    places = [p.place for p in projects if p.place]
    if not places:
        return None
    return build_place(
        nuts=[n for place in places for n in place.nuts],
        departments=[d for place in places for d in place.departments],
        country=next((place.country for place in places if place.country), None),
        text="\n".join(unique([place.text for place in places if place.text])) or None,
    )


def _same_duration(projects: list[Project]) -> Duration | None:
    durations = [p.duration for p in projects]
    if durations and durations[0] is not None and all(d == durations[0] for d in durations):
        return durations[0]
    return None
