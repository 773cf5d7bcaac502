"""Section II of a form: the object descriptions (`OBJECT_DESCR`, one per lot), read once.

A notice divided into lots (`LOT_DIVISION`, or several descriptions, or a `LOT_NO`) becomes
`Notice.lots`. A notice not divided has one description that describes the whole contract:
its place, duration and value are the notice's own and no lot is made. Award criteria have no
place on a Lot, so the notice keeps the criteria of all its descriptions, without repeats.
Lots carry only additional CPV codes in R2.0.9 (II.2.2); the main CPV is the notice's (II.1.2).
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.ted_xml.tree import (
    amount_of,
    block,
    count_of,
    cpv_codes,
    local_name,
    nuts_codes,
    path,
    text_content,
    text_of,
)
from scope_normalizer.values.places import build_place, country_alpha2
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_date
from scope_shared.schema import Amount, Duration, DurationUnit, Lot, Place

OBJECT_DESCR = path("OBJECT_DESCR")
_LOT_NO = path("LOT_NO")
_LOT_DIVISION = path("LOT_DIVISION")
_TITLE = path("TITLE")
_SHORT_DESCR = path("SHORT_DESCR")
_MAIN_SITE = path("MAIN_SITE")
_CPV_ADDITIONAL = path("CPV_ADDITIONAL", "CPV_CODE")
_VAL_OBJECT = path("VAL_OBJECT")
_DURATION = path("DURATION")
_AC_CRITERION = path("AC_CRITERION")
_AC_WEIGHTING = path("AC_WEIGHTING")
_AC = path("AC")
_DIRECTIVES = tuple(path(f"DIRECTIVE_2014_2{n}_EU") for n in (3, 4, 5))
_DATE_START = path("DATE_START")
_DATE_END = path("DATE_END")

_UNITS = {"MONTH": DurationUnit.MONTH, "DAY": DurationUnit.DAY, "YEAR": DurationUnit.YEAR}
_NUTS_COUNTRY = {"EL": "GR", "UK": "GB"}
"""NUTS writes Greece and the United Kingdom unlike ISO 3166."""
_CRITERION_LABELS = {
    "AC_QUALITY": "Quality",
    "AC_COST": "Cost",
    "AC_PRICE": "Price",
    "AC_PROCUREMENT_DOC": "Criteria stated in the procurement documents",
}
"""Element names for criteria the form states without words (a price weighting only)."""


class ObjectPart(NamedTuple):
    """What section II gives the notice once its descriptions are read."""

    lots: list[Lot]
    place: Place | None
    duration: Duration | None
    value: Amount | None
    """The value of the single description of a notice not divided into lots."""
    award_criteria: list[str]
    cpv_additional: list[str]


class _Description(NamedTuple):
    """One OBJECT_DESCR, read once, for the notice's totals and for its lot."""

    element: etree._Element
    parts: Children
    nuts: list[str]
    site: str | None
    cpvs: list[str]
    criteria: list[str]


def read_object(
    object_contract: Children, performance_nuts: list[str], country: str | None
) -> ObjectPart:
    """Lots, place, duration, criteria and CPV codes of section II.

    Args:
        object_contract: The form's OBJECT_CONTRACT.
        performance_nuts: NOTICE_DATA's PERFORMANCE_NUTS codes, the whole notice's places.
        country: The buyer's country, for places whose NUTS codes do not name one.
    """
    elements = object_contract.all(OBJECT_DESCR)
    descriptions = [_read(element) for element in elements]
    divided = len(elements) > 1 or any(d.parts.first(_LOT_NO) is not None for d in descriptions)
    if object_contract.first(_LOT_DIVISION) is not None:
        divided = True
    fallback_country = country_alpha2(country)
    nuts, sites, criteria, cpvs = list(performance_nuts), list[str](), list[str](), list[str]()
    for description in descriptions:
        _add_new(nuts, description.nuts)
        _add_new(sites, [description.site] if description.site else [])
        _add_new(criteria, description.criteria, casefold=True)
        _add_new(cpvs, description.cpvs)
    single = descriptions[0].parts if len(descriptions) == 1 and not divided else Children(None)
    return ObjectPart(
        lots=[_lot(d, i, fallback_country) for i, d in enumerate(descriptions)] if divided else [],
        place=place(nuts, sites[0] if len(sites) == 1 else None, fallback_country),
        duration=duration(single),
        value=amount_of(single.first(_VAL_OBJECT)),
        award_criteria=criteria,
        cpv_additional=cpvs,
    )


