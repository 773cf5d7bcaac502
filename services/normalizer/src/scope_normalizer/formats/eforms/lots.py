"""The procurement project (procedure level) and its lots (`cac:ProcurementProjectLot`).

eForms describes the procedure and each lot with the same `cac:ProcurementProject` block
(title BT-21, description BT-24, nature BT-23, CPV BT-262/263, value BT-27, place BT-5071..,
duration BT-36/536/537), so one reader serves both. What eForms keeps only on lots (deadline
BT-131, documents BT-15, submission URL BT-18, award criteria BT-539.., selection criteria
BT-747/750, framework BT-765) is read here too and raised to the notice by `notice.py`.
"""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.codes import (
    CONSIDERATIONS,
    CONTRACT_NATURES,
    CRITERION_TYPES,
    DURATION_UNITS,
    WEIGHT_FORMATS,
)
from scope_normalizer.formats.eforms.places import read_place
from scope_normalizer.formats.eforms.read import (
    Languages,
    amount,
    child_text,
    children_named,
    element,
    elements,
    first_child,
    string,
    unique,
)
from scope_normalizer.formats.eforms.xpaths import (
    ADDITIONAL_CLASSIFICATION,
    ADDITIONAL_TYPE,
    AWARD_CRITERIA,
    CLASSIFICATION_CODE,
    CONTRACTING_SYSTEM,
    CONTRACTING_SYSTEM_TYPE,
    CRITERION_PARAMETER,
    CRITERION_TYPE,
    DESCRIPTION,
    DOCUMENTS_URL,
    DURATION,
    END_DATE,
    END_TIME,
    ESTIMATED_AMOUNT,
    ID,
    INTEREST_PERIOD,
    MAIN_CLASSIFICATION,
    NAME,
    NATURE,
    PARAMETER_CODE,
    PARAMETER_NUMBER,
    PARTICIPATION_PERIOD,
    PLANNED_PERIOD,
    PROCUREMENT_PROJECT,
    REALIZED_LOCATION,
    REQUESTED_TOTAL,
    SELECTION_CRITERIA,
    START_DATE,
    SUBMISSION_PERIOD,
    TENDER_URL,
    TENDERING_PROCESS,
    TENDERING_TERMS,
    Element,
)
from scope_normalizer.values.identifiers import normalize_cpv
from scope_shared.dates import combine_date_time, parse_date
from scope_shared.schema import Amount, ContractNature, Duration, Lot, Place

UNDIVIDED_LOTS = frozenset({"LOT-0000", "PAR-0000"})
"""The lot id eForms gives a procedure not divided into lots; as in the OCDS for eForms
guidance, its content describes the procedure itself and makes no canonical Lot."""

_INTEGER = re.compile(r"^\d{1,9}$")
_NUMBER = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")


class Project(msgspec.Struct, frozen=True):
    """One `cac:ProcurementProject`, of the procedure or of a lot."""

    title: str | None = None
    title_language: str | None = None
    description: str | None = None
    nature: ContractNature | None = None
    cpv_main: str | None = None
    cpv_additional: list[str] = msgspec.field(default_factory=list)
    estimated_value: Amount | None = None
    place: Place | None = None
    duration: Duration | None = None
    considerations: list[str] = msgspec.field(default_factory=list)


class LotTerms(msgspec.Struct, frozen=True):
    """One lot: its canonical Lot and the lot-only facts the notice raises to its own level."""

    lot: Lot
    project: Project
    process: Children
    """The lot's `cac:TenderingProcess`, where its BT-125 previous notices are."""
    undivided: bool
    documents_url: str | None
    tender_url: str | None
    award_criteria: list[str]
    conditions: list[str]
    framework: bool | None


def cpv(code: str | None) -> str | None:
    """`normalize_cpv`, short-cut for the 8 plain digits eForms almost always writes: a
    procedure may list dozens of codes."""
    if code is not None and len(code) == 8 and code.isascii() and code.isdigit():
        return code
    return normalize_cpv(code)


def read_project(project: Element | None, languages: Languages) -> Project:
    if project is None:
        return Project()
    parts = Children(project)
    title, title_language = languages.pick(parts.all(NAME))
    cpv_main = cpv(_classification(parts.first(MAIN_CLASSIFICATION)))
    additional = [cpv(_classification(c)) for c in parts.all(ADDITIONAL_CLASSIFICATION)]
    strategic = [
        code.text.strip()
        for block in parts.all(ADDITIONAL_TYPE)
        for code in children_named(block, NATURE)
        if code.get("listName") == "strategic-procurement" and code.text
    ]
    return Project(
        title=title,
        title_language=title_language,
        description=languages.text(parts.all(DESCRIPTION)),
        nature=CONTRACT_NATURES.get(parts.text(NATURE) or ""),
        cpv_main=cpv_main,
        cpv_additional=[c for c in unique([c for c in additional if c]) if c != cpv_main],
        estimated_value=amount(first_child(parts.first(REQUESTED_TOTAL), ESTIMATED_AMOUNT)),
        place=read_place(parts.all(REALIZED_LOCATION), languages),
        duration=read_duration(parts.first(PLANNED_PERIOD)),
        considerations=unique([CONSIDERATIONS[c] for c in strategic if c in CONSIDERATIONS]),
    )


