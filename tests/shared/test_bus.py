"""The bus contract on a real nats-server: dedup, dead letters, redelivery, KV durability."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import nats
import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from prometheus_client import REGISTRY

from scope_shared.bus import (
    DEAD_STREAM,
    NORMALIZER_CONSUMER,
    NOTICE_VERSIONS_BUCKET,
    NOTICES_STREAM,
    PROCEDURES_BUCKET,
    RAW_STREAM,
    ConsumerRunner,
    ConsumerSpec,
    NatsKeyValue,
    decode_raw,
    ensure_topology,
    harvester_state_bucket,
    headers,
    kv_bucket,
    per_message,
    publish_raw,
    raw_payload,
)
from scope_shared.bus.codec import encode
from scope_shared.bus.connection import raw_payloads_store
from scope_shared.bus.topology import DEAD_LETTER_DELIVERIES
from scope_shared.config import CommonSettings
from scope_shared.devservices.nats import NatsServer
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.schema import RawFormat, RawNotice, make_raw_notice
from tests.support.bus import reset_bus, stream_messages

SETTINGS = CommonSettings()


def _raw(source_id: str, payload: bytes = b'{"a": 1}', source: str = "france_boamp") -> RawNotice:
    return make_raw_notice(
        source=source,
        source_id=source_id,
        format=RawFormat.BOAMP_JSON,
        payload=payload,
        url="http://127.0.0.1/records",
        content_type="application/json",
        run_id="run-1",
    )


async def _drain(
    runner: ConsumerRunner, until: Callable[[], Awaitable[bool]], limit: float = 20
) -> None:
    """Run the consumer until `until()` holds (polling its counters), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        async with asyncio.timeout(limit):
            while not await until():  # noqa: ASYNC110 - polls counters the runner updates
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


async def test_same_content_published_twice_is_stored_once(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    first = await publish_raw(js, _raw("26-7298"))
    second = await publish_raw(js, _raw("26-7298"))
    changed = await publish_raw(js, _raw("26-7298", payload=b'{"a": 2}'))
    assert (bool(first.duplicate), second.duplicate, bool(changed.duplicate)) == (
        False,
        True,
        False,
    )
    assert await stream_messages(js, RAW_STREAM) == 2


async def test_large_payload_goes_to_object_store_and_comes_back(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    big = b"<x>" + b"a" * 3_000_000 + b"</x>"
    await publish_raw(js, _raw("big-1", payload=big))
    msg = await js.get_msg(RAW_STREAM, 1)
    raw = decode_raw(msg.data)
    assert raw.payload is None
    assert raw.payload_ref is not None and raw.payload_ref.size == len(big)
    assert len(msg.data) < 2000
    assert await raw_payload(js, raw) == big


async def test_a_large_payload_published_again_is_not_stored_again(
    js: JetStreamContext,
) -> None:
    """A second put would purge the chunks a normalizer may be reading at that moment."""
    await ensure_topology(js, SETTINGS)
    big = b"<x>" + b"b" * 1_000_000 + b"</x>"
    await publish_raw(js, _raw("big-2", payload=big))
    store = await raw_payloads_store(js)
    name = decode_raw((await js.get_msg(RAW_STREAM, 1)).data).payload_ref.name  # type: ignore[union-attr]
    stored = await store.get_info(name)
    again = await publish_raw(js, _raw("big-2", payload=big))
    assert again.duplicate is True
    assert (await store.get_info(name)).nuid == stored.nuid


async def test_permanent_error_dead_letters_original_bytes_with_reason(
    js: JetStreamContext,
) -> None:
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("good"))
    await js.publish("scope.raw.france_boamp", b"{not json", headers={"Nats-Msg-Id": "bad-1"})
    seen: list[str] = []

    async def handle(msg: Msg) -> None:
        raw = decode_raw(msg.data)
        seen.append(raw.source_id)

    runner = ConsumerRunner(
        js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=per_message(handle, 4)
    )

    async def done() -> bool:
        return runner.counts.acked + runner.counts.dead_lettered == 2

    await _drain(runner, done)
    assert seen == ["good"]
    assert runner.counts.dead_lettered == 1
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.subject == "scope.dead.normalize.france_boamp"
    assert dead.data == b"{not json"
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_STAGE] == "normalize"
    assert dead.headers[headers.DEAD_ERROR_TYPE] == "DecodeError"
    assert "malformed" in dead.headers[headers.DEAD_ERROR].lower()
    assert dead.headers[headers.DEAD_ORIGINAL_SEQUENCE] == "2"


