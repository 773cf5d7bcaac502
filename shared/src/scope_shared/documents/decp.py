"""DECP files (données essentielles de la commande publique) split into one payload per contract.

Source: buyer-profile platforms, the DGFiP PES Marché channel, AIFE, and the Ministry's
consolidated files on data.gouv.fr (FORMATS.md section 3).

Format:
    - 2019 (schema 1.x) JSON: `{"marches": [ {...}, ... ]}`, marchés and contrats de concession
      in one array. 2024 (schema 2.0.x) JSON: `{"marches": {"marche": [...],
      "contrat-concession": [...]}}`. The generation is told per file by the type of `marches`.
    - XML (both generations): `<marches>` holding `<marche>` and `<contrat-concession>`, or a
      lone `<marche>` as root. The generation is told per contract: 2024 when the contract
      has an element that only schema 2.0 defines (`_V2_ONLY_ELEMENTS`: among them
      `considerationsSociales` and `considerationsEnvironnementales`, mandatory for both
      kinds of contract in 2.0 and absent from 1.x). A contract missing all of them is read
      as 2019, which is harmless: both generations use the same XML wrappers.

Caveats:
    Consolidated files are gigabytes: both splitters stream (ijson events, lxml iterparse
    with elements cleared as they are read) and hold one contract at a time. JSON items are
    re-encoded with msgspec, numbers kept exact (ijson yields `Decimal`, written back as JSON
    numbers). The `source_id` is `uid` when the record has one, else the buyer's SIRET
    followed by the contract id, as the Ministry's consolidation builds `uid`.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO, Protocol

import ijson
import msgspec
from lxml import etree

from scope_shared.dates import parse_datetime
from scope_shared.documents.base import DocumentItem
from scope_shared.schema import RawFormat

_ENCODER = msgspec.json.Encoder(decimal_format="number")
"""Numbers come from ijson as `Decimal`; writing them as numbers keeps the published shape."""

_MAX_SOURCE_ID = 512
"""RawNotice.source_id's limit; a longer id is replaced by a digest rather than cut."""

_PEEK_LIMIT = 1 << 20
"""`marches` is the first or second key of every DECP file seen; a document that has not
opened it within 1 MiB is not DECP, and peeking further would hold it in memory."""

_JSON_2024_PREFIXES = frozenset({"marches.marche.item", "marches.contrat-concession.item"})
_CONTRACT_TAGS = ("{*}marche", "{*}contrat-concession")
_V2_ONLY_ELEMENTS = frozenset(
    {
        "considerationsSociales",
        "considerationsEnvironnementales",
        "techniques",
        "modalitesExecution",
        "typesPrix",
        "ccag",
        "offresRecues",
        "marcheInnovant",
        "attributionAvance",
        "tauxAvance",
        "typeGroupementOperateurs",
        "sousTraitanceDeclaree",
        "actesSousTraitance",
        "idAccordCadre",
        "origineUE",
        "origineFrance",
    }
)


def iter_decp_json(stream: BinaryIO) -> Iterator[DocumentItem]:
    """Each contract of a DECP JSON file, 2019 or 2024 layout, read as a stream.

    Raises:
        ValueError: The file has no top-level `marches` array or object.
        ijson.JSONError: The file is not well-formed JSON (raised where the defect is met,
            after the contracts before it have been yielded).
    """
    # Without a leading UTF-8 byte order mark, which ijson refuses (some publishers' exports
    # start with one; the XML parser reads it by itself).
    head = stream.read(len(codecs.BOM_UTF8))
    source = _Replay(head.removeprefix(codecs.BOM_UTF8), stream)
    recorder = _Recorder(source)
    generation = _json_generation(recorder)
    replay = _Replay(b"".join(recorder.chunks), source)
    records = (
        ijson.items(replay, "marches.item")
        if generation is RawFormat.DECP_2019_JSON
        else _items_2024(replay)
    )
    for record in records:
        if isinstance(record, dict):
            payload = _ENCODER.encode(record)
            yield DocumentItem(
                source_id=_source_id(record, payload),
                format=generation,
                payload=payload,
                published_at=parse_datetime(record.get("datePublicationDonnees")),
            )


