"""Per-source state in the KV bucket: cursors, last runs, counts, HTTP validators.

Keys: `<source>` (the `SourceState`), `<source>.cursor.live` and `<source>.cursor.backfill`
(opaque strings owned by the harvester), `<source>.validators` (ETag / Last-Modified per URL),
`<source>.rejected.<sha256>` (a piece of a document already kept as a harvest dead letter).
A cursor is written only after every notice before it was acknowledged by JetStream.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from nats.js import JetStreamContext

from scope_shared.bus import KeyValueStore, NatsKeyValue, harvester_state_bucket
from scope_shared.schema.harvest import SourceState


class Validators(msgspec.Struct, frozen=True):
    etag: str | None = None
    last_modified: str | None = None


_state_decoder = msgspec.json.Decoder(SourceState)
_validators_decoder = msgspec.json.Decoder(dict[str, Validators])
_encoder = msgspec.json.Encoder()


class StateStore:
    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    @classmethod
    async def on_bus(cls, js: JetStreamContext) -> StateStore:
        """The states kept in the harvester's KV bucket, created on first use."""
        return cls(NatsKeyValue(await harvester_state_bucket(js)))

    async def load(self, source: str) -> SourceState:
        found = await self.store.get(source)
        return _state_decoder.decode(found[0]) if found else SourceState(source=source)

    async def save(self, state: SourceState) -> None:
        await self.store.put(state.source, _encoder.encode(state))

    async def cursor(self, source: str, lane: str) -> str | None:
        found = await self.store.get(f"{source}.cursor.{lane}")
        return found[0].decode() if found else None

    async def save_cursor(self, source: str, lane: str, cursor: str) -> None:
        await self.store.put(f"{source}.cursor.{lane}", cursor.encode())

    async def validators(self, source: str) -> dict[str, Validators]:
        found = await self.store.get(f"{source}.validators")
        return _validators_decoder.decode(found[0]) if found else {}

    async def save_validators(self, source: str, validators: dict[str, Validators]) -> None:
        await self.store.put(f"{source}.validators", _encoder.encode(validators))

    async def rejection_kept(self, source: str, digest: str) -> bool:
        """Whether this piece (by digest) was already kept as a harvest dead letter: the
        dead-letter stream's Msg-Id window is a day, and a feed or a bulletin's last day is
        read again for longer."""
        return await self.store.get(f"{source}.rejected.{digest}") is not None

    async def mark_rejection_kept(self, source: str, digest: str) -> None:
        # When, as the value: an empty value reads back as no entry.
        kept_at = datetime.now(UTC).isoformat().encode()
        await self.store.put(f"{source}.rejected.{digest}", kept_at)
