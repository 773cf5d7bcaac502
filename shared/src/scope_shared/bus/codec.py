"""The bus encoding: JSON, one encoder and one decoder per type, built once."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from scope_shared.bus.headers import MSG_ID, RETRY_MSG_ID_PREFIX
from scope_shared.bus.topology import raw_subject
from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, RawNotice

encoder = msgspec.json.Encoder(decimal_format="number")
raw_decoder = msgspec.json.Decoder(RawNotice)
notice_decoder = msgspec.json.Decoder(Notice)


def encode(obj: object) -> bytes:
    return encoder.encode(obj)


def decode_raw(data: bytes) -> RawNotice:
    """Decode a raw-stream message; raises `msgspec.ValidationError` naming the bad field."""
    return raw_decoder.decode(data)


def decode_raw_message(
    data: bytes, subject: str, headers: Mapping[str, str] | None = None
) -> RawNotice:
    """Decode a message of the raw stream and check that it speaks for its own subject.

    A publisher's credentials bind it to `scope.raw.<source>` only, but the notice id comes
    from the body's `source`: a body naming another source would overwrite that source's
    notices. So the body's source must be the subject's, its object-store payload must be
    filed under that source, and its Msg-Id (when sent) must be the body's own (or a
    dead-letter retry's).

    Raises:
        msgspec.ValidationError: The body does not decode (naming the field).
        PermanentError: The body speaks for another source (naming the field).
    """
    raw = raw_decoder.decode(data)
    if subject != raw_subject(raw.source):
        raise PermanentError(f"source {raw.source!r} published on {subject}", field_path="$.source")
    if raw.payload_ref is not None and not raw.payload_ref.name.startswith(f"{raw.source}/"):
        raise PermanentError(
            f"payload {raw.payload_ref.name!r} is not filed under {raw.source}/",
            field_path="$.payload_ref.name",
        )
    sent = (headers or {}).get(MSG_ID)
    if sent is not None and sent != raw.msg_id and not sent.startswith(RETRY_MSG_ID_PREFIX):
        raise PermanentError(f"Msg-Id {sent!r} is not {raw.msg_id!r}", field_path=MSG_ID)
    return raw


def decode_notice(data: bytes) -> Notice:
    return notice_decoder.decode(data)
