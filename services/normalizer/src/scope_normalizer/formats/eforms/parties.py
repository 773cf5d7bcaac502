"""Organisations (`efac:Organizations`, BT-500..BT-514) as buyers and winners.

An eForms notice describes every organisation once, under an `ORG-*` id (and its contact
points under `TPO-*` ids), and names them elsewhere by reference: the buyer through
`cac:ContractingParty`, a winner through `efac:TenderingParty/efac:Tenderer`. They are indexed
once per notice and built on demand.
"""

from __future__ import annotations

import msgspec

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.places import read_address
from scope_normalizer.formats.eforms.read import (
    Languages,
    child_text,
    children_named,
    clean,
    first_child,
)
from scope_normalizer.formats.eforms.xpaths import ID, NAME, ORGANIZATION, Element
from scope_normalizer.values.identifiers import siren_of, valid_siren, valid_siret
from scope_normalizer.values.places import enrich_organization
from scope_shared.documents.eforms import tag
from scope_shared.schema import Identifier, Organization, Winner

_COMPANY = tag("efac:Company")
_TOUCHPOINT = tag("efac:TouchPoint")
_PARTY_IDENTIFICATION = tag("cac:PartyIdentification")
_PARTY_NAME = tag("cac:PartyName")  # BT-500 in cbc:Name
_WEBSITE = tag("cbc:WebsiteURI")  # BT-505
_POSTAL_ADDRESS = tag("cac:PostalAddress")
_LEGAL_ENTITY = tag("cac:PartyLegalEntity")
_COMPANY_ID = tag("cbc:CompanyID")  # BT-501
_CONTACT = tag("cac:Contact")
_PHONE = tag("cbc:Telephone")  # BT-503
_EMAIL = tag("cbc:ElectronicMail")  # BT-506

SIRET_SCHEMES = frozenset({"SIRET", "FR-SIRET", "0009"})
"""Schemes naming a SIRET: Scope's own word, and ISO 6523 ICD 0009 (`SIRET-CODE`)."""
SIREN_SCHEMES = frozenset({"SIREN", "FR-SIREN"})

LegalIds = tuple[Identifier | None, str | None, str | None]


class Parties:
    """The notice's organisations by id, each built once when first asked for."""

    def __init__(self, organizations: Element | None, languages: Languages) -> None:
        """`organizations` is the notice's `efac:Organizations`."""
        self._languages = languages
        self._index: dict[str, tuple[Element, Element]] = {}
        self._built: dict[str, Organization | None] = {}
        for organization in children_named(organizations, ORGANIZATION):
            company = first_child(organization, _COMPANY)
            if company is None:
                continue
            for party in (company, *children_named(organization, _TOUCHPOINT)):
                party_id = child_text(first_child(party, _PARTY_IDENTIFICATION), ID)
                if party_id and party_id not in self._index:
                    self._index[party_id] = (party, company)

    def organization(self, party_id: str | None) -> Organization | None:
        """The organisation (or contact point) `party_id`, without enrichment."""
        if party_id is None:
            return None
        if party_id not in self._built:
            found = self._index.get(party_id)
            self._built[party_id] = self._build(*found) if found else None
        return self._built[party_id]

    def buyer(self, party_ids: list[str], profile_url: str | None) -> Organization | None:
        """The first buying organisation the notice names, enriched with département/region.

        Its website (BT-505) is its URL; without one, its buyer profile (BT-508)."""
        for party_id in party_ids:
            org = self.organization(party_id)
            if org is not None:
                if org.url is None and profile_url:
                    org = msgspec.structs.replace(org, url=profile_url)
                return enrich_organization(org)
        return None

    def winner(self, party_id: str) -> Winner | None:
        org = self.organization(party_id)
        if org is None:
            return None
        return Winner(
            name=org.name,
            identifier=org.identifier,
            siret=org.siret,
            siren=org.siren,
            country=org.country,
        )

    def _build(self, party: Element, company: Element) -> Organization | None:
        """A contact point (`party`) takes what it lacks from its organisation (`company`)."""
        own = Children(party)
        base = own if party is company else Children(company)
        name = self._name(own) or self._name(base)
        if name is None:
            return None
        postal = own.first(_POSTAL_ADDRESS)
        address = read_address(postal if postal is not None else base.first(_POSTAL_ADDRESS))
        legal_entities = base.all(_LEGAL_ENTITY)
        company_ids = [c for entity in legal_entities for c in children_named(entity, _COMPANY_ID)]
        identifier, siret, siren = legal_ids(company_ids, address.country)
        contact, base_contact = own.first(_CONTACT), base.first(_CONTACT)
        return Organization(
            name=name,
            identifier=identifier,
            siret=siret,
            siren=siren,
            address=address.street,
            postal_code=address.postal_code,
            city=address.city,
            nuts=address.nuts[0] if address.nuts else None,
            country=address.country,
            email=child_text(contact, _EMAIL) or child_text(base_contact, _EMAIL),
            phone=child_text(contact, _PHONE) or child_text(base_contact, _PHONE),
            url=own.text(_WEBSITE) or base.text(_WEBSITE),
            contact_name=clean(child_text(contact, NAME)),
        )

    def _name(self, parts: Children) -> str | None:
        names = [name for block in parts.all(_PARTY_NAME) for name in children_named(block, NAME)]
        return self._languages.text(names)


def legal_ids(company_ids: list[Element], country: str | None) -> LegalIds:
    """BT-501 as an Identifier, with the SIRET/SIREN when it is one.

    A French organisation's id without a scheme is tried as a SIRET, then a SIREN: French
    buyers write their SIRET bare. Elsewhere only an explicit scheme makes an id a SIRET, so
    a foreign 14-digit number that happens to pass the Luhn check is not taken for one.
    """
    first: Identifier | None = None
    for company_id in company_ids:
        value = (company_id.text or "").strip()
        if not value:
            continue
        scheme = (company_id.get("schemeName") or company_id.get("schemeID") or "").strip()
        french = not scheme and country == "FR"
        if scheme.upper() in SIRET_SCHEMES or french:
            siret = valid_siret(value)
            if siret:
                return Identifier(scheme="SIRET", id=siret), siret, siren_of(siret)
        if scheme.upper() in SIREN_SCHEMES or french:
            siren = valid_siren(value)
            if siren:
                return Identifier(scheme="SIREN", id=siren), None, siren
        first = first or Identifier(scheme=scheme or "ORG", id=value)
    return first, None, None