def read_lot(lot: Element, languages: Languages) -> LotTerms | None:
    """A lot (or a PIN part); None for a group of lots, which is not a lot."""
    parts = Children(lot)
    lot_id = parts.text(ID)
    if lot_id is None or lot_id.startswith("GLO-"):
        return None
    project = read_project(parts.first(PROCUREMENT_PROJECT), languages)
    process = Children(parts.first(TENDERING_PROCESS))
    terms = parts.first(TENDERING_TERMS)
    canonical = Lot(
        id=lot_id,
        title=project.title,
        description=project.description,
        cpv_main=project.cpv_main,
        cpv_additional=project.cpv_additional,
        estimated_value=project.estimated_value,
        place=project.place,
        duration=project.duration,
        submission_deadline=read_deadline(process),
    )
    return LotTerms(
        lot=canonical,
        project=project,
        process=process,
        undivided=lot_id in UNDIVIDED_LOTS,
        documents_url=string(DOCUMENTS_URL(terms)) if terms is not None else None,
        tender_url=string(TENDER_URL(terms)) if terms is not None else None,
        award_criteria=award_criteria(terms, languages),
        conditions=selection_conditions(terms, languages),
        framework=_framework(process),
    )


def read_duration(period: Element | None) -> Duration | None:
    """BT-36 duration with its unit, BT-536 start and BT-537 end dates."""
    if period is None:
        return None
    parts = Children(period)
    value: int | None = None
    unit = None
    measure = parts.first(DURATION)
    if measure is not None:
        number = (measure.text or "").strip()
        known = DURATION_UNITS.get((measure.get("unitCode") or "").strip().upper())
        if known and _INTEGER.match(number):
            unit, value = known[0], int(number) * known[1]
    start, end = parse_date(parts.text(START_DATE)), parse_date(parts.text(END_DATE))
    if value is None and start is None and end is None:
        return None
    return Duration(value=value, unit=unit, start_date=start, end_date=end)


def read_deadline(process: Children) -> datetime | None:
    """BT-131 tenders, else BT-1311 requests to participate, else BT-630 expressions of
    interest (the only deadline of a PIN used as a call for competition)."""
    if process.node is None:
        return None
    for period in (process.first(SUBMISSION_PERIOD), process.first(PARTICIPATION_PERIOD)):
        deadline = _period_end(period)
        if deadline is not None:
            return deadline
    return _period_end(element(INTEREST_PERIOD(process.node)))


def award_criteria(terms: Element | None, languages: Languages) -> list[str]:
    """BT-539 type, BT-734 name, BT-540 description and BT-541 weight, one line each."""
    criteria: list[str] = []
    for criterion in elements(AWARD_CRITERIA(terms)) if terms is not None else ():
        parts = Children(criterion)
        name = languages.text(parts.all(NAME))
        description = languages.text(parts.all(DESCRIPTION))
        kind = parts.text(CRITERION_TYPE)
        head = name or description or CRITERION_TYPES.get(kind or "") or kind
        if head is None:
            continue
        weight = _weight(criterion)
        if weight:
            head = f"{head} ({weight})"
        if name and description and description != name:
            head = f"{head}: {description}"
        criteria.append(head)
    return criteria


def selection_conditions(terms: Element | None, languages: Languages) -> list[str]:
    """BT-749 name and BT-750 description of each selection criterion (BT-747)."""
    conditions: list[str] = []
    for criterion in elements(SELECTION_CRITERIA(terms)) if terms is not None else ():
        parts = Children(criterion)
        name = languages.text(parts.all(NAME))
        description = languages.text(parts.all(DESCRIPTION))
        if name and description and name != description:
            conditions.append(f"{name}: {description}")
        elif name or description:
            conditions.append(name or description or "")
    return conditions


def _classification(holder: Element | None) -> str | None:
    """A CPV code (BT-262/263); other classifications (`listName` not `cpv`) are skipped."""
    if holder is None:
        return None
    for code in children_named(holder, CLASSIFICATION_CODE):
        if code.get("listName") in (None, "cpv") and code.text:
            return code.text.strip()
    return None


def _framework(process: Children) -> bool | None:
    """BT-765: True for any `fa-*` code, False for `none`, None when the lot does not say."""
    codes = [
        code.text.strip()
        for system in process.all(CONTRACTING_SYSTEM)
        for code in children_named(system, CONTRACTING_SYSTEM_TYPE)
        if code.get("listName") == "framework-agreement" and code.text
    ]
    return any(code.startswith("fa-") for code in codes) if codes else None


def _weight(criterion: Element) -> str | None:
    for parameter in elements(CRITERION_PARAMETER(criterion)):
        code = first_child(parameter, PARAMETER_CODE)
        if code is None or code.get("listName") != "number-weight":
            continue
        template = WEIGHT_FORMATS.get((code.text or "").strip())
        match = _NUMBER.match(child_text(parameter, PARAMETER_NUMBER) or "")
        if template and match:
            whole, fraction = match.group(1), (match.group(2) or "").rstrip("0")
            return template.format(f"{int(whole)}.{fraction}" if fraction else str(int(whole)))
    return None


def _period_end(period: Element | None) -> datetime | None:
    if period is None:
        return None
    return combine_date_time(child_text(period, END_DATE), child_text(period, END_TIME))
