"""Scope's bus contract on NATS JetStream: topology, encoding, publishing, the consumer runner."""

from scope_shared.bus import headers
from scope_shared.bus.codec import decode_notice, decode_raw, encode
from scope_shared.bus.connection import (
    connect,
    ensure_streams,
    ensure_topology,
    harvester_state_bucket,
    raw_payloads_store,
)
from scope_shared.bus.consumer import (
    BatchHandler,
    ConsumerRunner,
    MessageHandler,
    RunnerCounts,
    nak_delay,
    per_message,
)
from scope_shared.bus.publish import publish_dead_letter, publish_notice, publish_raw, raw_payload
from scope_shared.bus.topology import (
    DEAD_STREAM,
    HARVESTER_STATE_BUCKET,
    INDEXER_CONSUMER,
    NORMALIZER_CONSUMER,
    NOTICES_STREAM,
    RAW_PAYLOADS_BUCKET,
    RAW_STREAM,
    ConsumerSpec,
    Stage,
    dead_subject,
    notices_subject,
    raw_subject,
    source_of_subject,
    stream_configs,
)

__all__ = [
    "DEAD_STREAM",
    "HARVESTER_STATE_BUCKET",
    "INDEXER_CONSUMER",
    "NORMALIZER_CONSUMER",
    "NOTICES_STREAM",
    "RAW_PAYLOADS_BUCKET",
    "RAW_STREAM",
    "BatchHandler",
    "ConsumerRunner",
    "ConsumerSpec",
    "MessageHandler",
    "RunnerCounts",
    "Stage",
    "connect",
    "dead_subject",
    "decode_notice",
    "decode_raw",
    "encode",
    "ensure_streams",
    "ensure_topology",
    "harvester_state_bucket",
    "headers",
    "nak_delay",
    "notices_subject",
    "per_message",
    "publish_dead_letter",
    "publish_notice",
    "publish_raw",
    "raw_payload",
    "raw_payloads_store",
    "raw_subject",
    "source_of_subject",
    "stream_configs",
]
