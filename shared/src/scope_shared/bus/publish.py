"""Publishing raw notices, canonical notices and dead letters, always waiting for the PubAck."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import ObjectNotFoundError

from scope_shared.bus import headers as h
from scope_shared.bus.codec import encode
from scope_shared.bus.connection import raw_payloads_store
from scope_shared.bus.topology import (
    DEAD_STREAM,
    MAX_INLINE_PAYLOAD_BYTES,
    NOTICES_STREAM,
    RAW_PAYLOADS_BUCKET,
    RAW_STREAM,
    dead_subject,
    notices_subject,
    raw_subject,
)
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.schema import Notice, PayloadRef, RawNotice, sha256_hex

PUBLISH_TIMEOUT_SECONDS = 10.0
"""A PubAck normally takes milliseconds; ten seconds covers a stream leader election."""
PAYLOAD_TIMEOUT_SECONDS = 60.0
"""Putting or reading one offloaded payload (a few MiB at most, in chunks): nats-py's object
store has no timeout of its own, and a read whose last chunk never comes waits forever."""


async def publish_raw(js: JetStreamContext, raw: RawNotice) -> PubAck:
    """Publish one raw notice; `PubAck.duplicate` is true when the same content was already there.

    A payload over `MAX_INLINE_PAYLOAD_BYTES` is first put in the object store and the message
    carries a `PayloadRef` instead.
    """
    if raw.payload is not None and len(raw.payload) > MAX_INLINE_PAYLOAD_BYTES:
        raw = await _offload_payload(js, raw, raw.payload)
    headers = {
        h.MSG_ID: raw.msg_id,
        h.SOURCE: raw.source,
        h.FORMAT: raw.format.value,
        h.SCHEMA_VERSION: str(raw.schema_version),
    }
    return await js.publish(
        raw_subject(raw.source),
        encode(raw),
        timeout=PUBLISH_TIMEOUT_SECONDS,
        stream=RAW_STREAM,
        headers=headers,
    )


async def _offload_payload(js: JetStreamContext, raw: RawNotice, payload: bytes) -> RawNotice:
    name = f"{raw.source}/{raw.sha256}"
    try:
        async with asyncio.timeout(PAYLOAD_TIMEOUT_SECONDS):
            store = await raw_payloads_store(js)
            # Named by its digest: stored once. Putting it again (harvesters re-read their
            # last day) would purge the chunks a normalizer may be reading.
            try:
                await store.get_info(name)
            except ObjectNotFoundError:
                await store.put(name, payload)
    except TimeoutError as exc:
        raise RetryableError(f"storing payload {name} timed out", outage=True) from exc
    ref = PayloadRef(bucket=RAW_PAYLOADS_BUCKET, name=name, size=len(payload))
    return msgspec.structs.replace(raw, payload=None, payload_ref=ref)


async def raw_payload(js: JetStreamContext, raw: RawNotice) -> bytes:
    """The payload bytes, from the message or from the object store."""
    if raw.payload is not None:
        return raw.payload
    assert raw.payload_ref is not None
    name = raw.payload_ref.name
    try:
        async with asyncio.timeout(PAYLOAD_TIMEOUT_SECONDS):
            store = await raw_payloads_store(js)
            result = await store.get(name)
    except TimeoutError as exc:
        raise RetryableError(f"reading payload {name} timed out", outage=True) from exc
    if result.data is None:
        raise PermanentError("payload missing from object store", field_path="$.payload_ref")
    return result.data


async def publish_notice(js: JetStreamContext, notice: Notice) -> PubAck:
    """Publish one canonical notice version.

    The Msg-Id holds a digest of the encoded notice: a redelivered message publishes nothing
    twice, while a re-normalisation that maps the same raw content differently (after a mapper
    fix, `scope replay`) publishes the corrected notice under the same version.
    """
    data = encode(notice)
    headers = {
        h.MSG_ID: f"{notice.id}:{notice.version}:{sha256_hex(data)[:32]}",
        h.SOURCE: notice.source,
        h.NOTICE_ID: notice.id,
        h.NOTICE_VERSION: str(notice.version),
        h.SCHEMA_VERSION: str(notice.schema_version),
    }
    return await js.publish(
        notices_subject(notice.source),
        data,
        timeout=PUBLISH_TIMEOUT_SECONDS,
        stream=NOTICES_STREAM,
        headers=headers,
    )


async def publish_dead_letter(
    js: JetStreamContext,
    *,
    stage: str,
    source: str,
    data: bytes,
    original_headers: dict[str, str] | None,
    error: BaseException,
    original_subject: str,
    original_sequence: int | None = None,
    deliveries: int | None = None,
    msg_id: str | None = None,
) -> PubAck:
    """Keep what a stage could not process: the original bytes and headers, plus the reason.

    `msg_id` names a letter that has no stream sequence (a harvester's): the same piece
    set aside again by a later run is not kept twice.
    """
    field_path = getattr(error, "field_path", None) or _msgspec_path(error)
    headers = {k: v for k, v in (original_headers or {}).items() if not k.startswith("Nats-")}
    headers.update(
        {
            h.DEAD_STAGE: stage,
            h.DEAD_ERROR_TYPE: type(error).__name__,
            h.DEAD_ERROR: _one_line(str(error)) or type(error).__name__,
            h.DEAD_ORIGINAL_SUBJECT: original_subject,
            h.DEAD_AT: datetime.now(UTC).isoformat(),
        }
    )
    if field_path:
        headers[h.DEAD_FIELD] = field_path
    if original_sequence is not None:
        headers[h.DEAD_ORIGINAL_SEQUENCE] = str(original_sequence)
        headers[h.MSG_ID] = f"{stage}:{original_subject}:{original_sequence}"
    if msg_id is not None:
        headers[h.MSG_ID] = msg_id
    if deliveries is not None:
        headers[h.DEAD_DELIVERIES] = str(deliveries)
    return await js.publish(
        dead_subject(stage, source),
        data,
        timeout=PUBLISH_TIMEOUT_SECONDS,
        stream=DEAD_STREAM,
        headers=headers,
    )


def _one_line(text: str, limit: int = 2000) -> str:
    """Header values cannot hold line breaks; keep the reason readable and bounded."""
    return " ".join(text.split())[:limit]


def _msgspec_path(error: BaseException) -> str | None:
    """msgspec ends its messages with `- at `$.path``; lift that path out."""
    text = str(error)
    marker = "- at `"
    if marker in text:
        return text.rsplit(marker, 1)[1].rstrip("`")
    return None
