"""The bus encoding: JSON, one encoder and one decoder per type, built once."""

from __future__ import annotations

import msgspec

from scope_shared.schema import Notice, RawNotice

encoder = msgspec.json.Encoder(decimal_format="number")
raw_decoder = msgspec.json.Decoder(RawNotice)
notice_decoder = msgspec.json.Decoder(Notice)


def encode(obj: object) -> bytes:
    return encoder.encode(obj)


def decode_raw(data: bytes) -> RawNotice:
    """Decode a raw-stream message; raises `msgspec.ValidationError` naming the bad field."""
    return raw_decoder.decode(data)


def decode_notice(data: bytes) -> Notice:
    return notice_decoder.decode(data)
