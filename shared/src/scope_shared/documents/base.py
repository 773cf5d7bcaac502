"""`DocumentItem`: one notice's payload cut out of a published document; `RejectedItem`: a
piece of one that names no notice, kept rather than dropped."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from scope_shared.schema import RawFormat, UtcDatetime


class DocumentItem(msgspec.Struct, frozen=True, kw_only=True):
    """One notice's payload, ready to be wrapped in a RawNotice.

    Attributes:
        source_id: The publisher's id of the notice (see `RawNotice.source_id`).
        format: The payload's format, which picks the normalizer's mapper.
        payload: The notice's bytes: the exact bytes for a whole-file notice (an XML notice),
            the re-encoded JSON value for an item cut out of a larger JSON document.
        published_at: The publication date the document gives, for cursors.
        attributes: Facts of the enclosing document a mapper needs (OCDS package publisher).
    """

    source_id: str
    format: RawFormat
    payload: bytes
    published_at: UtcDatetime | None = None
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class RejectedItem(msgspec.Struct, frozen=True, kw_only=True):
    """A piece of a published document that cannot become a notice (it has no id): the
    harvester keeps its bytes as a dead letter, with the reason, instead of dropping it.

    Attributes:
        data: The piece's bytes (the record or entry, re-encoded as JSON).
        reason: Why it was set aside.
        field_path: Where in the document (`$.results[3].idweb`).
    """

    data: bytes
    reason: str
    field_path: str


OnRejected = Callable[[RejectedItem], None]
