"""`RawNotice`: what a harvester publishes on `scope.raw.<source>`, one notice per message."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated

import msgspec

from scope_shared.schema.base import Model, Sha256Hex, SourceName, UtcDatetime
from scope_shared.schema.codes import RawFormat

RAW_SCHEMA_VERSION = 1
"""Bumped only for a breaking change; readers dead-letter a version they do not know."""


class PayloadRef(Model, frozen=True, kw_only=True):
    """Where a payload too large for one NATS message lives in the object store."""

    bucket: str
    name: str
    size: Annotated[int, msgspec.Meta(ge=0)]


class RawNotice(Model, frozen=True, kw_only=True):
    """One notice exactly as a source published it, with where and when it was fetched.

    The raw stream is Scope's archive: the normalizer can always re-read it (`scope replay`),
    so the payload is never altered. Exactly one of `payload` and `payload_ref` is set.

    Attributes:
        source: The registry name of the harvester (`france_boamp`); the subject token.
        source_id: The publisher's own id of the notice (BOAMP idweb, TED publication number,
            DECP uid, OCDS release id, feed entry id).
        format: How `payload` is encoded; picks the mapper.
        fetched_at: When the harvester received it (UTC).
        url: Where it was fetched from (an API page, a file, a feed).
        content_type: The media type of `payload` (`application/json`, `application/xml`).
        payload: The notice's bytes, base64 in JSON.
        payload_ref: Where the bytes are when they exceed the message size limit.
        sha256: Hex digest of the payload bytes; part of the deduplication id.
        run_id: The harvest run that fetched it, to trace a notice back to its run.
        published_at: The publication date the source gives, when it gives one (cursor hint).
        attributes: Small source facts a mapper may need and the payload lacks (`package`
            metadata of an OCDS release, an HTTP ETag).
    """

    schema_version: int = RAW_SCHEMA_VERSION
    source: SourceName
    source_id: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    format: RawFormat
    fetched_at: UtcDatetime
    url: str
    content_type: str
    payload: bytes | None = None
    payload_ref: PayloadRef | None = None
    sha256: Sha256Hex
    run_id: str
    published_at: UtcDatetime | None = None
    attributes: dict[str, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.payload_ref is None):
            raise ValueError("exactly one of `payload` and `payload_ref` must be set")

    @property
    def msg_id(self) -> str:
        """The JetStream deduplication id: the same content of the same notice is stored once."""
        return f"{self.source}:{self.source_id}:{self.sha256}"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_raw_notice(
    *,
    source: str,
    source_id: str,
    format: RawFormat,
    payload: bytes,
    url: str,
    content_type: str,
    run_id: str,
    published_at: datetime | None = None,
    attributes: dict[str, str] | None = None,
    fetched_at: datetime | None = None,
) -> RawNotice:
    """Build a RawNotice around in-message bytes, computing the digest once."""
    return RawNotice(
        source=source,
        source_id=source_id,
        format=format,
        fetched_at=fetched_at or datetime.now(UTC),
        url=url,
        content_type=content_type,
        payload=payload,
        sha256=sha256_hex(payload),
        run_id=run_id,
        published_at=published_at,
        attributes=attributes or {},
    )