def _read(element: etree._Element) -> _Description:
    parts = Children(element)
    return _Description(
        element=element,
        parts=parts,
        nuts=nuts_codes(element),
        site=block(parts.first(_MAIN_SITE)),
        cpvs=cpv_codes(element, _CPV_ADDITIONAL),
        criteria=award_criteria(parts),
    )


def place(nuts: list[str], text: str | None, fallback_country: str | None) -> Place | None:
    """A Place whose country is the NUTS codes' own when they agree, else the buyer's."""
    countries = {code[:2] for code in nuts}
    country = fallback_country
    if len(countries) == 1:
        prefix = countries.pop()
        country = _NUTS_COUNTRY.get(prefix, prefix)
    return build_place(nuts=nuts, country=country, text=text)


def duration(description: Children) -> Duration | None:
    """DURATION with its TYPE (MONTH, DAY), and/or DATE_START and DATE_END."""
    if description.node is None:
        return None
    element = description.first(_DURATION)
    value = count_of(element)
    unit = _UNITS.get((element.get("TYPE") or "").upper()) if element is not None else None
    start = parse_date(text_of(description.first(_DATE_START)))
    end = parse_date(text_of(description.first(_DATE_END)))
    if value is None and start is None and end is None:
        return None
    return Duration(
        value=value, unit=unit if value is not None else None, start_date=start, end_date=end
    )


def award_criteria(description: Children) -> list[str]:
    """`Valeur technique (55 %)`, `Price (45 %)`: criteria with their weighting, as written.

    Concessions (directive 2014/23) list bare `AC_CRITERION` texts under
    `DIRECTIVE_2014_23_EU/AC`; the other forms group them by kind under `AC`.
    """
    blocks = [
        *description.all(_AC),
        *(
            ac
            for name in _DIRECTIVES
            for directive in description.all(name)
            for ac in directive.iterchildren(_AC)
        ),
    ]
    found: list[str] = []
    for ac in blocks:
        for criterion in ac:
            text = _criterion(criterion)
            if text:
                found.append(text)
    return found


def _criterion(element: etree._Element) -> str | None:
    name = local_name(element)
    if name == "AC_CRITERION":
        return clean_text(text_content(element))
    if name not in _CRITERION_LABELS:
        return None
    parts = Children(element)
    label = clean_text(text_of(parts.first(_AC_CRITERION))) or _CRITERION_LABELS[name]
    weighting = clean_text(text_of(parts.first(_AC_WEIGHTING)))
    return f"{label} ({weighting})" if weighting else label


def _lot(description: _Description, index: int, country: str | None) -> Lot:
    parts = description.parts
    lot_id = text_of(parts.first(_LOT_NO)) or description.element.get("ITEM") or str(index + 1)
    has_place = description.nuts or description.site
    return Lot(
        id=lot_id,
        title=block(parts.first(_TITLE)),
        description=block(parts.first(_SHORT_DESCR)),
        cpv_additional=description.cpvs,
        estimated_value=amount_of(parts.first(_VAL_OBJECT)),
        place=place(description.nuts, description.site, country) if has_place else None,
        duration=duration(parts),
    )


def _add_new(target: list[str], values: list[str], *, casefold: bool = False) -> None:
    """Append the values not already there (ignoring case when asked)."""
    seen = {v.casefold() if casefold else v for v in target}
    for value in values:
        key = value.casefold() if casefold else value
        if key not in seen:
            seen.add(key)
            target.append(value)
