"""OCDS release and record packages, split into one release per DocumentItem.

Source: any OCDS 1.0/1.1 publisher (the French DECP conversion by decp-rama, national portals,
`links.next`-paged APIs).
Format: a release package `{uri, publishedDate, publisher, license, publicationPolicy, version,
extensions, releases: [...]}` or a record package `{..., records: [{ocid, releases,
compiledRelease, versionedRelease}]}` (OCDS 1.1.5 release-package and record-package schemas).
Caveats:
    - A record's `releases` may be *linked* releases (`{url, date, tag}`): their content is at
      another URL and cannot be mapped offline. They are skipped and reported through the
      `on_skipped` callback, so a harvester counts them instead of dropping them silently.
    - A record whose releases are all linked yields its `compiledRelease` instead (the current
      state of the process); a record with embedded releases does not, since the compiled
      release repeats them (and often reuses a release id).
    - JSON must be UTF-8 (RFC 8259) and msgspec decodes UTF-8 only; some publishers send
      ISO-8859-1. When the bytes are not valid UTF-8, they are transcoded from ISO-8859-1
      (which maps every byte, so nothing is lost). UTF-16/32 with a BOM are transcoded too.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import Any, Literal

import msgspec

from scope_shared.dates import parse_datetime
from scope_shared.documents.base import DocumentItem
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

PACKAGE_ATTRIBUTE = "package"
"""The DocumentItem attribute holding the package metadata as a JSON string."""

_METADATA_KEYS = (
    "uri",
    "publishedDate",
    "publisher",
    "license",
    "publicationPolicy",
    "version",
    "extensions",
)

SkipReason = Literal["linked", "versioned", "no_id"]


class SkippedRelease(msgspec.Struct, frozen=True, kw_only=True):
    """A release the splitter could not turn into a payload, reported for counting.

    Attributes:
        reason: `linked` (only a URL to the release), `versioned` (a record carrying only a
            versionedRelease) or `no_id` (an embedded release without ocid or id).
        ocid: The record's or release's ocid, when known.
        url: The linked release's URL.
        date: The linked release's date as published.
        tag: The linked release's tags.
    """

    reason: SkipReason
    ocid: str | None = None
    url: str | None = None
    date: str | None = None
    tag: list[str] = msgspec.field(default_factory=list)


class _Head(msgspec.Struct):
    """The few fields of a release (embedded or linked) the splitter needs."""

    ocid: Any = None
    id: Any = None
    date: Any = None
    url: Any = None
    tag: Any = None


class _Record(msgspec.Struct):
    ocid: Any = None
    releases: list[msgspec.Raw] | None = None
    # msgspec.Raw cannot sit in a union: an absent value is an empty Raw (see `_present`).
    compiledRelease: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # noqa: N815
    versionedRelease: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # noqa: N815


class _Package(msgspec.Struct):
    """The package: its metadata kept as decoded values, its releases as raw JSON slices."""

    uri: Any = None
    publishedDate: Any = None  # noqa: N815 - the OCDS field name
    publisher: Any = None
    license: Any = None
    publicationPolicy: Any = None  # noqa: N815 - the OCDS field name
    version: Any = None
    extensions: Any = None
    releases: list[msgspec.Raw] | None = None
    records: list[_Record] | None = None


class _Links(msgspec.Struct):
    links: Any = None


_PACKAGE = msgspec.json.Decoder(_Package)
_HEAD = msgspec.json.Decoder(_Head)
_LINKS = msgspec.json.Decoder(_Links)
_ENCODER = msgspec.json.Encoder()

OnSkipped = Callable[[SkippedRelease], None]


def utf8_json(data: bytes) -> bytes:
    """The document as UTF-8 bytes: BOMs removed, UTF-16/32 and ISO-8859-1 transcoded."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace").encode("utf-8")
    if data.isascii():
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _repaired(data)
    return data


