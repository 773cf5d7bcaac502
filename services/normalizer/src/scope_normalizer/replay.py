"""Re-normalise raw notices from the archive (the raw stream) without re-harvesting.

Used after a mapper fix: each raw notice of a source, stored in the raw stream since a date,
goes through the normalizer again. Contents already seen keep their version; a notice that now
maps differently is published again under that version and replaces the old mapping
downstream. A notice mapped as before is published too: the notices stream drops it as a
duplicate only within its 24-hour window (`duplicates` counts those), and the indexer writes
an older one again, unchanged.

A notice that fails (not decodable, not mappable, or a store or bus error that lasts) is
counted and logged, and the replay goes on: it may be run again, everything it redoes is
idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from scope_normalizer.pipeline import Normalizer
from scope_shared.bus import (
    RAW_STREAM,
    decode_raw_message,
    publish_notice,
    raw_payload,
    raw_subject,
)
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.logging import get_logger

log = get_logger(stage="replay")

REPLAY_BATCH = 256
INACTIVE_SECONDS = 120.0
"""The server removes the ephemeral consumer two minutes after a crashed replay stops pulling."""


@dataclass
class ReplayCounts:
    read: int = 0
    published: int = 0
    duplicates: int = 0
    """Notices identical to one the notices stream holds from its last 24 hours."""
    failed: int = 0


async def replay(
    js: JetStreamContext,
    normalizer: Normalizer,
    *,
    source: str,
    since: datetime | None = None,
) -> ReplayCounts:
    """Re-normalise every raw notice of `source` stored since `since` (all when None)."""
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since,
        inactive_threshold=INACTIVE_SECONDS,
    )
    sub = await js.pull_subscribe(raw_subject(source), stream=RAW_STREAM, config=config)
    counts = ReplayCounts()
    try:
        while True:
            try:
                msgs = await sub.fetch(REPLAY_BATCH, timeout=2.0)
            except (NatsTimeoutError, TimeoutError):
                break
            for msg in msgs:
                counts.read += 1
                await _replay_one(js, normalizer, msg, counts)
    finally:
        await sub.unsubscribe()
    log.info(
        "replay_finished", source=source, read=counts.read, published=counts.published,
        duplicates=counts.duplicates, failed=counts.failed,
    )  # fmt: skip
    return counts


async def _replay_one(
    js: JetStreamContext, normalizer: Normalizer, msg: Msg, counts: ReplayCounts
) -> None:
    try:
        raw = decode_raw_message(msg.data, msg.subject, msg.headers)
        result = await normalizer.normalize(raw, await raw_payload(js, raw))
        ack = await publish_notice(js, result.notice)
    except (PermanentError, RetryableError, msgspec.MsgspecError, NatsError) as exc:
        # Dead-lettered when first consumed, or a store or bus error: counted, and the replay
        # goes on with the rest of the archive (the server does not wait on this consumer).
        counts.failed += 1
        log.warning(
            "replay_failed", sequence=msg.metadata.sequence.stream,
            error_type=type(exc).__name__, error=str(exc),
        )  # fmt: skip
        return
    if ack.duplicate:
        counts.duplicates += 1
    else:
        counts.published += 1
