"""DECP payloads read into one dict shape, and tolerant readers for its values.

XML is converted into the JSON shape of its own generation: 2019 lists are plain arrays
(`titulaires: [{...}]`), 2024 lists wrap each item like the XML does (`titulaires:
[{"titulaire": {...}}]`, `considerationsSociales: {"considerationSociale": [...]}`), but for
the parts no Notice field takes (`_NOT_MAPPED`). The readers below accept both shapes, and
strings as well as numbers (XML has only strings), so the mapping logic is written once for
both generations and both syntaxes.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

import msgspec
from lxml import etree

from scope_shared.errors import PermanentError


class Kind(StrEnum):
    """The two kinds of contract, named as the XML elements and the 2024 JSON arrays are."""

    MARCHE = "marche"
    CONCESSION = "contrat-concession"


class Contract(NamedTuple):
    kind: Kind
    fields: dict[str, Any]


_JSON = msgspec.json.Decoder(float_hook=Decimal)
"""Amounts such as 21982.68 stay exact."""
_XML_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    remove_comments=True,
    remove_pis=True,
    # The indentation between elements is not stored (10-20% of the parse): a leaf's text
    # is read stripped, so a blank one reads None whether it is kept or not.
    remove_blank_text=True,
)
_OBJECT_LISTS = frozenset({"titulaires", "concessionnaires", "modifications"})
_NOT_MAPPED = frozenset(
    {"donneesExecution", "actesSousTraitance", "modificationsActesSousTraitance"}
)
"""2024 execution data (yearly figures, tariffs) and subcontracting acts: no Notice field
takes them, and they are a fifth of a contract's elements, so the XML reader skips them."""
_VALUE_LISTS = frozenset(
    {
        "considerationsSociales",
        "considerationsEnvironnementales",
        "techniques",
        "modalitesExecution",
        "typesPrix",
    }
)
_MAX_DIGITS = 18
"""Counts (months, offers) never come close; a longer number is a defect, not a value."""
_TRUE = frozenset({"oui", "true", "1"})
_FALSE = frozenset({"non", "false", "0"})


def from_json(payload: bytes) -> Contract:
    try:
        record = _JSON.decode(payload)
    except msgspec.DecodeError as exc:
        raise PermanentError(f"payload is not JSON: {exc}", field_path="$") from exc
    if not isinstance(record, dict):
        raise PermanentError("a DECP contract is a JSON object", field_path="$")
    concession = (
        record.get("_type") == "Contrat de concession"
        or "autoriteConcedante" in record
        or "concessionnaires" in record
    )
    return Contract(Kind.CONCESSION if concession else Kind.MARCHE, record)


def from_xml(payload: bytes, *, wrapped: bool) -> Contract:
    """`wrapped`: build the 2024 shape (list items wrapped in their element name)."""
    try:
        root = etree.fromstring(payload, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"payload is not well-formed XML: {exc}", field_path="/") from exc
    name = etree.QName(root).localname
    if name not in (Kind.MARCHE, Kind.CONCESSION):
        raise PermanentError(f"unexpected root element <{name}>", field_path="/")
    return Contract(Kind(name), _element_dict(root, wrapped))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _element_dict(element: etree._Element, wrapped: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in element:
        tag = child.tag  # lxml builds a new string at each read
        if not isinstance(tag, str):
            continue
        name = _local(tag)
        if name in _NOT_MAPPED:
            continue
        if name in _OBJECT_LISTS:
            fields[name] = [
                {_local(item.tag): _value(item, wrapped)} if wrapped else _value(item, wrapped)
                for item in child
                if isinstance(item.tag, str)
            ]
        elif name in _VALUE_LISTS:
            values: dict[str, list[Any]] = {}
            for item in child:
                if isinstance(item.tag, str):
                    values.setdefault(_local(item.tag), []).append(_value(item, wrapped))
            fields[name] = values
        elif len(child):
            fields[name] = _element_dict(child, wrapped)
        else:
            # `_value` inlined for the leaves, most of a contract's elements.
            fields[name] = (child.text or "").strip() or None
    return fields


def _value(element: etree._Element, wrapped: bool) -> Any:
    if len(element):
        return _element_dict(element, wrapped)
    return (element.text or "").strip() or None


def text(value: object) -> str | None:
    """A string or an integer as stripped text; None for anything else or empty."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def integer(value: object) -> int | None:
    """`12`, `12.0`, `"12"` -> 12; None when not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, Decimal):
        whole = value.is_finite() and value.adjusted() < _MAX_DIGITS
        return int(value) if whole and value == value.to_integral_value() else None
    if isinstance(value, str):
        stripped = value.strip()
        digits = stripped.isascii() and stripped.isdigit() and len(stripped) <= _MAX_DIGITS
        return int(stripped) if digits else None
    return None


def boolean(value: object) -> bool | None:
    """JSON `true`/`false`, XML `oui`/`non`."""
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def entries(value: object, wrapper: str) -> list[dict[str, Any]]:
    """The objects of a DECP list: `[{...}]` (2019) or `[{"titulaire": {...}}]` (2024).

    A lone object where a list belongs is read as a list of one.
    """
    if isinstance(value, dict):
        inner = value.get(wrapper, value) if len(value) == 1 else value
        value = inner if isinstance(inner, list) else [inner]
    if not isinstance(value, list):
        return []
    found: list[dict[str, Any]] = []
    for item in value:
        if isinstance(item, dict):
            inner = item.get(wrapper) if len(item) == 1 else None
            found.append(inner if isinstance(inner, dict) else item)
    return found


def strings(value: object, wrapper: str) -> list[str]:
    """The texts of a 2024 value list: `{"considerationSociale": [...]}`, or a bare list."""
    if isinstance(value, dict):
        value = value.get(wrapper)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [found for found in (text(item) for item in value) if found]
