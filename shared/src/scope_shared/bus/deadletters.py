"""Operator tooling for the dead-letter stream: list, show, retry.

A retry republishes the original bytes and headers to the subject they were first published
on, under a new Msg-Id (the original one would be dropped as a duplicate), then deletes the
dead letter. The stage that failed processes it again with its current code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from scope_shared.bus import headers as h
from scope_shared.bus.publish import PUBLISH_TIMEOUT_SECONDS
from scope_shared.bus.topology import DEAD_STREAM, Stage


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    sequence: int
    subject: str
    stage: str
    source: str
    error_type: str
    error: str
    field_path: str | None
    original_subject: str
    deliveries: str | None
    dead_at: str | None
    headers: dict[str, str]
    data: bytes


async def iter_dead_letters(
    js: JetStreamContext, *, stage: str | None = None, source: str | None = None
) -> AsyncIterator[DeadLetter]:
    """Every dead letter in stream order, optionally of one stage and one source."""
    info = await js.stream_info(DEAD_STREAM)
    if not info.state.messages:
        return  # an empty stream reports sequence 0, which no message has
    first, last = info.state.first_seq, info.state.last_seq
    for sequence in range(first, last + 1):
        letter = await get_dead_letter(js, sequence)
        if letter is None:
            continue
        if (stage and letter.stage != stage) or (source and letter.source != source):
            continue
        yield letter


async def get_dead_letter(js: JetStreamContext, sequence: int) -> DeadLetter | None:
    try:
        msg = await js.get_msg(DEAD_STREAM, sequence)
    except NotFoundError:
        return None
    headers = dict(msg.headers or {})
    subject = msg.subject or ""
    _, _, rest = subject.partition("scope.dead.")
    stage, _, source = rest.partition(".")
    return DeadLetter(
        sequence=sequence,
        subject=subject,
        stage=stage,
        source=source,
        error_type=headers.get(h.DEAD_ERROR_TYPE, ""),
        error=headers.get(h.DEAD_ERROR, ""),
        field_path=headers.get(h.DEAD_FIELD),
        original_subject=headers.get(h.DEAD_ORIGINAL_SUBJECT, ""),
        deliveries=headers.get(h.DEAD_DELIVERIES),
        dead_at=headers.get(h.DEAD_AT),
        headers=headers,
        data=msg.data or b"",
    )


class NotRetryableError(ValueError):
    """A dead letter that cannot be sent back: a harvest letter is a piece of a source's
    document that named no notice, not a message of the bus."""


async def retry_dead_letter(js: JetStreamContext, letter: DeadLetter) -> None:
    """Send the original message back to its stage, then remove the dead letter.

    Raises:
        NotRetryableError: a harvest dead letter (mend the source or its splitter, then
            harvest the day again: `scope harvest SOURCE --since DAY`).
    """
    if letter.stage == Stage.HARVEST:
        raise NotRetryableError(
            f"dead letter {letter.sequence} is a piece of a {letter.source} document that named"
            " no notice: once the source or its splitter is mended, harvest that day again"
        )
    # JetStream's own headers (Msg-Id, expected stream) belonged to the earlier publications.
    headers = {
        k: v for k, v in letter.headers.items() if not k.startswith(("Scope-Dead-", "Nats-"))
    }
    headers[h.MSG_ID] = f"{h.RETRY_MSG_ID_PREFIX}{letter.sequence}:{datetime.now(UTC).isoformat()}"
    await js.publish(
        letter.original_subject, letter.data, timeout=PUBLISH_TIMEOUT_SECONDS, headers=headers
    )
    await js.delete_msg(DEAD_STREAM, letter.sequence)
