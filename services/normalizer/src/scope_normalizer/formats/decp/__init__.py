"""DECP mappers: one contract of the données essentielles de la commande publique.

Source: buyer-profile platforms, the DGFiP PES Marché channel, AIFE and the Ministry's
consolidated files on data.gouv.fr; split by `scope_shared.documents.decp`.

Format: one `marche` or `contrat-concession` in four raw formats: schema 1.x (2019, contracts
notified until 2023) and 2.0.x (2024), each as JSON (re-encoded item) or XML (the element).
XML is read into the JSON shape of its generation (`record.py`) and every format goes through
the same `map_contract`: a DECP record is post-award data, so the notice is `contract_data`,
`complete`, with one award (the contract) and its modifications.

Caveats:
    - `nature` tells a framework agreement, not works/supplies/services: the contract nature
      of a marché comes from its CPV division (see `codes.contract_nature`).
    - Real exports carry dates with offsets, CPV codes with or without check digit, postal
      codes under `Code commune`, and mojibake, which is kept as published.
    - 2024 records give the buyer's SIRET but no name; the SIRET stands as the name.
"""

from __future__ import annotations

from scope_normalizer.formats.decp.contract import map_contract
from scope_normalizer.formats.decp.record import from_json, from_xml
from scope_shared.schema import Notice, RawNotice


def map_decp_2019_json(raw: RawNotice, payload: bytes) -> Notice:
    return map_contract(raw, from_json(payload))


def map_decp_2024_json(raw: RawNotice, payload: bytes) -> Notice:
    return map_contract(raw, from_json(payload))


def map_decp_2019_xml(raw: RawNotice, payload: bytes) -> Notice:
    return map_contract(raw, from_xml(payload, wrapped=False))


def map_decp_2024_xml(raw: RawNotice, payload: bytes) -> Notice:
    return map_contract(raw, from_xml(payload, wrapped=True))


__all__ = ["map_decp_2019_json", "map_decp_2019_xml", "map_decp_2024_json", "map_decp_2024_xml"]
