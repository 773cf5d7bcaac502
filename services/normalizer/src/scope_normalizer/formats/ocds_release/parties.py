"""Organisations of an OCDS release: the buyer and the suppliers, resolved through `parties`.

OCDS 1.1 references an organisation by `{id, name}` and describes it once in `parties[]`;
OCDS 1.0 (Mexico City's sample) describes it inline in `buyer` or `suppliers`. Both are read:
the reference is merged with its party.
"""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.formats.ocds_release.fields import ident, obj, objs, text
from scope_normalizer.values.identifiers import siren_of, valid_siren, valid_siret
from scope_normalizer.values.places import country_alpha2, french_location
from scope_shared.schema import Identifier, Organization, Winner

Party = dict[str, Any]

COUNTRY_NAMES = {
    "france": "FR", "république française": "FR", "republique francaise": "FR",
    "belgique": "BE", "belgium": "BE", "luxembourg": "LU", "suisse": "CH", "switzerland": "CH",
    "allemagne": "DE", "germany": "DE", "espagne": "ES", "spain": "ES", "italie": "IT",
    "italy": "IT", "monaco": "MC", "royaume-uni": "GB", "united kingdom": "GB",
    "mexico": "MX", "méxico": "MX", "mexique": "MX", "paraguay": "PY",
}  # fmt: skip
"""OCDS 1.1 addresses carry a country *name* (`countryName`), not a code: the names seen in
the samples, France's and its neighbours' in French and English. Others keep no country."""

_SIRET_TEXT = re.compile(r"^[\d .]+$")
"""A SIRET as publishers write it (`200 013 183 00021`); digits buried in a longer id
(`FR-RCS-20001318300021-buyer`, a Mexican RFC) are not one."""


class PartyIndex:
    """`parties[]` by id, built once per release."""

    def __init__(self, parties: object) -> None:
        self._by_id: dict[str, Party] = {}
        self._all = objs(parties)
        for party in self._all:
            party_id = ident(party.get("id"))
            if party_id is not None:
                self._by_id.setdefault(party_id, party)

    def resolve(self, reference: object) -> Party:
        """The party a reference points at, merged over the reference's own fields."""
        ref = obj(reference)
        party_id = ident(ref.get("id"))
        party = self._by_id.get(party_id) if party_id else None
        return {**ref, **party} if party else ref

    def with_role(self, role: str) -> Party | None:
        for party in self._all:
            roles = party.get("roles")
            if isinstance(roles, list) and role in roles:
                return party
        return None


def buyer(
    reference: object, tender: dict[str, Any], parties: PartyIndex, language: str | None
) -> Organization | None:
    """The buyer (the release's `buyer` reference); else the party with role buyer; else
    the procuring entity."""
    reference = obj(reference)
    party = parties.resolve(reference) if reference else parties.with_role("buyer")
    if not party:
        entity = obj(tender.get("procuringEntity"))
        party = parties.resolve(entity) if entity else parties.with_role("procuringEntity")
    return organization(party, language) if party else None


def organization(party: Party, language: str | None) -> Organization | None:
    identifier = obj(party.get("identifier"))
    name = text(party.get("name")) or text(identifier.get("legalName"))
    if name is None:
        return None
    ids = _identifiers(party)
    siret, siren = _french_ids(ids)
    address = obj(party.get("address"))
    contact = obj(party.get("contactPoint"))
    postal_code = text(address.get("postalCode"))
    country_code = country(address.get("countryName")) or ("FR" if siren else None)
    department = region = None
    if country_code == "FR" or (country_code is None and language in (None, "fr")):
        # A five-digit postal code is only read as French when nothing says otherwise.
        department, region = french_location(postal_code)
        country_code = country_code or ("FR" if department else None)
    return Organization(
        name=name,
        identifier=_identifier(ids, siret),
        siret=siret,
        siren=siren,
        address=text(address.get("streetAddress")),
        postal_code=postal_code,
        city=text(address.get("locality")),
        department=department,
        region=region,
        country=country_code,
        email=text(contact.get("email")),
        phone=text(contact.get("telephone")),
        url=text(contact.get("url")),
        contact_name=text(contact.get("name")),
    )


def winner(reference: object, parties: PartyIndex) -> Winner | None:
    party = parties.resolve(reference)
    identifier = obj(party.get("identifier"))
    name = text(party.get("name")) or text(identifier.get("legalName"))
    ids = _identifiers(party)
    siret, siren = _french_ids(ids)
    found = _identifier(ids, siret)
    if name is None and found is None:
        return None
    country_code = country(obj(party.get("address")).get("countryName"))
    return Winner(
        name=name,
        identifier=found,
        siret=siret,
        siren=siren,
        country=country_code or ("FR" if siren else None),
    )


def country(name: object) -> str | None:
    """`FR`, `FRA`, `MX` or a country name such as `France` -> alpha-2."""
    if not isinstance(name, str) or not name.strip():
        return None
    return country_alpha2(name) or COUNTRY_NAMES.get(name.strip().lower())


def _identifiers(party: Party) -> list[tuple[str | None, str]]:
    """(scheme, id) of the main identifier, then of the additional ones."""
    found: list[tuple[str | None, str]] = []
    for entry in [obj(party.get("identifier")), *objs(party.get("additionalIdentifiers"))]:
        value = ident(entry.get("id"))
        if value is not None:
            found.append((text(entry.get("scheme")), value))
    return found


def _french_ids(ids: list[tuple[str | None, str]]) -> tuple[str | None, str | None]:
    """A SIRET (and its SIREN) from a French scheme (`FR-RCS` as the DECP conversion writes
    it, `FR-SIRET`, `SIRET`) or from an id without scheme that is a Luhn-valid SIRET."""
    for scheme, value in ids:
        upper = (scheme or "").upper()
        french = scheme is None or "SIRET" in upper or upper.startswith("FR-")
        if french and _SIRET_TEXT.match(value):
            siret = valid_siret(value)
            if siret is not None:
                return siret, siren_of(siret)
    for scheme, value in ids:
        if scheme is not None and "SIREN" in scheme.upper() and (siren := valid_siren(value)):
            return None, siren
    return None, None


def _identifier(ids: list[tuple[str | None, str]], siret: str | None) -> Identifier | None:
    if siret is not None:
        return Identifier(scheme="SIRET", id=siret)
    if not ids:
        return None
    scheme, value = ids[0]
    return Identifier(scheme=scheme or "ORG", id=value)
