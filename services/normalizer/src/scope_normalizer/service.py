"""The normalizer service: raw stream in, canonical notices out, dead letters for the rest."""

from __future__ import annotations

import asyncio

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from prometheus_client import Counter

from scope_normalizer.pipeline import Normalizer
from scope_normalizer.settings import NormalizerSettings
from scope_shared.bus import (
    NORMALIZER_CONSUMER,
    NOTICE_VERSIONS_BUCKET,
    PROCEDURES_BUCKET,
    ConsumerRunner,
    NatsKeyValue,
    Stage,
    decode_raw_message,
    kv_bucket,
    open_jetstream,
    per_message,
    publish_notice,
    raw_payload,
)
from scope_shared.config import load_settings
from scope_shared.lifecycle import run_worker
from scope_shared.logging import get_logger

NOTICES = Counter(
    "scope_normalizer_notices_total",
    "Raw notices normalized, by source and outcome (new_version, known_version).",
    ["source", "outcome"],
)

log = get_logger(stage=Stage.NORMALIZE)


async def open_normalizer(js: JetStreamContext) -> Normalizer:
    """The normalizer on the bus's KV buckets: notice versions and procedure keys."""
    return Normalizer(
        NatsKeyValue(await kv_bucket(js, NOTICE_VERSIONS_BUCKET)),
        NatsKeyValue(await kv_bucket(js, PROCEDURES_BUCKET)),
    )


async def run_normalizer(settings: NormalizerSettings, stop: asyncio.Event) -> None:
    async with open_jetstream(settings, "scope-normalizer") as js:
        normalizer = await open_normalizer(js)

        async def handle(msg: Msg) -> None:
            raw = decode_raw_message(msg.data, msg.subject, msg.headers)
            payload = await raw_payload(js, raw)
            result = await normalizer.normalize(raw, payload)
            # Always published: when the version is known the Msg-Id drops an identical notice,
            # and a notice mapped differently (after a mapper fix) replaces the old mapping.
            await publish_notice(js, result.notice)
            outcome = "new_version" if result.new_version else "known_version"
            NOTICES.labels(source=raw.source, outcome=outcome).inc()

        runner = ConsumerRunner(
            js,
            msgspec.structs.replace(NORMALIZER_CONSUMER, ack_wait=settings.normalizer_ack_wait),
            stage=Stage.NORMALIZE,
            batch_handler=per_message(handle, settings.normalizer_concurrency),
            batch_size=settings.normalizer_batch_size,
        )
        await runner.run(stop)


def main() -> int:
    settings = load_settings(NormalizerSettings, service_prefix="NORMALIZER_")
    return run_worker(
        "normalizer", settings, run_normalizer, metrics_port=settings.normalizer_metrics_port
    )