async def test_validation_error_dead_letter_names_the_field(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    data = msgspec.to_builtins(_raw("x")) | {"sha256": "nope"}
    await js.publish("scope.raw.france_boamp", msgspec.json.encode(data))

    async def handle(msg: Msg) -> None:
        decode_raw(msg.data)

    runner = ConsumerRunner(
        js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=per_message(handle, 1)
    )

    async def done() -> bool:
        return runner.counts.dead_lettered == 1

    await _drain(runner, done)
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_FIELD] == "$.sha256"
    assert dead.headers[headers.DEAD_ERROR_TYPE] == "ValidationError"


async def test_transient_error_is_redelivered_then_processed(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("flaky"))
    attempts: list[int] = []

    async def handle(msg: Msg) -> None:
        attempts.append(msg.metadata.num_delivered or 0)
        if len(attempts) < 3:
            raise RetryableError("source busy", retry_after=0.1)

    runner = ConsumerRunner(
        js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=per_message(handle, 1)
    )

    async def done() -> bool:
        return runner.counts.acked == 1

    await _drain(runner, done)
    assert attempts == [1, 2, 3]
    assert runner.counts.retried == 2
    assert runner.counts.dead_lettered == 0


async def test_error_past_max_deliveries_is_dead_lettered_not_dropped(
    js: JetStreamContext,
) -> None:
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("always-fails"))
    spec = ConsumerSpec(
        durable="flaky_test", stream=RAW_STREAM, filter_subject="scope.raw.>", max_deliver=3
    )

    async def handle(msg: Msg) -> None:
        raise RetryableError("still down", retry_after=0.05)

    runner = ConsumerRunner(js, spec, stage="normalize", batch_handler=per_message(handle, 1))

    async def done() -> bool:
        return runner.counts.dead_lettered == 1

    before = _settled("dead_lettered")
    await _drain(runner, done)
    assert _settled("dead_lettered") == before + 1
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_DELIVERIES] == "3"
    assert dead.headers[headers.DEAD_ERROR] == "still down"
    assert runner.counts.retried == 2


async def test_dead_letter_that_cannot_be_published_is_tried_again_not_lost(
    js: JetStreamContext,
) -> None:
    """The dead-letter stream is away when a message is to be dead-lettered: the runner
    goes on with the other messages, and the message is dead-lettered on a later delivery."""
    await ensure_topology(js, SETTINGS)
    await js.delete_stream(DEAD_STREAM)
    await publish_raw(js, _raw("good"))
    await js.publish("scope.raw.france_boamp", b"{not json", headers={"Nats-Msg-Id": "bad-1"})
    spec = msgspec.structs.replace(NORMALIZER_CONSUMER, ack_wait=1.0)
    seen: list[str] = []

    async def handle(msg: Msg) -> None:
        seen.append(decode_raw(msg.data).source_id)

    runner = ConsumerRunner(js, spec, stage="normalize", batch_handler=per_message(handle, 4))

    async def failed_then_back() -> bool:
        if runner.counts.settle_failures and not runner.counts.dead_lettered:
            await ensure_topology(js, SETTINGS)  # the dead-letter stream is back
        return runner.counts.dead_lettered == 1

    await _drain(runner, failed_then_back)
    assert seen == ["good"]
    assert runner.counts.acked == 1
    assert runner.counts.settle_failures >= 1
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.data == b"{not json"


async def test_outage_is_delivered_again_past_the_limit_and_never_dead_lettered(
    js: JetStreamContext,
) -> None:
    """The indexer's consumer: a store outage lasting more deliveries than the limit (restarts
    during a long outage) is waited out; any other failure still ends as a dead letter."""
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("waits"))
    await publish_raw(js, _raw("broken"))
    spec = ConsumerSpec(
        durable="outage_test", stream=RAW_STREAM, filter_subject="scope.raw.>", max_deliver=2,
        outages_wait=True,
    )  # fmt: skip
    attempts: dict[str, int] = {}

    async def handle(msg: Msg) -> None:
        source_id = decode_raw(msg.data).source_id
        attempts[source_id] = attempts.get(source_id, 0) + 1
        if source_id == "broken":
            raise RetryableError("bad luck", retry_after=0.05)
        if attempts[source_id] <= 4:
            raise RetryableError("store down", retry_after=0.05, outage=True)

    runner = ConsumerRunner(js, spec, stage="index", batch_handler=per_message(handle, 2))

    async def done() -> bool:
        return runner.counts.acked == 1 and runner.counts.dead_lettered == 1

    await _drain(runner, done)
    assert attempts == {"waits": 5, "broken": 2}
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None and dead.headers[headers.DEAD_ERROR] == "bad luck"
    info = await js.consumer_info(RAW_STREAM, "outage_test")
    assert info.config.max_deliver == -1


