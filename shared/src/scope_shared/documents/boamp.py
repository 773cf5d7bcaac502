"""BOAMP documents: Opendatasoft record pages and exports, and DILA notice XML files.

Source: the `boamp` dataset of `boamp-datadila.opendatasoft.com` (Explore API v2.1 `records`
pages, `exports/json` and `exports/jsonl`) and DILA's open-data archives of notice XML files.
Format: a records page is `{"total_count", "results": [record, ...]}`; the `json` export is a
bare array of records; `jsonl` is one record per line; the v1 search API wraps each record as
`{"fields": record}`. A DILA file is one `<ANNONCE>` (Boamp_v230.xsd) per notice.
Caveats: a record is re-encoded as published (same keys, same order; `gestion` and `donnees`
stay JSON strings). `dateparution` is a bare date: `published_at` is that day's midnight in
French time, in UTC, as the normalizer reads it. Records without an `idweb` cannot be
identified: they are set aside and handed to `on_skipped` (a harvester dead-letters them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
from lxml import etree

from scope_shared.dates import parse_datetime
from scope_shared.documents.base import DocumentItem, OnRejected, RejectedItem
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
)
_ENCODER = msgspec.json.Encoder()


def split_records(data: bytes, *, on_skipped: OnRejected | None = None) -> Iterator[DocumentItem]:
    """One DocumentItem per BOAMP record of a records page, an export, or a single record.

    Args:
        data: The document bytes as fetched.
        on_skipped: Called with each record that has no `idweb` (or is not an object), so the
            caller keeps it instead of losing it silently.

    Raises:
        PermanentError: The document is neither JSON nor JSON lines, or holds no record list.
    """
    for position, (item, record) in enumerate(_records(data)):
        idweb = record.get("idweb") if record is not None else None
        if record is None or not isinstance(idweb, str) or not idweb.strip():
            if on_skipped is not None:
                an_object = record is not None
                reason = "the record has no idweb" if an_object else "the record is not an object"
                on_skipped(RejectedItem(
                    data=_ENCODER.encode(item), reason=reason,
                    field_path=f"$.results[{position}]" + (".idweb" if an_object else ""),
                ))  # fmt: skip
            continue
        yield DocumentItem(
            source_id=idweb.strip(),
            format=RawFormat.BOAMP_JSON,
            payload=_ENCODER.encode(record),
            published_at=parse_datetime(record.get("dateparution")),
        )


def _records(data: bytes) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """Each item of the document as found, with its record (None when it is no object)."""
    try:
        document: Any = msgspec.json.decode(data)
    except msgspec.DecodeError:
        document = _json_lines(data)
    if isinstance(document, dict):
        items = document.get("results", document.get("records", [document]))
    else:
        items = document
    if not isinstance(items, list):
        raise PermanentError("no BOAMP records in this document", field_path="$.results")
    for item in items:
        if not isinstance(item, dict):
            yield item, None
            continue
        fields = item.get("fields")
        yield item, fields if isinstance(fields, dict) and "idweb" not in item else item


def _json_lines(data: bytes) -> list[Any]:
    """The `jsonl` export: one record per line (a document that is not one JSON value)."""
    try:
        return [msgspec.json.decode(line) for line in data.splitlines() if line.strip()]
    except msgspec.DecodeError as exc:
        raise PermanentError(f"neither JSON nor JSON lines: {exc}", field_path="$") from exc


def parse_dila_xml(data: bytes) -> etree._Element:
    """The `<ANNONCE>` root of a DILA notice file (no external entity, comment or PI);
    PermanentError when the file is not well-formed or is another document."""
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise PermanentError(f"not well-formed XML: {exc}", field_path="/") from exc
    if etree.QName(root).localname != "ANNONCE":
        raise PermanentError("the root element is not ANNONCE", field_path="/")
    return root


def split_dila_xml(data: bytes) -> Iterator[DocumentItem]:
    """The one notice of a DILA `<ANNONCE>` file, its bytes untouched."""
    root = parse_dila_xml(data)
    idweb = root.findtext("GESTION/REFERENCE/IDWEB")
    if not idweb or not idweb.strip():
        raise PermanentError(
            "the notice has no IDWEB", field_path="/ANNONCE/GESTION/REFERENCE/IDWEB"
        )
    yield DocumentItem(
        source_id=idweb.strip(),
        format=RawFormat.BOAMP_XML,
        payload=data,
        published_at=parse_datetime(root.findtext("GESTION/INDEXATION/DATE_PUBLICATION")),
    )
