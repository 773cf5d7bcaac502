"""Organisations of an R2.0.9 form: the buyer (section I.1) and the contractors (section V.2.3).

Both are address blocks (`ADDRESS_CONTRACTING_BODY`, `ADDRESS_CONTRACTOR`) with OFFICIALNAME,
NATIONALID, ADDRESS, TOWN, POSTAL_CODE, COUNTRY, CONTACT_POINT, PHONE, E_MAIL, URL_GENERAL and
a NUTS code. NATIONALID is free text: a SIRET for many French bodies, an organisation number
elsewhere (`940 363 586` in Norway), sometimes a name. It is kept as a SIRET only when the body
is French and the digits pass the check; otherwise as an `ORG` identifier as written, unless it
holds no digit at all (then it is a name, not an identifier, and is dropped).
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.ted_xml.tree import (
    code_of,
    find_all,
    nuts_codes,
    path,
    text_of,
)
from scope_normalizer.values.identifiers import siren_of, valid_siren, valid_siret
from scope_normalizer.values.places import country_alpha2, enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Identifier, Organization, Winner

BUYER_ADDRESS = path("ADDRESS_CONTRACTING_BODY")
"""Relative to CONTRACTING_BODY."""
CONTRACTOR_ADDRESSES = path("CONTRACTORS", "CONTRACTOR", "ADDRESS_CONTRACTOR")
"""Relative to AWARDED_CONTRACT (also used by F15, F25)."""

_NAME = path("OFFICIALNAME")
_NATIONAL_ID = path("NATIONALID")
_COUNTRY = path("COUNTRY")


class LegalId(NamedTuple):
    """What a NATIONALID says once checked: a SIRET/SIREN for a French body, else the raw id."""

    identifier: Identifier | None
    siret: str | None
    siren: str | None


def legal_id(national_id: str | None, country: str | None) -> LegalId:
    # Some buyers type a name into NATIONALID (`MYRVOLL MASKIN AS`): an id has digits.
    if not national_id or not any(char.isdigit() for char in national_id):
        return LegalId(None, None, None)
    siret = valid_siret(national_id) if country == "FR" else None
    siren = siren_of(siret) or (valid_siren(national_id) if country == "FR" else None)
    if siret:
        return LegalId(Identifier(scheme="SIRET", id=siret), siret, siren)
    if siren:
        return LegalId(Identifier(scheme="SIREN", id=siren), None, siren)
    return LegalId(Identifier(scheme="ORG", id=national_id), None, None)


def buyer(fields: Children, fallback_country: str | None) -> Organization | None:
    """The contracting authority or entity of section I.1 (`fields`: its address block),
    enriched with département/region."""
    name = clean_text(text_of(fields.first(_NAME)))
    if fields.node is None or name is None:
        return None
    country = country_alpha2(code_of(fields.first(_COUNTRY), "VALUE") or fallback_country)
    legal = legal_id(clean_text(text_of(fields.first(_NATIONAL_ID))), country)
    nuts = nuts_codes(fields.node)
    organization = Organization(
        name=name,
        identifier=legal.identifier,
        siret=legal.siret,
        siren=legal.siren,
        address=clean_text(text_of(fields.first(path("ADDRESS")))),
        postal_code=clean_text(text_of(fields.first(path("POSTAL_CODE")))),
        city=clean_text(text_of(fields.first(path("TOWN")))),
        nuts=nuts[0] if nuts else None,
        country=country,
        email=clean_text(text_of(fields.first(path("E_MAIL")))),
        phone=clean_text(text_of(fields.first(path("PHONE")))),
        url=clean_text(text_of(fields.first(path("URL_GENERAL")))),
        contact_name=clean_text(text_of(fields.first(path("CONTACT_POINT")))),
    )
    return enrich_organization(organization)


def winners(awarded: etree._Element) -> list[Winner]:
    """The contractors of one AWARDED_CONTRACT (several when awarded to a group)."""
    found: list[Winner] = []
    for address in find_all(awarded, CONTRACTOR_ADDRESSES):
        fields = Children(address)
        name = clean_text(text_of(fields.first(_NAME)))
        country = country_alpha2(code_of(fields.first(_COUNTRY), "VALUE"))
        legal = legal_id(clean_text(text_of(fields.first(_NATIONAL_ID))), country)
        if name is None and legal.identifier is None:
            continue
        found.append(
            Winner(
                name=name,
                identifier=legal.identifier,
                siret=legal.siret,
                siren=legal.siren,
                country=country,
            )
        )
    return found
