"""Watching the pipeline drain: raw notices stored, normalised, indexed."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from scope_shared.bus import (
    DEAD_STREAM,
    INDEXER_CONSUMER,
    NORMALIZER_CONSUMER,
    NOTICES_STREAM,
    RAW_STREAM,
)


@dataclass(frozen=True)
class PipelineState:
    raw: int
    notices: int
    dead: int
    normalizer_pending: int
    indexer_pending: int

    @property
    def drained(self) -> bool:
        return self.normalizer_pending == 0 and self.indexer_pending == 0


async def _pending(js: JetStreamContext, stream: str, consumer: str) -> int:
    try:
        info = await js.consumer_info(stream, consumer)
    except NotFoundError:
        return -1
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def _messages(js: JetStreamContext, stream: str) -> int:
    try:
        return int((await js.stream_info(stream)).state.messages)
    except NotFoundError:
        return 0


async def pipeline_state(js: JetStreamContext) -> PipelineState:
    return PipelineState(
        raw=await _messages(js, RAW_STREAM),
        notices=await _messages(js, NOTICES_STREAM),
        dead=await _messages(js, DEAD_STREAM),
        normalizer_pending=await _pending(js, RAW_STREAM, NORMALIZER_CONSUMER.durable),
        indexer_pending=await _pending(js, NOTICES_STREAM, INDEXER_CONSUMER.durable),
    )