async def test_permanent_error_from_handler_keeps_field_path(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("unmappable"))

    async def handle(msg: Msg) -> None:
        raise PermanentError("no title", field_path="$.donnees.objet")

    runner = ConsumerRunner(
        js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=per_message(handle, 1)
    )

    async def done() -> bool:
        return runner.counts.dead_lettered == 1

    await _drain(runner, done)
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_FIELD] == "$.donnees.objet"
    assert decode_raw(dead.data).source_id == "unmappable"


async def test_consumer_killed_mid_batch_redelivers_and_downstream_gets_each_once(
    nats_url: str,
) -> None:
    """A worker dies after publishing downstream but before acking: the message comes back,
    and the downstream Msg-Id makes the second publication a no-op."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await reset_bus(js)
    await ensure_topology(js, SETTINGS)
    for i in range(20):
        await publish_raw(js, _raw(f"n{i}"))
    spec = ConsumerSpec(
        durable="kill_test", stream=RAW_STREAM, filter_subject="scope.raw.>", ack_wait=1.0
    )

    async def forward(msg: Msg) -> None:
        raw = decode_raw(msg.data)
        await js.publish(
            "scope.notices.france_boamp",
            encode(raw),
            headers={headers.MSG_ID: raw.msg_id},
        )

    # First worker: processes a batch downstream, then "dies" (connection closed, no ack).
    killed_nc = await nats.connect(nats_url)
    killed_js = killed_nc.jetstream()
    sub = await killed_js.pull_subscribe("scope.raw.>", durable="kill_test", config=spec.config())
    batch = await sub.fetch(8, timeout=5)
    for msg in batch[:8]:
        await forward(msg)
    await killed_nc.close()

    runner = ConsumerRunner(js, spec, stage="normalize", batch_handler=per_message(forward, 4))

    async def done() -> bool:
        return runner.counts.acked == 20

    await _drain(runner, done, limit=30)
    assert await stream_messages(js, NOTICES_STREAM) == 20
    redelivered = runner.counts.received - 12
    assert redelivered == 8
    await nc.close()


async def test_runner_drains_in_flight_batch_on_stop(js: JetStreamContext) -> None:
    await ensure_topology(js, SETTINGS)
    for i in range(5):
        await publish_raw(js, _raw(f"s{i}"))
    started = asyncio.Event()

    async def slow(msgs: Sequence[Msg]) -> Sequence[BaseException | None]:
        started.set()
        await asyncio.sleep(0.5)
        return [None] * len(msgs)

    runner = ConsumerRunner(js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=slow)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await started.wait()
    stop.set()
    counts = await asyncio.wait_for(task, 10)
    assert counts.received == 5
    assert counts.acked == 5
    info = await js.consumer_info(RAW_STREAM, NORMALIZER_CONSUMER.durable)
    assert info.num_ack_pending == 0


async def test_two_batches_in_flight_overlap_and_are_all_settled_on_stop(
    js: JetStreamContext,
) -> None:
    await ensure_topology(js, SETTINGS)
    for i in range(6):
        await publish_raw(js, _raw(f"s{i}"))
    running, most, both = 0, 0, asyncio.Event()

    async def slow(msgs: Sequence[Msg]) -> Sequence[BaseException | None]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 2:
            both.set()
        await asyncio.sleep(0.3)
        running -= 1
        return [None] * len(msgs)

    runner = ConsumerRunner(
        js, NORMALIZER_CONSUMER, stage="normalize", batch_handler=slow, batch_size=2,
        in_flight=2,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await asyncio.wait_for(both.wait(), 10)
    stop.set()
    counts = await asyncio.wait_for(task, 10)
    assert most == 2
    assert counts.received == counts.acked == 4
    info = await js.consumer_info(RAW_STREAM, NORMALIZER_CONSUMER.durable)
    assert info.num_ack_pending == 0
    assert info.num_pending == 2


@pytest.mark.slow
async def test_kv_cursor_survives_server_restart(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    kv = await harvester_state_bucket(nc.jetstream())
    await kv.put("france_boamp.cursor", b'{"date": "2026-01-21", "id": "26-7298"}')
    await nc.close()
    nats_server.stop()
    nats_server.start()
    nc = await nats.connect(nats_server.url)
    kv = await harvester_state_bucket(nc.jetstream())
    entry = await kv.get("france_boamp.cursor")
    assert entry.value == b'{"date": "2026-01-21", "id": "26-7298"}'
    await nc.close()


async def test_kv_buckets_are_created_for_direct_gets_and_older_ones_still_work(
    js: JetStreamContext,
) -> None:
    fresh = NatsKeyValue(await kv_bucket(js, PROCEDURES_BUCKET))
    assert (await js.stream_info(f"KV_{PROCEDURES_BUCKET}")).config.allow_direct
    assert await fresh.create("key:a", b"1")
    assert await fresh.get("key:a") == (b"1", 1)
    await js.create_key_value(KeyValueConfig(bucket=NOTICE_VERSIONS_BUCKET, history=1))
    older = NatsKeyValue(await kv_bucket(js, NOTICE_VERSIONS_BUCKET))
    assert not (await js.stream_info(f"KV_{NOTICE_VERSIONS_BUCKET}")).config.allow_direct
    assert await older.create("france_boamp:26-1", b"v1")
    assert await older.get("france_boamp:26-1") == (b"v1", 1)


async def test_kv_compare_and_set_refuses_a_stale_writer(js: JetStreamContext) -> None:
    """What linking and versions rely on when replicas write one key: on the real server,
    a second create and an update from a stale revision are refused, not applied."""
    store = NatsKeyValue(await kv_bucket(js, NOTICE_VERSIONS_BUCKET))
    assert await store.create("x:1", b"first") is True
    assert await store.create("x:1", b"second") is False
    value, revision = await store.get("x:1") or (b"", 0)
    assert value == b"first"
    assert await store.update("x:1", b"newer", revision) is True
    assert await store.update("x:1", b"stale", revision) is False
    assert await store.get("x:1") == (b"newer", revision + 1)


async def test_a_message_the_worker_dies_on_is_dead_lettered_not_abandoned(
    js: JetStreamContext,
) -> None:
    """Delivered past the limit and never settled (the worker was killed on it each time):
    the server keeps delivering it (no limit of its own, which would drop it silently), and
    the runner dead-letters it without handling it again."""
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("poison"))
    spec = ConsumerSpec(
        durable="poison_test", stream=RAW_STREAM, filter_subject="scope.raw.>", max_deliver=2,
        ack_wait=0.5,
    )  # fmt: skip
    await js.add_consumer(RAW_STREAM, config=spec.config())
    assert (await js.consumer_info(RAW_STREAM, "poison_test")).config.max_deliver == -1
    # A worker that dies mid-message: fetched, never settled, five times.
    sub = await js.pull_subscribe_bind("poison_test", stream=RAW_STREAM)
    for _ in range(2 + DEAD_LETTER_DELIVERIES):
        (_unsettled,) = await sub.fetch(1, timeout=5)
    await sub.unsubscribe()
    handled: list[str] = []

    async def handle(msg: Msg) -> None:
        handled.append(decode_raw(msg.data).source_id)

    runner = ConsumerRunner(js, spec, stage="normalize", batch_handler=per_message(handle, 1))

    async def done() -> bool:
        return runner.counts.dead_lettered == 1

    await _drain(runner, done)
    assert handled == []
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None
    assert dead.headers[headers.DEAD_ERROR].startswith("delivered 6 times and never settled")
    assert decode_raw(dead.data).source_id == "poison"


async def test_a_batch_slower_than_ack_wait_is_not_delivered_again_meanwhile(
    js: JetStreamContext,
) -> None:
    """The runner tells JetStream the batch is still in hand: without it, a batch that takes
    longer than `ack_wait` comes again (here, or to another replica) while still handled."""
    await ensure_topology(js, SETTINGS)
    await publish_raw(js, _raw("slow"))
    spec = ConsumerSpec(
        durable="slow_test", stream=RAW_STREAM, filter_subject="scope.raw.>", ack_wait=1.0
    )
    deliveries: list[int] = []

    async def handle(msg: Msg) -> None:
        deliveries.append(msg.metadata.num_delivered or 0)
        await asyncio.sleep(2.5)

    runner = ConsumerRunner(
        js, spec, stage="normalize", batch_handler=per_message(handle, 1), in_flight=2
    )

    async def done() -> bool:
        return runner.counts.acked == 1

    await _drain(runner, done)
    assert deliveries == [1]
    assert runner.counts.received == 1


async def test_a_consumer_removed_under_the_runner_is_created_again(
    js: JetStreamContext,
) -> None:
    """Operators remove the indexer's consumer to rebuild an index: the runner pulling from it
    must not crash (every replica at once), but subscribe again and go on."""
    await ensure_topology(js, SETTINGS)
    spec = ConsumerSpec(durable="removed_test", stream=RAW_STREAM, filter_subject="scope.raw.>")
    seen: list[str] = []

    async def handle(msg: Msg) -> None:
        seen.append(decode_raw(msg.data).source_id)

    runner = ConsumerRunner(
        js, spec, stage="normalize", batch_handler=per_message(handle, 1), fetch_timeout=0.2
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await publish_raw(js, _raw("before"))
        async with asyncio.timeout(10):
            while seen != ["before"]:  # noqa: ASYNC110 - polls what the runner handled
                await asyncio.sleep(0.05)
        await js.delete_consumer(RAW_STREAM, "removed_test")
        await asyncio.sleep(0.5)
        await publish_raw(js, _raw("after"))
        async with asyncio.timeout(20):
            while "after" not in seen:
                assert not task.done(), task.exception()
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    # Created again from the start of the stream: "before" comes once more, as after a rebuild.
    assert seen[0] == "before" and "after" in seen


class _SwallowingSubscription:
    """A pull subscription whose fetch turns a cancellation into an empty pull, as nats-py's
    does when Python 3.11's `wait_for` loses the cancellation to a message arriving."""

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:  # noqa: ASYNC109 - nats-py's
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(timeout)
        raise nats.errors.TimeoutError

    async def unsubscribe(self) -> None:
        return None


