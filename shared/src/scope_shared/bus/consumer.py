"""The consumer runner: pull, process, and turn each outcome into ack, nak or dead letter.

This is the one place where the delivery policy lives:
- success: ack (waiting for the server's confirmation);
- `PermanentError` or a msgspec decode/validation error: dead letter, then term;
- `RetryableError` or any other exception: nak with a growing, jittered delay (or the delay the
  other side asked for), until the consumer's `max_deliver`, then dead letter and term;
- a message delivered well past `max_deliver` with nothing settled (the worker dies on it, or
  its dead letter could not be published): dead letter without handling it again.
A message is never dropped: either it is acknowledged after processing, or it is kept in the
dead-letter stream with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import msgspec
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from prometheus_client import Counter

from scope_shared.bus.publish import publish_dead_letter
from scope_shared.bus.topology import DEAD_LETTER_DELIVERIES, ConsumerSpec, source_of_subject
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.logging import get_logger

MessageHandler = Callable[[Msg], Awaitable[None]]
BatchHandler = Callable[[Sequence[Msg]], Awaitable[Sequence[BaseException | None]]]
"""Processes a batch; returns, per message and in order, None for success or the error."""

PERMANENT_ERRORS = (PermanentError, msgspec.ValidationError, msgspec.DecodeError)

MESSAGES = Counter(
    "scope_consumer_messages_total",
    "Messages the consumer runners settled, by stage and outcome (acked, retried, "
    "dead_lettered, settle_failed: the server could not be told, the message comes again).",
    ["stage", "outcome"],
)

NAK_DELAYS_SECONDS = (1.0, 5.0, 30.0, 120.0, 600.0)
"""Redelivery delays by attempt: quick for a blip, then long enough for a restart or outage."""


SETTLE_RETRY_SECONDS = 30.0
"""Redelivery of a message whose outcome could not be settled (its dead letter refused):
soon, without hammering a dead-letter stream that is away."""

FETCH_RETRY_MAX_SECONDS = 5.0
"""Wait before pulling again after the server refused a pull: short, the server comes back
in seconds (a restart, an election), and a message delivered meanwhile waits `ack_wait`."""

IN_HAND_SIGNALS = 3
"""`in_progress` signals per `ack_wait` while a batch is handled."""

ACK_TIMEOUT_SECONDS = 5.0
"""nats-py waits 1 s for an ack's confirmation by default; a stream leader election takes
longer, and an unconfirmed ack only means the message may come again."""


@dataclass
class RunnerCounts:
    """What one runner did; logged as one summary event when it stops."""

    received: int = 0
    acked: int = 0
    retried: int = 0
    dead_lettered: int = 0
    settle_failures: int = 0
    """Acks, naks or dead letters that failed: those messages come back after `ack_wait`."""
    errors_by_type: dict[str, int] = field(default_factory=dict)


def nak_delay(attempt: int, retry_after: float | None = None) -> float:
    """Delay before redelivery `attempt` (1-based), with ±20 % jitter to spread a herd."""
    if retry_after is not None:
        return retry_after
    base = NAK_DELAYS_SECONDS[min(attempt, len(NAK_DELAYS_SECONDS)) - 1]
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not cryptography


class ConsumerRunner:
    """Runs one durable pull consumer until `stop` is set, then drains and returns.

    Args:
        in_flight: Batches processed at once. With 2, the next batch is fetched and handed
            to the handler while the previous one is still being written (the embedded store
            prepares one batch while SQLite writes the other); each batch is settled on its
            own, so a slow batch never holds another's acks.

    Attributes:
        counts: Running totals, also logged as `consumer_stopped`.
    """

    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        *,
        stage: str,
        batch_handler: BatchHandler,
        batch_size: int = 64,
        fetch_timeout: float = 2.0,
        in_flight: int = 1,
    ) -> None:
        self.js = js
        self.spec = spec
        self.stage = stage
        self.batch_handler = batch_handler
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.in_flight = max(1, in_flight)
        self.counts = RunnerCounts()
        self.log = get_logger(stage=stage, consumer=spec.durable)

    async def run(self, stop: asyncio.Event) -> RunnerCounts:
        """Fetch and process batches until `stop` is set; in-flight messages are settled first."""
        sub = await self._subscribe()
        self.log.info("consumer_started", stream=self.spec.stream)
        running: set[asyncio.Task[None]] = set()
        failures = 0
        this = asyncio.current_task()
        try:
            while not stop.is_set():
                if this is not None and this.cancelling():
                    # A cancellation nats-py's pull swallowed (Python 3.11's `wait_for` loses
                    # one that meets a message arriving): honoured here, or the loop pulls on.
                    raise asyncio.CancelledError
                if len(running) >= self.in_flight:
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()  # a bug in settling stops the runner, as it would inline
                    continue
                try:
                    msgs = await sub.fetch(self.batch_size, timeout=self.fetch_timeout)
                except (NatsTimeoutError, TimeoutError):
                    # nats-py raises its own TimeoutError on an empty pull, and the builtin one
                    # when a pull of several messages expires part-way.
                    continue
                except ConnectionClosedError:
                    # Closed for good (credentials revoked, a protocol error): no retry can
                    # help; the service stops and its orchestrator starts it again.
                    raise
                except NatsError as exc:
                    # The server away (no responders, a leader election) or the consumer gone
                    # (removed to rebuild an index): wait, then subscribe again. Every replica
                    # crashing at once on a blip would bring nothing back sooner.
                    failures += 1
                    delay = min(FETCH_RETRY_MAX_SECONDS, nak_delay(min(failures, 2)))
                    self.log.warning("fetch_failed", error_type=type(exc).__name__,
                                     error=str(exc), retry_in=round(delay, 1))  # fmt: skip
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=delay)
                    with contextlib.suppress(NatsError, TimeoutError):
                        await sub.unsubscribe()
                    with contextlib.suppress(NatsError, TimeoutError):
                        sub = await self._subscribe()
                    continue
                failures = 0
                running.add(asyncio.create_task(self.process(msgs)))
        finally:
            # Batches in hand are settled before leaving: drained, never abandoned.
            await asyncio.gather(*running)
            await sub.unsubscribe()
            self.log.info(
                "consumer_stopped",
                received=self.counts.received,
                acked=self.counts.acked,
                retried=self.counts.retried,
                dead_lettered=self.counts.dead_lettered,
                settle_failures=self.counts.settle_failures,
                errors=self.counts.errors_by_type,
            )
        return self.counts

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        """The durable consumer, created or updated (a changed setting, such as the ack wait,
        takes effect on restart), and a pull subscription bound to it."""
        await self.js.add_consumer(self.spec.stream, config=self.spec.config())
        return await self.js.pull_subscribe_bind(self.spec.durable, stream=self.spec.stream)

    async def process(self, msgs: Sequence[Msg]) -> None:
        """Run the handler on one batch and settle every message of it."""
        self.counts.received += len(msgs)
        handled: list[Msg] = []
        unsettled: list[Msg] = []
        for msg in msgs:
            (unsettled if self._never_settled(msg) else handled).append(msg)
        msgs = handled
        keeper = asyncio.create_task(self._keep_in_hand(msgs))
        try:
            outcomes = await self.batch_handler(msgs) if msgs else []
        except Exception as exc:  # noqa: BLE001 - one error settles the whole batch
            outcomes = [exc] * len(msgs)
        finally:
            keeper.cancel()
        if len(outcomes) != len(msgs):
            raise RuntimeError("batch handler must return one outcome per message")
        await asyncio.gather(
            *(self._settle_or_leave(m, o) for m, o in zip(msgs, outcomes, strict=True)),
            *(self._settle_or_leave(m, _never_settled_error(m)) for m in unsettled),
        )

    async def _keep_in_hand(self, msgs: Sequence[Msg]) -> None:
        """While a batch is handled, tell JetStream every third of `ack_wait` that its
        messages are still in hand: a batch slower than `ack_wait` (a slow store, slow
        key-value round trips, messages waiting their turn) would otherwise be delivered again,
        here or to another replica, while still being worked on."""
        while True:
            await asyncio.sleep(self.spec.ack_wait / IN_HAND_SIGNALS)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    def _count(self, field: str, outcome: str) -> None:
        """One settled message: in the runner's summary and in Prometheus."""
        setattr(self.counts, field, getattr(self.counts, field) + 1)
        MESSAGES.labels(stage=self.stage, outcome=outcome).inc()

    def _never_settled(self, msg: Msg) -> bool:
        """Delivered well past the limit with no outcome settled: the worker dies on it (out
        of memory, killed), or its dead letter could not be published. Not handled again."""
        limit = self.spec.max_deliver + DEAD_LETTER_DELIVERIES
        return not self.spec.outages_wait and (msg.metadata.num_delivered or 1) > limit

    async def _settle_or_leave(self, msg: Msg, outcome: BaseException | None) -> None:
        """Settle one message; if the server cannot be told (an ack timing out during a
        leader election, a dead-letter stream unavailable), leave it: JetStream delivers it
        again after `ack_wait`, and the runner goes on with the others instead of stopping."""
        try:
            await self._settle(msg, outcome)
        except Exception as exc:  # noqa: BLE001 - the message is redelivered, never lost
            self._count("settle_failures", "settle_failed")
            self.log.error(
                "settle_failed", subject=msg.subject, error_type=type(exc).__name__,
                error=str(exc), outcome=type(outcome).__name__ if outcome else "ok",
            )  # fmt: skip
            if outcome is not None:
                # Sooner than `ack_wait` when the server can be told (the dead-letter stream
                # is away, not the server); otherwise `ack_wait` brings it back anyway.
                with contextlib.suppress(Exception):
                    await msg.nak(delay=min(SETTLE_RETRY_SECONDS, self.spec.ack_wait))

    async def _settle(self, msg: Msg, outcome: BaseException | None) -> None:
        if outcome is None:
            await msg.ack_sync(timeout=ACK_TIMEOUT_SECONDS)
            self._count("acked", "acked")
            return
        name = type(outcome).__name__
        self.counts.errors_by_type[name] = self.counts.errors_by_type.get(name, 0) + 1
        delivered = msg.metadata.num_delivered or 1
        if isinstance(outcome, PERMANENT_ERRORS):
            await self._dead_letter(msg, outcome, delivered)
            return
        outage = isinstance(outcome, RetryableError) and outcome.outage and self.spec.outages_wait
        if delivered >= self.spec.max_deliver and not outage:
            await self._dead_letter(msg, outcome, delivered)
            return
        retry_after = outcome.retry_after if isinstance(outcome, RetryableError) else None
        delay = nak_delay(delivered, retry_after)
        if not isinstance(outcome, RetryableError):
            self.log.warning(
                "message_failed", error_type=name, error=str(outcome), deliveries=delivered
            )
        await msg.nak(delay=delay)
        self._count("retried", "retried")

    async def _dead_letter(self, msg: Msg, error: BaseException, delivered: int) -> None:
        await publish_dead_letter(
            self.js,
            stage=self.stage,
            source=source_of_subject(msg.subject),
            data=msg.data,
            original_headers=dict(msg.headers or {}),
            error=error,
            original_subject=msg.subject,
            original_sequence=msg.metadata.sequence.stream,
            deliveries=delivered,
        )
        await msg.term()
        self._count("dead_lettered", "dead_lettered")
        self.log.warning(
            "message_dead_lettered",
            subject=msg.subject,
            error_type=type(error).__name__,
            error=str(error),
            deliveries=delivered,
        )


def _never_settled_error(msg: Msg) -> PermanentError:
    deliveries = msg.metadata.num_delivered
    return PermanentError(f"delivered {deliveries} times and never settled: not handled again")


def per_message(handler: MessageHandler, concurrency: int) -> BatchHandler:
    """Adapt a one-message handler to a batch handler running at most `concurrency` at once."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(msg: Msg) -> BaseException | None:
        async with semaphore:
            try:
                await handler(msg)
            except Exception as exc:  # noqa: BLE001 - the runner maps every error to a policy
                return exc
            return None

    async def batch(msgs: Sequence[Msg]) -> Sequence[BaseException | None]:
        return await asyncio.gather(*(one(m) for m in msgs))

    return batch
