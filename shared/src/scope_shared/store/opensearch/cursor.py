"""Opaque paging cursors: the sort values of a page's last hit, for `search_after`.

The cursor also names the sort order and whether hits were procedures, so that a cursor
replayed with another sort is refused (InvalidCursor) instead of silently skipping hits, and
the store, since the embedded store's cursors have the same shape with dates in microseconds
(cursors made before the name was added have none, and are read as before).
"""

from __future__ import annotations

import base64
import binascii

import msgspec

from scope_shared.store.contract import InvalidCursor

SortValue = str | int | float | None


STORE_NAME = "opensearch"


class Cursor(msgspec.Struct, frozen=True, array_like=True, forbid_unknown_fields=True):
    sort: str
    grouped: bool
    after: list[SortValue]
    store: str | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Cursor)


def encode_cursor(sort: str, grouped: bool, after: list[SortValue]) -> str:
    raw = _encoder.encode(Cursor(sort=sort, grouped=grouped, after=after, store=STORE_NAME))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, *, sort: str, grouped: bool, length: int) -> list[SortValue]:
    """The `search_after` values of a cursor made for this sort; InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = _decoder.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise InvalidCursor(f"invalid cursor: {exc}") from None
    if cursor.store not in (None, STORE_NAME):
        raise InvalidCursor("invalid cursor: made by another kind of store; start again")
    if cursor.sort != sort or cursor.grouped != grouped or len(cursor.after) != length:
        raise InvalidCursor("invalid cursor: it was made for another sort order or view")
    return cursor.after
