"""The buyer (`acheteur` / `autoriteConcedante`) and the suppliers (`titulaires` /
`concessionnaires`) of a DECP contract."""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.formats.decp.record import Record, entries, mapping, text
from scope_normalizer.values.caches import file_cache
from scope_normalizer.values.identifiers import siren_of, valid_siret
from scope_normalizer.values.places import enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Identifier, Organization, Winner

_VAT_PREFIX = re.compile(r"^([A-Z]{2})[0-9A-Z]")
_SCHEME_COUNTRIES = {"TAHITI": "PF", "RIDET": "NC", "FRWF": "WF"}
"""Company registers of French Polynesia, New Caledonia and Wallis-et-Futuna."""
_VAT_COUNTRIES = {"EL": "GR", "XI": "GB"}
"""VAT prefixes that are not the ISO country code (Greece, Northern Ireland)."""


def buyer_party(record: Record) -> dict[str, Any]:
    """The buyer's object: `acheteur` of a marché, `autoriteConcedante` of a concession."""
    return mapping(record.acheteur) or mapping(record.autorite_concedante)


def buyer(party: dict[str, Any]) -> Organization | None:
    """The buyer; its `id` is a SIRET by definition of the format."""
    name = party.get("nom")
    return _buyer(text(party.get("id")), name if isinstance(name, str) else None)


@file_cache
def _buyer(ident: str | None, published_name: str | None) -> Organization | None:
    """Cached: a file holds a buyer's contracts by the dozen, and an Organization is immutable.

    DECP 2024 gives no buyer name, only the SIRET: the SIRET then stands as the name, since
    the schema requires one and it is what identifies the buyer to a reader.
    """
    name = clean_text(published_name)
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


def winners(value: object, wrapper: str) -> list[Winner]:
    found: list[Winner] = []
    for item in entries(value, wrapper):
        name = item.get("denominationSociale")
        winner = _winner(
            text(item.get("id")),
            name if isinstance(name, str) else None,
            text(item.get("typeIdentifiant")),
        )
        if winner is not None:
            found.append(winner)
    return found


@file_cache
def _winner(
    ident: str | None, published_name: str | None, scheme_text: str | None
) -> Winner | None:
    """Cached: suppliers recur across a buyer's contracts, and a Winner is immutable."""
    name = clean_text(published_name)
    if ident is None and name is None:
        return None
    scheme = (scheme_text or "").upper()
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
