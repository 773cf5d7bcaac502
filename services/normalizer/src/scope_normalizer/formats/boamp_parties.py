"""Organisations in BOAMP notices: the buyer (`IDENTITE`, `organisme`) and the winners.

Source: BOAMP (DILA), every generation.
Format: a name, a national id (`CODE_IDENT_NATIONAL`, `codeIdentificationNational`, a SIRET in
practice, typed by `typeIdentificationNational` in FNSimple), an address and contact points.
Caveats: ids are validated, never trusted: a 14-digit id failing the SIRET check is kept as an
identifier of its declared scheme (`ORG` when none) with no `siret`. Winners get a country only
from an explicit country or a NUTS code: a French-looking postal code proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scope_normalizer.values.boamp_tree import text
from scope_normalizer.values.identifiers import siren_of, valid_siren, valid_siret
from scope_normalizer.values.places import country_alpha2, enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Identifier, Organization, Winner

_NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")


def _norm_scheme(value: str | None) -> str | None:
    cleaned = value.strip().upper() if value else ""
    return cleaned or None


def valid_nuts(value: object) -> str | None:
    found = clean_text(text(value))
    if found is None:
        return None
    upper = found.upper().replace(" ", "")
    return upper if _NUTS.match(upper) else None


def identify(
    raw_id: object, scheme_hint: str | None = None
) -> tuple[Identifier | None, str | None]:
    """A national id as (Identifier, validated SIRET); SIRET and SIREN are checked, not trusted."""
    found = clean_text(text(raw_id))
    if found is None:
        return None, None
    siret = valid_siret(found)
    if siret:
        return Identifier(scheme="SIRET", id=siret), siret
    siren = valid_siren(found)
    if siren:
        return Identifier(scheme="SIREN", id=siren), None
    scheme = _norm_scheme(scheme_hint) or "ORG"
    return Identifier(scheme=scheme, id=found), None


@dataclass(slots=True)
class Contact:
    """An organisation as BOAMP lists it, before validation."""

    name: str | None = None
    national_id: object = None
    id_scheme: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    nuts: object = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    contact_name: str | None = None


def organization(contact: Contact) -> Organization | None:
    """A buyer Organization, enriched with département and region from its postal code."""
    name = clean_text(contact.name)
    if name is None:
        return None
    identifier, siret = identify(contact.national_id, contact.id_scheme)
    org = Organization(
        name=name,
        identifier=identifier,
        siret=siret,
        siren=siren_of(siret)
        or (identifier.id if identifier and identifier.scheme == "SIREN" else None),
        address=clean_text(contact.address),
        postal_code=clean_text(contact.postal_code),
        city=clean_text(contact.city),
        nuts=valid_nuts(contact.nuts),
        country=country_alpha2(contact.country),
        email=clean_text(contact.email),
        phone=clean_text(contact.phone),
        url=clean_text(contact.url),
        contact_name=clean_text(contact.contact_name),
    )
    return enrich_organization(org)


def winner(name: object, national_id: object = None, country: object = None) -> Winner | None:
    label = clean_text(text(name))
    identifier, siret = identify(national_id)
    if label is None and identifier is None:
        return None
    return Winner(
        name=label,
        identifier=identifier,
        siret=siret,
        siren=siren_of(siret)
        or (identifier.id if identifier and identifier.scheme == "SIREN" else None),
        country=country_alpha2(text(country)),
    )
