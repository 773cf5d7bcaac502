"""Items, lots and places of an OCDS release: CPV codes, lots with their own values, places.

CPV codes come from `items[].classification` and `items[].additionalClassifications` whose
scheme is CPV; other schemes (Paraguay's DNCP catalogue, UNSPSC) are not CPV and are left out.
Places come from the location extension: `deliveryAddress(es)` and `deliveryLocation(s)`
with a NUTS gazetteer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scope_normalizer.formats.ocds_release.fields import amount, duration, ident, obj, objs, text
from scope_normalizer.formats.ocds_release.parties import country
from scope_normalizer.values.identifiers import normalize_cpv
from scope_normalizer.values.places import build_place
from scope_shared.dates import parse_datetime
from scope_shared.reference import department_for_postal_code
from scope_shared.schema import Lot, Place

Item = dict[str, Any]

_CPV_SCHEMES = frozenset({"CPV", "CPV2008", "CPV-2008"})
_SPREADSHEET_FLOAT = re.compile(r"^(\d{7,8})\.0$")
"""`45233130.0`: a CPV code that went through a spreadsheet as a number (OCP's own sample)."""


def cpv_of(classification: object) -> str | None:
    source = obj(classification)
    scheme = source.get("scheme")
    if not isinstance(scheme, str) or scheme.strip().upper().replace(" ", "") not in _CPV_SCHEMES:
        return None
    code = source.get("id")
    if isinstance(code, str) and (match := _SPREADSHEET_FLOAT.match(code.strip())):
        code = match.group(1)
    return normalize_cpv(code)


def cpv_codes(items: Iterable[Item]) -> tuple[str | None, list[str]]:
    """The main CPV (the first item's) and the others, in order, without repeats."""
    codes: list[str] = []
    for item in items:
        for classification in [
            item.get("classification"),
            *objs(item.get("additionalClassifications")),
        ]:
            code = cpv_of(classification)
            if code is not None and code not in codes:
                codes.append(code)
    return (codes[0], codes[1:]) if codes else (None, [])


def release_items(tender: dict[str, Any], *sections: list[dict[str, Any]]) -> list[Item]:
    """The tender's items; else those of the first of `sections` (the awards, the contracts)
    that has some (the DECP conversion has no tender section and puts the CPV code on the
    award and contract items)."""
    items = objs(tender.get("items"))
    if items:
        return items
    for entries in sections:
        items = [item for entry in entries for item in objs(entry.get("items"))]
        if items:
            return items
    return []


def lots(tender: dict[str, Any], items: list[Item], french: bool) -> list[Lot]:
    """`tender.lots[]` (lots extension), each with the CPV codes and places of its items."""
    by_lot: dict[str, list[Item]] = {}
    for item in items:
        lot_id = ident(item.get("relatedLot"))
        if lot_id is not None:
            by_lot.setdefault(lot_id, []).append(item)
    found: list[Lot] = []
    for source in objs(tender.get("lots")):
        lot_id = ident(source.get("id"))
        if lot_id is None:
            continue
        lot_items = by_lot.get(lot_id, [])
        cpv_main, cpv_additional = cpv_codes(lot_items)
        found.append(
            Lot(
                id=lot_id,
                title=text(source.get("title")),
                description=text(source.get("description")),
                cpv_main=cpv_main,
                cpv_additional=cpv_additional,
                estimated_value=amount(source.get("value")),
                place=place(lot_items, french),
                duration=duration(source.get("contractPeriod")),
                # Not in the core lots extension; the eForms OCDS profile adds it per lot.
                submission_deadline=parse_datetime(obj(source.get("tenderPeriod")).get("endDate")),
            )
        )
    return found


def place(items: list[Item], french: bool) -> Place | None:
    """Where the items are delivered; a postal code gives a département when French."""
    nuts: list[str] = []
    departments: list[str] = []
    countries: list[str] = []
    texts: list[str] = []
    for item in items:
        for address in [obj(item.get("deliveryAddress")), *objs(item.get("deliveryAddresses"))]:
            _read_address(address, french, departments, countries, texts)
        for location in [obj(item.get("deliveryLocation")), *objs(item.get("deliveryLocations"))]:
            _read_location(location, nuts, texts)
    if not (nuts or departments or countries or texts):
        return None
    return build_place(
        nuts=nuts,
        departments=departments,
        country=countries[0] if len(set(countries)) == 1 else None,
        text="; ".join(dict.fromkeys(texts)) or None,
    )


def _read_address(
    address: dict[str, Any],
    french: bool,
    departments: list[str],
    countries: list[str],
    texts: list[str],
) -> None:
    if not address:
        return
    country_code = country(address.get("countryName"))
    if country_code is not None:
        countries.append(country_code)
    postal = text(address.get("postalCode"))
    if postal and (country_code == "FR" or (country_code is None and french)):
        department = department_for_postal_code(postal)
        if department is not None:
            departments.append(department)
    parts = [text(address.get(key)) for key in ("streetAddress", "postalCode", "locality")]
    line = " ".join(part for part in parts if part)
    if line:
        texts.append(line)


def _read_location(location: dict[str, Any], nuts: list[str], texts: list[str]) -> None:
    if not location:
        return
    gazetteer = obj(location.get("gazetteer"))
    scheme = gazetteer.get("scheme")
    if isinstance(scheme, str) and scheme.strip().upper() == "NUTS":
        identifiers = gazetteer.get("identifiers")
        for code in identifiers if isinstance(identifiers, list) else []:
            if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2}[0-9A-Za-z]{0,3}", code.strip()):
                nuts.append(code.strip().upper())
    description = text(location.get("description"))
    if description:
        texts.append(description)
