"""Every stream, subject, consumer and bucket Scope uses, declared in one place.

Subjects:
    `scope.raw.<source>`: raw notices as harvested (stream `SCOPE_RAW`, the archive).
    `scope.notices.<source>`: canonical notices (stream `SCOPE_NOTICES`).
    `scope.dead.<stage>.<source>`: what a stage could not process (stream `SCOPE_DEAD`).
Buckets:
    KV `scope_harvester_state`: per-source cursor and run state.
    KV `scope_notice_versions`: per notice, the raw digests of its versions (normalizer).
    KV `scope_procedures`: procedure keys (contract folder, ocid, notice ids) -> procedure id.
    Object store `scope_raw_payloads`: payloads larger than one message.
"""

from __future__ import annotations

import msgspec
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from scope_shared.config import CommonSettings

RAW_STREAM = "SCOPE_RAW"
NOTICES_STREAM = "SCOPE_NOTICES"
DEAD_STREAM = "SCOPE_DEAD"
HARVESTER_STATE_BUCKET = "scope_harvester_state"
NOTICE_VERSIONS_BUCKET = "scope_notice_versions"
PROCEDURES_BUCKET = "scope_procedures"
RAW_PAYLOADS_BUCKET = "scope_raw_payloads"

RAW_SUBJECT_PREFIX = "scope.raw"
NOTICES_SUBJECT_PREFIX = "scope.notices"
DEAD_SUBJECT_PREFIX = "scope.dead"

MAX_MESSAGE_BYTES = 1024 * 1024
"""nats-server's default max_payload; the streams accept nothing larger."""
MAX_INLINE_PAYLOAD_BYTES = 700 * 1024
"""A payload above this goes to the object store: base64 in JSON grows it by a third."""

DUPLICATE_WINDOW_SECONDS = 24 * 3600.0
"""Harvesters re-read overlapping windows within a day; the normalizer also skips a content it
already has (same sha256), so a longer-term re-harvest still makes no new version."""

SECONDS_PER_DAY = 86400.0


KV_BUCKETS: dict[str, str] = {
    HARVESTER_STATE_BUCKET: "Harvester cursors, last runs and counts, one key per source.",
    NOTICE_VERSIONS_BUCKET: "Per notice id, the raw digests of its versions, in order.",
    PROCEDURES_BUCKET: "Procedure keys (contract folder, ocid, notice ids) -> procedure id.",
}
"""Every KV bucket and its description; created by `ensure_topology`."""


class Stage:
    """Stage names, used in dead-letter subjects and log context."""

    HARVEST = "harvest"
    NORMALIZE = "normalize"
    INDEX = "index"


DEAD_LETTER_DELIVERIES = 3
"""Deliveries past a consumer's `max_deliver` with no outcome settled (the worker died on the
message each time, or no dead letter could be published) after which the runner dead-letters
the message without handing it to the handler again."""


class ConsumerSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A durable pull consumer and the policy the consumer runner applies to it.

    Attributes:
        durable: Consumer name; every replica of a service shares it (competing consumers).
        stream: Stream it reads.
        filter_subject: Subjects it receives.
        ack_wait: Seconds before an unacknowledged message is redelivered.
        max_deliver: Deliveries before the runner dead-letters the message (the server
            itself never stops delivering: a message is settled by the runner, or kept).
        max_ack_pending: In-flight messages per consumer (JetStream's flow control).
        outages_wait: A message failed by an outage (`RetryableError(outage=True)`) is
            delivered again however many times it takes, never dead-lettered; the runner
            applies `max_deliver` to other failures.
    """

    durable: str
    stream: str
    filter_subject: str
    ack_wait: float = 60.0
    max_deliver: int = 6
    max_ack_pending: int = 1000
    outages_wait: bool = False

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            name=self.durable,
            filter_subject=self.filter_subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            # No server limit: past one, the server stops delivering a message nobody settled
            # (its dead letter could not be published) and says so only in an advisory. The
            # runner dead-letters at its own limit, and tries again until that succeeds.
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
        )


NORMALIZER_CONSUMER = ConsumerSpec(
    durable="normalizer", stream=RAW_STREAM, filter_subject=f"{RAW_SUBJECT_PREFIX}.>"
)
INDEXER_CONSUMER = ConsumerSpec(
    durable="indexer", stream=NOTICES_STREAM, filter_subject=f"{NOTICES_SUBJECT_PREFIX}.>",
    outages_wait=True,
)  # fmt: skip


def raw_subject(source: str) -> str:
    return f"{RAW_SUBJECT_PREFIX}.{source}"


def notices_subject(source: str) -> str:
    return f"{NOTICES_SUBJECT_PREFIX}.{source}"


def dead_subject(stage: str, source: str) -> str:
    return f"{DEAD_SUBJECT_PREFIX}.{stage}.{source}"


def source_of_subject(subject: str) -> str:
    """The `<source>` token of a raw, notices or dead subject."""
    return subject.rsplit(".", 1)[-1]


def _max_age(days: int) -> float:
    return days * SECONDS_PER_DAY


def _stream(
    name: str, description: str, subject_prefix: str, max_age_days: int, replicas: int
) -> StreamConfig:
    return StreamConfig(
        name=name,
        description=description,
        subjects=[f"{subject_prefix}.>"],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_msg_size=MAX_MESSAGE_BYTES,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=_max_age(max_age_days),
        num_replicas=replicas,
    )


def stream_configs(settings: CommonSettings) -> list[StreamConfig]:
    """The three streams, with retention from settings (0 days keeps messages forever)."""
    return [
        _stream(
            RAW_STREAM,
            "Raw notices as harvested: Scope's archive, replayable.",
            RAW_SUBJECT_PREFIX,
            settings.raw_max_age_days,
            settings.stream_replicas,
        ),
        _stream(
            NOTICES_STREAM,
            "Canonical notices, one message per new version.",
            NOTICES_SUBJECT_PREFIX,
            settings.notices_max_age_days,
            settings.stream_replicas,
        ),
        _stream(
            DEAD_STREAM,
            "What a stage could not process, with the reason and original bytes.",
            DEAD_SUBJECT_PREFIX,
            0,
            settings.stream_replicas,
        ),
    ]
