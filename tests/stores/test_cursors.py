"""Each store's paging cursor is refused by the other: they share one shape, but the embedded
store keeps dates in microseconds and OpenSearch in milliseconds, so a cursor carried across
(an operator moving a deployment from one to the other) would page wrongly, silently."""

from __future__ import annotations

import base64

import pytest

from scope_shared.store import InvalidCursor
from scope_shared.store.embedded import cursor as embedded
from scope_shared.store.embedded.query import SortKey
from scope_shared.store.opensearch import cursor as opensearch

KEYS: list[SortKey] = [("published_key", True, int), ("id", False, str)]


def test_a_cursor_of_one_store_is_refused_by_the_other() -> None:
    from_embedded = embedded.encode_cursor("newest", False, [1_700_000_000_000_000, "x:1"])
    from_opensearch = opensearch.encode_cursor("newest", False, [1_700_000_000_000, "x:1"])
    with pytest.raises(InvalidCursor, match="another kind of store"):
        opensearch.decode_cursor(from_embedded, sort="newest", grouped=False, length=2)
    with pytest.raises(InvalidCursor, match="another kind of store"):
        embedded.decode_cursor(from_opensearch, "newest", False, KEYS)
    assert embedded.decode_cursor(from_embedded, "newest", False, KEYS) == [
        1_700_000_000_000_000,
        "x:1",
    ]


def test_a_cursor_made_before_stores_named_themselves_is_still_read() -> None:
    legacy = base64.urlsafe_b64encode(b'["newest",false,[1700000000000,"x:1"]]').decode()
    assert opensearch.decode_cursor(legacy, sort="newest", grouped=False, length=2) == [
        1_700_000_000_000,
        "x:1",
    ]
    assert embedded.decode_cursor(legacy, "newest", False, KEYS) == [1_700_000_000_000, "x:1"]