def _repaired(data: bytes) -> bytes:
    """A document that is not valid UTF-8: read as ISO-8859-1 when it has no UTF-8 sequence
    at all, else as UTF-8 with only its bad bytes replaced (U+FFFD). Read whole as Latin-1, a
    UTF-8 package with one stray byte would garble every other release's accents, and so give
    each of them a new version."""
    text = data.decode("utf-8", errors="replace")
    if any(c > "\x7f" and c != "\ufffd" for c in text):
        return text.encode("utf-8")
    return data.decode("latin-1").encode("utf-8")


def split_package(data: bytes, *, on_skipped: OnSkipped | None = None) -> Iterator[DocumentItem]:
    """One DocumentItem per release of an OCDS release or record package.

    Args:
        data: The package bytes as fetched.
        on_skipped: Called once per release that yields no item (linked releases, records
            with only a versioned release, releases without an id), so the caller counts
            them.

    Raises:
        PermanentError: The document is not a JSON object or holds neither `releases` nor
            `records`.
    """
    text = utf8_json(data)
    try:
        package = _PACKAGE.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PermanentError(f"not an OCDS package: {exc}", field_path="$") from exc
    if package.releases is None and package.records is None:
        raise PermanentError("package has neither releases nor records", field_path="$")
    attributes = {PACKAGE_ATTRIBUTE: _package_metadata(package)}
    skip = on_skipped or _ignore
    for raw in package.releases or ():
        yield from _release_item(raw, None, attributes, skip)
    for record in package.records or ():
        yield from _record_items(record, attributes, skip)


def next_page_url(data: bytes) -> str | None:
    """`links.next` of a package (the OCDS paging convention), or None on the last page."""
    try:
        links = _LINKS.decode(utf8_json(data)).links
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    following = links.get("next") if isinstance(links, dict) else None
    return following.strip() or None if isinstance(following, str) else None


def _ignore(_: SkippedRelease) -> None:
    return None


def _package_metadata(package: _Package) -> str:
    kept = {key: getattr(package, key) for key in _METADATA_KEYS}
    return _ENCODER.encode({k: v for k, v in kept.items() if v is not None}).decode("utf-8")


def _record_items(
    record: _Record, attributes: dict[str, str], skip: OnSkipped
) -> Iterator[DocumentItem]:
    ocid = _text(record.ocid)
    embedded = 0
    for raw in record.releases or ():
        for item in _release_item(raw, ocid, attributes, skip):
            embedded += 1
            yield item
    if embedded:
        return
    if _present(record.compiledRelease):
        yield from _release_item(record.compiledRelease, ocid, attributes, skip)
    elif _present(record.versionedRelease):
        skip(SkippedRelease(reason="versioned", ocid=ocid))


def _release_item(
    raw: msgspec.Raw, record_ocid: str | None, attributes: dict[str, str], skip: OnSkipped
) -> Iterator[DocumentItem]:
    try:
        head = _HEAD.decode(raw)
    except msgspec.ValidationError:
        # Not a JSON object (a bare string or number in `releases`): nothing to map.
        skip(SkippedRelease(reason="no_id", ocid=record_ocid))
        return
    ocid = _text(head.ocid) or record_ocid
    release_id = _text(head.id)
    if release_id is None and isinstance(head.url, str):
        tags = (
            [tag for tag in head.tag if isinstance(tag, str)] if isinstance(head.tag, list) else []
        )
        date = head.date if isinstance(head.date, str) else None
        skip(SkippedRelease(reason="linked", ocid=ocid, url=head.url, date=date, tag=tags))
        return
    if ocid is None or release_id is None:
        skip(SkippedRelease(reason="no_id", ocid=ocid))
        return
    yield DocumentItem(
        source_id=f"{ocid}/{release_id}",
        format=RawFormat.OCDS_RELEASE,
        # Compact re-encoding of the slice (no object tree built): the same release
        # republished with other indentation keeps the same digest, so it is stored once.
        payload=msgspec.json.format(bytes(raw), indent=-1),
        published_at=parse_datetime(head.date),
        attributes=dict(attributes),
    )


def _present(raw: msgspec.Raw) -> bool:
    return len(raw) > 0 and bytes(raw) != b"null"


def _text(value: object) -> str | None:
    """An id as text: OCDS ids are strings, but some publishers write integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
