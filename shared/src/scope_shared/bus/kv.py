"""A small key-value interface with compare-and-set, over NATS KV or in memory.

The normalizer's version ledger and procedure index, and the harvester's cursors, are written
against this interface: the service runs on NATS KV (shared by every replica, durable), while
the offline `scope normalize` command and unit tests run the same logic in memory.
Keys may be any string: they are encoded to NATS KV's allowed alphabet.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue


class KeyValueStore(Protocol):
    async def get(self, key: str) -> tuple[bytes, int] | None:
        """The value and its revision, or None when absent."""

    async def create(self, key: str, value: bytes) -> bool:
        """Store only if absent; False when another writer got there first."""

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        """Store only if the key is still at `revision`; False on a concurrent change."""

    async def put(self, key: str, value: bytes) -> None:
        """Store unconditionally."""


def encode_key(key: str) -> str:
    """NATS KV keys allow `[-/_=.a-zA-Z0-9]`; ids hold `:` and more, so encode them."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_key(encoded: str) -> str | None:
    """The key `encode_key` encoded, or None for a key it did not write."""
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class NatsKeyValue:
    """`KeyValueStore` on a NATS KV bucket."""

    def __init__(self, bucket: KeyValue) -> None:
        self.bucket = bucket

    async def get(self, key: str) -> tuple[bytes, int] | None:
        try:
            entry = await self.bucket.get(encode_key(key))
        except KeyNotFoundError:
            return None
        if entry.value is None or entry.revision is None:
            return None
        return entry.value, entry.revision

    async def create(self, key: str, value: bytes) -> bool:
        try:
            await self.bucket.create(encode_key(key), value)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        try:
            await self.bucket.update(encode_key(key), value, last=revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def put(self, key: str, value: bytes) -> None:
        await self.bucket.put(encode_key(key), value)


class MemoryKeyValue:
    """`KeyValueStore` in a dict, for offline commands and tests."""

    def __init__(self) -> None:
        self.data: dict[str, tuple[bytes, int]] = {}
        self._revision = 0

    async def get(self, key: str) -> tuple[bytes, int] | None:
        return self.data.get(key)

    async def create(self, key: str, value: bytes) -> bool:
        if key in self.data:
            return False
        await self.put(key, value)
        return True

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        current = self.data.get(key)
        if current is None or current[1] != revision:
            return False
        await self.put(key, value)
        return True

    async def put(self, key: str, value: bytes) -> None:
        self._revision += 1
        self.data[key] = (value, self._revision)