class _FakeJetStream:
    async def add_consumer(self, stream: str, config: object) -> None:
        return None

    async def pull_subscribe_bind(self, durable: str, stream: str) -> _SwallowingSubscription:
        return _SwallowingSubscription()


def _runner_on(js: _FakeJetStream) -> ConsumerRunner:
    """A runner whose server is `js`, a stand-in that fails the way a test needs."""
    spec = ConsumerSpec(durable="x", stream=RAW_STREAM, filter_subject="scope.raw.>")

    async def handle(msgs: Sequence[Msg]) -> list[BaseException | None]:
        return [None] * len(msgs)

    return ConsumerRunner(
        js,  # type: ignore[arg-type]
        spec, stage="normalize", batch_handler=handle, fetch_timeout=0.2,
    )  # fmt: skip


async def test_a_runner_cancelled_mid_pull_stops_even_if_the_pull_swallows_it() -> None:
    """The cause of a test that hung once in a while: a cancelled runner pulled on forever."""
    runner = _runner_on(_FakeJetStream())
    task = asyncio.create_task(runner.run(asyncio.Event()))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)


def _settled(outcome: str) -> float:
    """The runners' Prometheus counter for the test stage and `outcome`."""
    value = REGISTRY.get_sample_value(
        "scope_consumer_messages_total", {"stage": "normalize", "outcome": outcome}
    )
    return value or 0.0


class _ClosedSubscription(_SwallowingSubscription):
    async def fetch(self, batch: int, timeout: float) -> list[Msg]:  # noqa: ASYNC109 - nats-py's
        raise nats.errors.ConnectionClosedError


class _ClosedJetStream(_FakeJetStream):
    async def pull_subscribe_bind(self, durable: str, stream: str) -> _ClosedSubscription:
        return _ClosedSubscription()


async def test_a_connection_closed_for_good_stops_the_runner() -> None:
    """Credentials revoked: nats-py closes the connection for good. Retrying could only spin
    (and /healthz, following the event loop, would still say alive): the runner stops and the
    orchestrator starts the service again."""
    runner = _runner_on(_ClosedJetStream())
    with pytest.raises(nats.errors.ConnectionClosedError):
        await asyncio.wait_for(runner.run(asyncio.Event()), 5)
