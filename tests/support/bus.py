"""Helpers for bus tests on the real nats-server."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from scope_shared.bus import (
    DEAD_STREAM,
    KV_BUCKETS,
    NOTICES_STREAM,
    RAW_PAYLOADS_BUCKET,
    RAW_STREAM,
    decode_raw,
)
from scope_shared.schema import RawNotice


async def reset_bus(js: JetStreamContext) -> None:
    """Delete Scope's streams and buckets so that each test starts from an empty server."""
    for name in (RAW_STREAM, NOTICES_STREAM, DEAD_STREAM):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
    for bucket in KV_BUCKETS:
        with contextlib.suppress(NotFoundError):
            await js.delete_key_value(bucket)
    with contextlib.suppress(NotFoundError):
        await js.delete_object_store(RAW_PAYLOADS_BUCKET)


async def stream_messages(js: JetStreamContext, stream: str) -> int:
    info = await js.stream_info(stream)
    return int(info.state.messages)


async def published_raws(js: JetStreamContext) -> list[RawNotice]:
    """Every raw notice in the raw stream, in stream order."""
    info = await js.stream_info(RAW_STREAM)
    return [
        decode_raw((await js.get_msg(RAW_STREAM, seq)).data)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]


async def published_ids(js: JetStreamContext) -> list[str]:
    """The source ids of every raw notice in the raw stream, sorted."""
    return sorted(raw.source_id for raw in await published_raws(js))
