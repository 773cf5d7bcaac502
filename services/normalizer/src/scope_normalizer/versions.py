"""The version ledger: which raw contents a notice has had, so each new content gets the next
version and a content seen before keeps its version (re-harvests and replays make none)."""

from __future__ import annotations

import msgspec

from scope_shared.bus import KeyValueStore
from scope_shared.errors import RetryableError


class VersionRecord(msgspec.Struct, frozen=True):
    digests: list[str]
    """Raw sha256 of version 1, 2, ... in order."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(VersionRecord)

CAS_ATTEMPTS = 5
"""Two replicas rarely race on one notice; a few re-reads settle it, else the message is
redelivered later."""


class VersionLedger:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    async def version_for(self, notice_id: str, digest: str) -> tuple[int, bool]:
        """The version of this content of the notice, and whether it is new.

        Compare-and-set on the ledger, so concurrent replicas never give two contents the same
        version.
        """
        for _ in range(CAS_ATTEMPTS):
            current = await self.store.get(notice_id)
            if current is None:
                record = VersionRecord(digests=[digest])
                if await self.store.create(notice_id, _encoder.encode(record)):
                    return 1, True
                continue
            record = _decoder.decode(current[0])
            if digest in record.digests:
                return record.digests.index(digest) + 1, False
            updated = VersionRecord(digests=[*record.digests, digest])
            if await self.store.update(notice_id, _encoder.encode(updated), current[1]):
                return len(updated.digests), True
        raise RetryableError(f"version ledger contended for {notice_id}")
