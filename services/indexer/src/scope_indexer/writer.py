"""The bulk writer: a batch of notice messages in, one delivery outcome per message out.

Messages are decoded strictly (a bad one is dead-lettered), written to the store in one bulk
call, and settled by what the store said of each document:
- indexed, or stale (an older version than the one the store has): acknowledged;
- failed for the document itself (a mapping error): dead-lettered with the store's reason;
- failed because the store is unavailable or overloaded: the writer keeps the batch, pauses
  with a growing delay, and writes those documents again until the store takes them. It
  tells JetStream it is still working on them (`in_progress`), so an outage of any length
  neither redelivers them elsewhere nor counts against their deliveries: an outage never
  dead-letters a notice. The messages stay unacknowledged in JetStream meanwhile, so a crash
  loses nothing; on shutdown the writer gives them back for redelivery, as an outage: the
  indexer's consumer never dead-letters for that, however many restarts an outage lasts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import msgspec
from nats.aio.msg import Msg
from prometheus_client import Counter

from scope_shared.bus import decode_notice
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.logging import get_logger
from scope_shared.schema import Notice
from scope_shared.store import SearchStore

DOCUMENTS = Counter(
    "scope_indexer_documents_total",
    "Notices written to the store, by outcome (indexed, stale, failed, retried).",
    ["outcome"],
)

log = get_logger(stage="index")


class BulkWriter:
    """Attributes:
    store: Where notices go.
    stop: Set on shutdown: a pause ends and the batch is given back for redelivery.
    max_backoff: Longest pause between two attempts while the store refuses writes.
    heartbeat: Seconds between `in_progress` signals while paused; well under the
        consumer's ack wait, so that JetStream never redelivers a batch being retried.
    """

    def __init__(
        self,
        store: SearchStore,
        *,
        stop: asyncio.Event | None = None,
        max_backoff: float = 60.0,
        heartbeat: float = 10.0,
    ) -> None:
        self.store = store
        self.stop = stop or asyncio.Event()
        self.max_backoff = max_backoff
        self.heartbeat = heartbeat
        self.failures_in_a_row = 0

    async def write(self, msgs: Sequence[Msg]) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = [None] * len(msgs)
        pending: dict[int, Notice] = {}
        for position, msg in enumerate(msgs):
            try:
                pending[position] = decode_notice(msg.data)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                outcomes[position] = exc
        while pending:
            pending = await self._attempt(pending, outcomes)
            if not pending:
                self.failures_in_a_row = 0
            elif self.stop.is_set():
                for position in pending:
                    outcomes[position] = RetryableError(
                        "store unavailable at shutdown", outage=True
                    )
                break
            else:
                await self._pause([msgs[p] for p in pending])
        return outcomes

    async def _attempt(
        self, pending: dict[int, Notice], outcomes: list[BaseException | None]
    ) -> dict[int, Notice]:
        """One bulk write; returns the documents the store could not take for now."""
        results = await self.store.index(list(pending.values()))
        retry: dict[int, Notice] = {}
        for (position, notice), result in zip(pending.items(), results, strict=True):
            DOCUMENTS.labels(outcome="retried" if result.retryable else result.status).inc()
            if result.status != "failed":
                continue
            if result.retryable:
                retry[position] = notice
            else:
                outcomes[position] = PermanentError(result.reason or "rejected by the store")
        return retry

    async def _pause(self, msgs: list[Msg]) -> None:
        """Wait before the next attempt, telling JetStream the messages are still in hand."""
        self.failures_in_a_row += 1
        delay = min(self.max_backoff, 2.0**self.failures_in_a_row) * random.uniform(0.5, 1.0)  # noqa: S311
        log.warning("store_unavailable", waiting=len(msgs), pause=round(delay, 1))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while (left := deadline - loop.time()) > 0 and not self.stop.is_set():
            await asyncio.gather(*(msg.in_progress() for msg in msgs))
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=min(left, self.heartbeat))
            except TimeoutError:
                continue
