"""DECP payloads read into one `Record`, and tolerant readers for its values.

JSON is decoded straight into the Record, which declares the fields the mapper reads (the
others are skipped while decoding). XML is converted into the JSON shape of its own
generation, then into the Record: 2019 lists are plain arrays (`titulaires: [{...}]`), 2024
lists wrap each item like the XML does (`titulaires: [{"titulaire": {...}}]`,
`considerationsSociales: {"considerationSociale": [...]}`). The readers below accept both
shapes, and strings as well as numbers (XML has only strings), so the mapping logic is
written once for both generations and both syntaxes.
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


class Record(msgspec.Struct, rename="camel"):
    """The fields of a contract that the mapper reads, under their DECP names.

    Every field is `Any`: real exports put numbers where strings belong and objects where
    lists do, and the readers below check. A field absent from the payload is UNSET (null is
    None), which every reader takes as missing. A reader of another field declares it here.
    """

    type_: Any = msgspec.field(default=msgspec.UNSET, name="_type")
    id: Any = msgspec.UNSET
    objet: Any = msgspec.UNSET
    nature: Any = msgspec.UNSET
    procedure: Any = msgspec.UNSET
    code_cpv: Any = msgspec.field(default=msgspec.UNSET, name="codeCPV")
    ccag: Any = msgspec.UNSET
    techniques: Any = msgspec.UNSET
    considerations_sociales: Any = msgspec.UNSET
    considerations_environnementales: Any = msgspec.UNSET
    acheteur: Any = msgspec.UNSET
    autorite_concedante: Any = msgspec.UNSET
    titulaires: Any = msgspec.UNSET
    concessionnaires: Any = msgspec.UNSET
    lieu_execution: Any = msgspec.UNSET
    duree_mois: Any = msgspec.UNSET
    date_debut_execution: Any = msgspec.UNSET
    date_notification: Any = msgspec.UNSET
    date_signature: Any = msgspec.UNSET
    date_publication_donnees: Any = msgspec.UNSET
    montant: Any = msgspec.UNSET
    valeur_globale: Any = msgspec.UNSET
    offres_recues: Any = msgspec.UNSET
    modifications: Any = msgspec.UNSET
    id_accord_cadre: Any = msgspec.UNSET


class Contract(NamedTuple):
    kind: Kind
    record: Record


_RECORD = msgspec.json.Decoder(Record, float_hook=Decimal)
_JSON = msgspec.json.Decoder(float_hook=Decimal)
"""Amounts such as 21982.68 stay exact."""
_FIELDS = frozenset(field.encode_name for field in msgspec.structs.fields(Record))
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
        # Skipped fields are not checked by the decoder: this keeps a payload that is not
        # UTF-8 refused, as it was when every field was decoded.
        payload.decode()
        record = _RECORD.decode(payload)
    except (UnicodeDecodeError, msgspec.DecodeError, msgspec.ValidationError):
        # Not UTF-8, not JSON or not an object: the untyped decoder says which, as before.
        record = msgspec.convert(_json_object(payload), Record)
    return Contract(_json_kind(record), record)


def _json_kind(record: Record) -> Kind:
    """`_type` when the record says it (2019 and the consolidated files); else a concession
    is told by its own fields, given a value (an export may write them null on a marché)."""
    if record.type_ == "Contrat de concession":
        return Kind.CONCESSION
    if record.type_ == "Marché":
        return Kind.MARCHE
    concession = record.autorite_concedante not in (msgspec.UNSET, None) or (
        record.concessionnaires not in (msgspec.UNSET, None)
    )
    return Kind.CONCESSION if concession else Kind.MARCHE


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        record = _JSON.decode(payload)
    except msgspec.DecodeError as exc:
        raise PermanentError(f"payload is not JSON: {exc}", field_path="$") from exc
    if not isinstance(record, dict):
        raise PermanentError("a DECP contract is a JSON object", field_path="$")
    return record


def from_xml(payload: bytes, *, wrapped: bool) -> Contract:
    """`wrapped`: build the 2024 shape (list items wrapped in their element name)."""
    try:
        root = etree.fromstring(payload, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"payload is not well-formed XML: {exc}", field_path="/") from exc
    name = etree.QName(root).localname
    if name not in (Kind.MARCHE, Kind.CONCESSION):
        raise PermanentError(f"unexpected root element <{name}>", field_path="/")
    return Contract(Kind(name), msgspec.convert(_element_dict(root, wrapped, _FIELDS), Record))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _element_dict(
    element: etree._Element, wrapped: bool, only: frozenset[str] | None = None
) -> dict[str, Any]:
    """`only`: the names of the children to read (the Record's fields, for the contract)."""
    fields: dict[str, Any] = {}
    for child in element:
        tag = child.tag  # lxml builds a new string at each read
        if not isinstance(tag, str):
            continue
        name = _local(tag)
        if only is not None and name not in only:
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
