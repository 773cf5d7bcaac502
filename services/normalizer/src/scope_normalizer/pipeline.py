"""From a raw notice to its canonical version: map, link the procedure, version."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from scope_normalizer.formats import FORMATS
from scope_normalizer.linking import ProcedureLinker
from scope_normalizer.values.links import web_links
from scope_normalizer.versions import VersionLedger
from scope_shared.bus import KeyValueStore, MemoryKeyValue
from scope_shared.errors import PermanentError
from scope_shared.schema import RAW_SCHEMA_VERSION, Notice, RawNotice


@dataclass(frozen=True)
class Normalized:
    notice: Notice
    new_version: bool
    """False when this raw content was seen before (a re-harvest or a replay)."""


def map_raw(raw: RawNotice, payload: bytes) -> Notice:
    """Run the format's mapper: a Notice at version 1 with its own procedure key, its links
    web addresses only."""
    if raw.schema_version > RAW_SCHEMA_VERSION:
        raise PermanentError(
            f"raw schema version {raw.schema_version} is newer than this normalizer's "
            f"{RAW_SCHEMA_VERSION}: retry after upgrading",
            field_path="$.schema_version",
        )
    mapper = FORMATS.get(raw.format)
    if mapper is None:
        raise PermanentError(f"no mapper for format {raw.format}", field_path="$.format")
    return web_links(mapper(raw, payload))


class Normalizer:
    """Stateful part of normalisation, over any `KeyValueStore` (NATS KV or memory)."""

    def __init__(self, versions: KeyValueStore, procedures: KeyValueStore) -> None:
        self.ledger = VersionLedger(versions)
        self.linker = ProcedureLinker(procedures)

    @classmethod
    def in_memory(cls) -> Normalizer:
        return cls(MemoryKeyValue(), MemoryKeyValue())

    async def normalize(self, raw: RawNotice, payload: bytes) -> Normalized:
        notice = await self.linker.link(map_raw(raw, payload))
        version, new = await self.ledger.version_for(notice.id, raw.sha256)
        return Normalized(msgspec.structs.replace(notice, version=version), new)
