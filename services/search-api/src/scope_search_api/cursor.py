"""The API's paging cursor: the store's cursor, bound to the query it belongs to.

Opaque to clients (URL-safe base64 of a small JSON array). It carries a fingerprint of the
query, so a cursor replayed with other filters is a 400 instead of a wrong page, and the
reference time of `open=true`, so that every page of one paging run agrees on what is open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime

import msgspec

from scope_search_api.param_table import DEFAULT_FACET_SIZE, DEFAULT_PAGE_SIZE
from scope_search_api.problems import invalid
from scope_shared.store import SearchQuery


class _Cursor(msgspec.Struct, frozen=True, array_like=True):
    store: str
    fingerprint: str
    now: datetime | None = None


_encoder = msgspec.json.Encoder()
_cursor_decoder = msgspec.json.Decoder(_Cursor)


def fingerprint(query: SearchQuery) -> str:
    """What makes a cursor valid: the query without its paging and display options."""
    stripped = msgspec.structs.replace(
        query, cursor=None, now=None, page_size=DEFAULT_PAGE_SIZE, facets=[],
        facet_size=DEFAULT_FACET_SIZE, highlight=False,
    )  # fmt: skip
    return hashlib.blake2b(_encoder.encode(stripped), digest_size=8).hexdigest()


def encode_cursor(store_cursor: str, query: SearchQuery) -> str:
    payload = _encoder.encode(_Cursor(store_cursor, fingerprint(query), query.now))
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(text: str) -> _Cursor:
    try:
        payload = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return _cursor_decoder.decode(payload)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise invalid("cursor", "not a cursor returned by this API") from None
