"""The buyer (`acheteur` / `autoriteConcedante`) and the suppliers (`titulaires` /
`concessionnaires`) of a DECP contract."""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.formats.decp.record import entries, mapping, text
from scope_normalizer.values.identifiers import siren_of, valid_siret
from scope_normalizer.values.places import enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Identifier, Organization, Winner

_VAT_PREFIX = re.compile(r"^([A-Z]{2})[0-9A-Z]")
_SCHEME_COUNTRIES = {"TAHITI": "PF", "RIDET": "NC", "FRWF": "WF"}
"""Company registers of French Polynesia, New Caledonia and Wallis-et-Futuna."""
_VAT_COUNTRIES = {"EL": "GR", "XI": "GB"}
"""VAT prefixes that are not the ISO country code (Greece, Northern Ireland)."""


def buyer(fields: dict[str, Any]) -> Organization | None:
    """The buyer; its `id` is a SIRET by definition of the format.

    DECP 2024 gives no buyer name, only the SIRET: the SIRET then stands as the name, since
    the schema requires one and it is what identifies the buyer to a reader.
    """
    party = mapping(fields.get("acheteur")) or mapping(fields.get("autoriteConcedante"))
    ident = text(party.get("id"))
    name = clean_text(party.get("nom"))
    if ident is None and name is None:
        return None
    siret = valid_siret(ident)
    org = Organization(
        name=name or ident or "",
        identifier=Identifier(scheme="SIRET", id=siret or ident) if ident else None,
        siret=siret,
        siren=siren_of(siret),
        country="FR" if siret else None,
    )
    return enrich_organization(org)


def buyer_id(fields: dict[str, Any]) -> str | None:
    """The buyer's id as published, the first half of the consolidation's `uid`."""
    party = mapping(fields.get("acheteur")) or mapping(fields.get("autoriteConcedante"))
    return text(party.get("id"))


def winners(value: object, wrapper: str) -> list[Winner]:
    return [found for found in (_winner(item) for item in entries(value, wrapper)) if found]


def _winner(item: dict[str, Any]) -> Winner | None:
    ident = text(item.get("id"))
    name = clean_text(item.get("denominationSociale"))
    if ident is None and name is None:
        return None
    scheme = (text(item.get("typeIdentifiant")) or "").upper()
    siret = valid_siret(ident) if scheme in ("", "SIRET") else None
    if not scheme:
        scheme = "SIRET" if siret else "ORG"
    return Winner(
        name=name,
        identifier=Identifier(scheme=scheme, id=siret or ident) if ident else None,
        siret=siret,
        siren=siren_of(siret),
        country=_country(scheme, ident, siret),
    )


def _country(scheme: str, ident: str | None, siret: str | None) -> str | None:
    if siret:
        return "FR"
    if scheme == "TVA" and ident:
        match = _VAT_PREFIX.match(ident.replace(" ", "").upper())
        if match:
            return _VAT_COUNTRIES.get(match.group(1), match.group(1))
    return _SCHEME_COUNTRIES.get(scheme)
