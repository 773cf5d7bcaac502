"""Which document a file is, and its notices: for `scope normalize` on files as harvested.

Detection reads the XML root element or the JSON top-level keys; `--format` overrides it.
Splitting uses the same `scope_shared.documents` functions as the harvesters, so a file gives
the same notices, with the same ids, as harvesting it would.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator

import msgspec
from lxml import etree

from scope_shared.documents import DocumentItem, OnRejected, boamp, decp, eforms, ocds, rss, ted
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

Skipped = Callable[[str], None]
"""Told why each notice of a file could not be identified (and so was not split out)."""
Splitter = Callable[[bytes, str, Skipped], Iterator[DocumentItem]]


def _told(skipped: Skipped) -> OnRejected:
    """A splitter's set-aside pieces, told by where they are and why."""
    return lambda rejected: skipped(f"{rejected.field_path}: {rejected.reason}")


def _boamp_json(data: bytes, _: str, skipped: Skipped) -> Iterator[DocumentItem]:
    return boamp.split_records(data, on_skipped=_told(skipped))


def _boamp_xml(data: bytes, _: str, __: Skipped) -> Iterator[DocumentItem]:
    return boamp.split_dila_xml(data)


def _eforms(data: bytes, _: str, __: Skipped) -> Iterator[DocumentItem]:
    return eforms.split_eforms(data)


def _ted_xml(data: bytes, _: str, __: Skipped) -> Iterator[DocumentItem]:
    return ted.split_ted_export(data)


def _ted_api(data: bytes, _: str, skipped: Skipped) -> Iterator[DocumentItem]:
    return ted.split_search_response(data, on_skipped=_told(skipped))


def _decp_json(data: bytes, _: str, __: Skipped) -> Iterator[DocumentItem]:
    return decp.iter_decp_json(io.BytesIO(data))


def _decp_xml(data: bytes, _: str, __: Skipped) -> Iterator[DocumentItem]:
    return decp.iter_decp_xml(io.BytesIO(data))


def _ocds(data: bytes, _: str, skipped: Skipped) -> Iterator[DocumentItem]:
    def report(release: ocds.SkippedRelease) -> None:
        skipped(f"OCDS release skipped ({release.reason}): {release.ocid or release.url or '?'}")

    return ocds.split_package(data, on_skipped=report)


def _rss(data: bytes, location: str, skipped: Skipped) -> Iterator[DocumentItem]:
    return rss.split_feed(data, location, on_skipped=_told(skipped))


SPLITTERS: dict[RawFormat, Splitter] = {
    RawFormat.BOAMP_JSON: _boamp_json,
    RawFormat.BOAMP_XML: _boamp_xml,
    RawFormat.EFORMS_XML: _eforms,
    RawFormat.TED_XML: _ted_xml,
    RawFormat.TED_API_JSON: _ted_api,
    RawFormat.DECP_2019_JSON: _decp_json,
    RawFormat.DECP_2024_JSON: _decp_json,
    RawFormat.DECP_2019_XML: _decp_xml,
    RawFormat.DECP_2024_XML: _decp_xml,
    RawFormat.OCDS_RELEASE: _ocds,
    RawFormat.RSS_ITEM: _rss,
}
"""`--format` -> how to split a file of that format (DECP generations are told per contract)."""


_XML_ROOTS = {
    "ANNONCE": RawFormat.BOAMP_XML,
    "TED_EXPORT": RawFormat.TED_XML,
    "marches": RawFormat.DECP_2019_XML,
    "marche": RawFormat.DECP_2019_XML,
    "contrat-concession": RawFormat.DECP_2019_XML,
    "rss": RawFormat.RSS_ITEM,
    "feed": RawFormat.RSS_ITEM,
    "RDF": RawFormat.RSS_ITEM,
}
"""XML root local names -> format, besides eForms' roots (`eforms.EFORMS_ROOTS`)."""


def detect_format(data: bytes) -> RawFormat:
    """The document family of a file, from its XML root or its JSON keys."""
    head = data.removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if head == b"<":
        return _xml_format(data)
    if head in (b"{", b"["):
        return _json_format(data)
    raise PermanentError("neither XML nor JSON")


def _xml_format(data: bytes) -> RawFormat:
    try:
        events = etree.iterparse(
            io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True
        )
        _, root = next(iter(events))
    except (etree.XMLSyntaxError, StopIteration) as exc:
        raise PermanentError(f"unreadable XML: {exc}") from exc
    name = etree.QName(root).localname
    if name in eforms.EFORMS_ROOTS:
        return RawFormat.EFORMS_XML
    if name in _XML_ROOTS:
        return _XML_ROOTS[name]
    raise PermanentError(f"unknown XML document <{name}>")


def _absent() -> msgspec.Raw:
    return msgspec.Raw()


class _Keys(msgspec.Struct):
    """Only the top-level keys that tell the families apart (an absent key is an empty Raw:
    msgspec.Raw cannot sit in a union with None)."""

    results: msgspec.Raw = msgspec.field(default_factory=_absent)
    idweb: msgspec.Raw = msgspec.field(default_factory=_absent)
    notices: msgspec.Raw = msgspec.field(default_factory=_absent)
    releases: msgspec.Raw = msgspec.field(default_factory=_absent)
    records: msgspec.Raw = msgspec.field(default_factory=_absent)
    marches: msgspec.Raw = msgspec.field(default_factory=_absent)


_keys_decoder = msgspec.json.Decoder(_Keys | list[msgspec.Raw])


def _json_format(data: bytes) -> RawFormat:
    try:
        keys = _keys_decoder.decode(ocds.utf8_json(data))
    except msgspec.DecodeError as exc:
        if _is_json_lines(data):
            return RawFormat.BOAMP_JSON  # a BOAMP `exports/jsonl` file: one record per line
        raise PermanentError(f"unreadable JSON: {exc}") from exc
    if isinstance(keys, list):
        return RawFormat.BOAMP_JSON
    if keys.results or keys.idweb:
        return RawFormat.BOAMP_JSON
    if keys.notices:
        return RawFormat.TED_API_JSON
    if keys.releases or keys.records:
        return RawFormat.OCDS_RELEASE
    if keys.marches:
        return RawFormat.DECP_2019_JSON
    raise PermanentError("unknown JSON document (no results, notices, releases or marches)")


def _is_json_lines(data: bytes) -> bool:
    lines = [line for line in data.splitlines() if line.strip()]
    try:
        return len(lines) > 1 and all(isinstance(msgspec.json.decode(x), dict) for x in lines[:2])
    except msgspec.DecodeError:
        return False


def split_file(
    data: bytes, location: str, fmt: RawFormat | None = None, *, skipped: Skipped | None = None
) -> list[DocumentItem]:
    """The notices of one file, its format detected unless given.

    Args:
        skipped: Told of each notice the file holds but that cannot be identified.

    Raises:
        PermanentError: The file is not a document of a known format, or is cut or malformed
            (the splitters' own errors, whatever the format).
    """
    body = data.removeprefix(codecs.BOM_UTF8)
    split = SPLITTERS[fmt or detect_format(body)]
    try:
        return list(split(body, location, skipped or (lambda _: None)))
    except PermanentError:
        raise
    except (ValueError, etree.XMLSyntaxError, msgspec.DecodeError) as exc:
        # ijson's errors are ValueErrors; a DECP file cut short fails midway.
        raise PermanentError(f"unreadable document: {type(exc).__name__}: {exc}") from exc
