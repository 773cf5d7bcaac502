"""Addresses (organisations, BT-510..BT-514) and places of performance (BT-5071..BT-728)."""

from __future__ import annotations

import re

import msgspec

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.read import Languages, child_text, clean, unique
from scope_normalizer.formats.eforms.xpaths import (
    ADDITIONAL_STREET,
    ADDRESS,
    ADDRESS_LINE,
    CITY,
    COUNTRY,
    COUNTRY_CODE,
    DESCRIPTION,
    LINE,
    NUTS,
    POSTAL_CODE,
    STREET,
    Element,
)
from scope_normalizer.values.places import build_place, country_alpha2
from scope_shared.schema import Place

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")


class Address(msgspec.Struct, frozen=True):
    """One UBL address, its values checked against the schema's patterns."""

    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    nuts: list[str] = msgspec.field(default_factory=list)
    country: str | None = None

    def line(self) -> str | None:
        """`street, postal code city`, as one would write it on an envelope."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return ", ".join(part for part in (self.street, town) if part) or None


def valid_country(code: object) -> str | None:
    """An eForms country code as ISO alpha-2, or None when it is not one."""
    alpha2 = country_alpha2(code)
    return alpha2 if alpha2 and _COUNTRY.match(alpha2) else None


def read_address(address: Element | None) -> Address:
    """BT-510 street (with additional street and lines), BT-512 postal code, BT-513 city,
    BT-507 NUTS, BT-514 country."""
    if address is None:
        return Address()
    parts = Children(address)
    lines = [child_text(line, LINE) for line in parts.all(ADDRESS_LINE)]
    streets = [*parts.texts(STREET), *parts.texts(ADDITIONAL_STREET), *filter(None, lines)]
    return Address(
        street=clean(", ".join(streets)),
        postal_code=parts.text(POSTAL_CODE),
        city=clean(parts.text(CITY)),
        nuts=[code.upper() for code in parts.texts(NUTS) if _NUTS.match(code.upper())],
        country=valid_country(child_text(parts.first(COUNTRY), COUNTRY_CODE)),
    )


def read_place(locations: list[Element], languages: Languages) -> Place | None:
    """BT-5071 NUTS, BT-5141 country, BT-728 description and BT-5101.. address, merged over
    the block's `cac:RealizedLocation`s."""
    nuts: list[str] = []
    countries: list[str] = []
    texts: list[str] = []
    for location in locations:
        parts = Children(location)
        description = languages.text(parts.all(DESCRIPTION))
        if description:
            texts.append(description)
        address = read_address(parts.first(ADDRESS))
        nuts += address.nuts
        if address.country:
            countries.append(address.country)
        line = address.line()
        if line:
            texts.append(line)
    text = clean("\n".join(unique(texts)))
    return build_place(nuts=nuts, country=countries[0] if countries else None, text=text)
