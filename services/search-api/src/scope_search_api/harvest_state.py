"""Reading harvester states from the NATS KV bucket `scope_harvester_state`.

The harvester writes one JSON `SourceState` per source under the key `<source>` (plus cursor
and validator keys `<source>.cursor.<lane>`, `<source>.validators`), each key encoded with
`scope_shared.bus.kv.encode_key`. Both sides use the one `SourceState` of
`scope_shared.schema.harvest`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import msgspec
from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue

from scope_search_api.views import SourceList, SourceStatus
from scope_shared.bus.kv import decode_key
from scope_shared.schema.harvest import SourceState

_decoder = msgspec.json.Decoder(SourceState)


def _state_keys(keys: list[str]) -> list[str]:
    """Keys holding a source's state: the decoded name is a bare source name (no `.`)."""
    found = []
    for key in keys:
        name = decode_key(key)
        if name and "." not in name:
            found.append(key)
    return found


async def _read(bucket: KeyValue, key: str) -> SourceState | None:
    try:
        entry = await bucket.get(key)
    except KeyNotFoundError:  # deleted between listing and reading (also KeyDeletedError)
        return None
    if entry.value is None:
        return None
    try:
        return _decoder.decode(entry.value)
    except msgspec.DecodeError:
        return None


def _view(state: SourceState, now: datetime) -> SourceStatus:
    lag = (now - state.last_published_at).total_seconds() if state.last_published_at else None
    return SourceStatus(
        source=state.source,
        kind=state.kind or state.source,
        status=state.status,
        last_run_started_at=state.last_run_started_at,
        last_run_finished_at=state.last_run_finished_at,
        last_success_at=state.last_success_at,
        last_published_at=state.last_published_at,
        lag_seconds=round(lag, 3) if lag is not None else None,
        last_error=state.last_error,
        last_error_at=state.last_error_at,
        last_run=state.last_run,
        totals=state.totals,
    )


async def read_sources(bucket: KeyValue, now: datetime) -> SourceList:
    """Every source with a state in the bucket; keys that are not a state JSON are skipped."""
    try:
        keys = await bucket.keys()
    except NoKeysError:
        keys = []
    states = await asyncio.gather(*(_read(bucket, key) for key in _state_keys(keys)))
    views = sorted((_view(s, now) for s in states if s is not None), key=lambda v: v.source)
    return SourceList(sources=views, checked_at=now)
