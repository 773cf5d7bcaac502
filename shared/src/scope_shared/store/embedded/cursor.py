"""The opaque paging cursor: base64url of msgspec JSON
`[sort, grouped, [last hit's sort key], "embedded"]`.

The sort order and grouping are inside the cursor so that a cursor reused with another sort
is refused (InvalidCursor) instead of silently skipping or repeating hits; so is the store's
name, since OpenSearch's cursors have the same shape but keep dates in milliseconds, not
microseconds (cursors made before the name was added have none, and are read as before).
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from scope_shared.store.contract import InvalidCursor
from scope_shared.store.embedded.query import SortKey

STORE_NAME = "embedded"


class _Payload(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    sort: str
    grouped: bool
    values: list[int | float | str]
    store: str | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Payload)


def encode_cursor(sort: str, grouped: bool, values: list[object]) -> str:
    payload = _encoder.encode([sort, grouped, values, STORE_NAME])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: str, grouped: bool, keys: list[SortKey]) -> list[object]:
    """The sort key values in `cursor`; InvalidCursor when it is not one of ours for this query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = _decoder.decode(raw)
    except (binascii.Error, msgspec.DecodeError, ValueError) as exc:
        raise InvalidCursor("bad cursor: not a cursor of this store") from exc
    if payload.store not in (None, STORE_NAME):
        raise InvalidCursor("bad cursor: made by another kind of store; start again")
    values = payload.values
    if payload.sort != sort or payload.grouped != grouped or len(values) != len(keys):
        raise InvalidCursor("bad cursor: it belongs to another sort order or grouping")
    checked: list[object] = []
    for value, (_, _, kind) in zip(values, keys, strict=True):
        if kind is float and isinstance(value, int | float):
            checked.append(float(value))
        elif isinstance(value, kind):
            checked.append(value)
        else:
            raise InvalidCursor("bad cursor: a sort value has the wrong type")
    return checked
