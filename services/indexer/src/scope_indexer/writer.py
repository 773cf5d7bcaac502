"""The bulk writer: a batch of notice messages in, one delivery outcome per message out.

Messages are decoded strictly (a bad one is dead-lettered), written to the store in one bulk
call, and settled by what the store said of each document:
- indexed, or stale (an older version than the one the store has): acknowledged;
- failed for the document itself (a mapping error): dead-lettered with the store's reason;
- failed because the store is unavailable or overloaded: redelivered later, and the writer
  pauses with a growing delay, so nothing is held only in memory while the store is down.
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
    def __init__(self, store: SearchStore, *, max_backoff: float = 60.0) -> None:
        self.store = store
        self.max_backoff = max_backoff
        self.failures_in_a_row = 0

    async def write(self, msgs: Sequence[Msg]) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = [None] * len(msgs)
        notices: list[Notice] = []
        positions: list[int] = []
        for position, msg in enumerate(msgs):
            try:
                notices.append(decode_notice(msg.data))
                positions.append(position)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                outcomes[position] = exc
        if notices:
            await self._write_notices(notices, positions, outcomes)
        return outcomes

    async def _write_notices(
        self, notices: list[Notice], positions: list[int], outcomes: list[BaseException | None]
    ) -> None:
        results = await self.store.index(notices)
        retryable = 0
        for position, result in zip(positions, results, strict=True):
            DOCUMENTS.labels(outcome="retried" if result.retryable else result.status).inc()
            if result.status != "failed":
                continue
            if result.retryable:
                retryable += 1
                outcomes[position] = RetryableError(result.reason or "store unavailable")
            else:
                outcomes[position] = PermanentError(
                    result.reason or "rejected by the store", field_path=None
                )
        if retryable:
            await self._back_off(retryable, len(notices))
        else:
            self.failures_in_a_row = 0

    async def _back_off(self, retryable: int, total: int) -> None:
        """Pause before the next pull: the runner fetches nothing while this sleeps."""
        self.failures_in_a_row += 1
        delay = min(self.max_backoff, 2.0**self.failures_in_a_row) * random.uniform(0.5, 1.0)  # noqa: S311
        log.warning("store_unavailable", retryable=retryable, batch=total, pause=round(delay, 1))
        await asyncio.sleep(delay)