def iter_decp_xml(stream: BinaryIO) -> Iterator[DocumentItem]:
    """Each `<marche>` and `<contrat-concession>` of a DECP XML file, read as a stream.

    Raises:
        lxml.etree.XMLSyntaxError: The file is not well-formed XML.
    """
    events = etree.iterparse(
        stream, events=("end",), tag=_CONTRACT_TAGS, resolve_entities=False, no_network=True
    )
    for _, element in events:
        fields = _xml_fields(element)
        payload = etree.tostring(element, encoding="UTF-8", with_tail=False)
        is_2024 = not _V2_ONLY_ELEMENTS.isdisjoint(fields)
        item = DocumentItem(
            source_id=_source_id(fields, payload),
            format=RawFormat.DECP_2024_XML if is_2024 else RawFormat.DECP_2019_XML,
            payload=payload,
            published_at=parse_datetime(fields.get("datePublicationDonnees")),
        )
        # Contracts already read are dropped so that memory stays flat over the whole file.
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]
        yield item


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Recorder:
    """Reads from a stream and keeps what it read, so that it can be read again."""

    def __init__(self, stream: _Readable) -> None:
        self._stream = stream
        self.chunks: list[bytes] = []
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.chunks.append(data)
        self.size += len(data)
        return data


class _Replay:
    """`head` first, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: _Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size < 0:
            data, self._head = self._head + self._stream.read(), b""
        else:
            data, self._head = self._head[:size], self._head[size:]
        return data


def _json_generation(recorder: _Recorder) -> RawFormat:
    """The layout, from the type of `marches`; parsing stops there, a few bytes in."""
    for prefix, event, _ in ijson.parse(recorder):
        if prefix == "marches":
            if event == "start_array":
                return RawFormat.DECP_2019_JSON
            if event == "start_map":
                return RawFormat.DECP_2024_JSON
            break
        if recorder.size > _PEEK_LIMIT:
            break
    raise ValueError("not a DECP JSON document: no top-level `marches` array or object")


def _items_2024(stream: Any) -> Iterator[Any]:
    """The items of both 2024 arrays in one pass (`ijson.items` takes a single prefix)."""
    builder: ijson.ObjectBuilder | None = None
    depth = 0
    for prefix, event, value in ijson.parse(stream):
        if builder is None:
            if event != "start_map" or prefix not in _JSON_2024_PREFIXES:
                continue
            builder = ijson.ObjectBuilder()
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        builder.event(event, value)
        if depth == 0:
            yield builder.value
            builder = None


def _xml_fields(element: Any) -> dict[str, Any]:
    """The contract's direct children by local name: text for leaves, the element for others."""
    fields: dict[str, Any] = {}
    for child in element:
        if isinstance(child.tag, str):
            name = etree.QName(child).localname
            fields[name] = child if len(child) else (child.text or "")
    return fields


def _text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _buyer_id(fields: dict[str, Any]) -> str:
    for key in ("acheteur", "autoriteConcedante"):
        party = fields.get(key)
        if isinstance(party, dict):
            found = _text(party.get("id"))
        elif party is not None and not isinstance(party, str):
            found = _text(party.findtext("{*}id"))
        else:
            found = ""
        if found:
            return found
    return ""


def _source_id(fields: dict[str, Any], payload: bytes) -> str:
    """`uid`, else buyer SIRET + contract id; a digest when the contract has no id at all
    (the mapper then dead-letters it, so nothing is dropped silently here)."""
    source_id = _text(fields.get("uid"))
    if not source_id:
        contract_id = _text(fields.get("id"))
        source_id = _buyer_id(fields) + contract_id if contract_id else ""
    if not source_id or len(source_id) > _MAX_SOURCE_ID:
        source_id = "sha256-" + hashlib.sha256(payload).hexdigest()
    return source_id
