"""The store as the handlers use it: every call bounded by a timeout, failures made 503s.

A store call that takes longer than `api_store_timeout` is cancelled and the request answered
503 with `Retry-After`; an unreachable store is a 503 too. Any other exception is a bug and
surfaces as a 500 through the error middleware.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

import structlog

from scope_search_api.metrics import ApiMetrics
from scope_search_api.problems import invalid, store_unavailable
from scope_shared.errors import RetryableError
from scope_shared.schema import Notice
from scope_shared.store import (
    InvalidCursor,
    ProcedureCard,
    SearchQuery,
    SearchResult,
    SearchStore,
)

T = TypeVar("T")
log = structlog.get_logger(component="store_gateway")

OVERLOADED_STATUSES = frozenset({429, 502, 503, 504})


def _unavailable_errors() -> tuple[type[Exception], ...]:
    """What a store raises when it cannot be reached: OS-level connection errors, Scope's
    `RetryableError`, and opensearch-py's connection errors (the OpenSearch store lets them
    through). opensearch-py is imported only if installed: the embedded store does not need it."""
    errors: list[type[Exception]] = [OSError, RetryableError]
    try:
        from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError  # noqa: PLC0415

        errors.append(OpenSearchConnectionError)
    except ImportError:  # pragma: no cover - opensearch-py comes with scope-shared today
        pass
    return tuple(errors)


UNAVAILABLE = _unavailable_errors()


def _overloaded(exc: Exception) -> bool:
    """An HTTP error from a store that says "try later" (OpenSearch 429 or a 5xx proxy)."""
    status = getattr(exc, "status_code", None)
    return type(exc).__module__.startswith("opensearchpy") and status in OVERLOADED_STATUSES


class StoreGateway:
    def __init__(self, store: SearchStore, timeout: float, metrics: ApiMetrics) -> None:
        self.store = store
        self.timeout = timeout
        self.metrics = metrics

    async def _call(self, operation: str, call: Awaitable[T]) -> T:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                return await call
        except TimeoutError:
            self.metrics.store_failures.labels(operation, "timeout").inc()
            log.warning("store_call_timed_out", operation=operation, timeout=self.timeout)
            raise store_unavailable(
                f"the search store did not answer within {self.timeout:g} s"
            ) from None
        except Exception as exc:
            if not (isinstance(exc, UNAVAILABLE) or _overloaded(exc)):
                raise
            self.metrics.store_failures.labels(operation, "unavailable").inc()
            log.warning("store_call_failed", operation=operation, error_type=type(exc).__name__)
            raise store_unavailable("the search store cannot be reached or is overloaded") from None
        finally:
            self.metrics.store_latency.labels(operation).observe(time.perf_counter() - start)

    async def search(self, query: SearchQuery) -> SearchResult:
        try:
            return await self._call("search", self.store.search(query))
        except InvalidCursor:
            raise invalid("cursor", "not a cursor returned by this API") from None

    async def get(self, notice_id: str) -> Notice | None:
        return await self._call("get", self.store.get(notice_id))

    async def history(self, notice_id: str) -> list[Notice]:
        return await self._call("history", self.store.history(notice_id))

    async def procedure(self, procedure_id: str) -> ProcedureCard | None:
        return await self._call("procedure", self.store.procedure(procedure_id))

    async def procedure_notices(self, procedure_id: str) -> list[Notice]:
        return await self._call("procedure_notices", self.store.procedure_notices(procedure_id))

    async def ping(self) -> bool:
        try:
            return await self._call("ping", self.store.ping())
        except Exception:  # noqa: BLE001 - readiness reports any failure as "unavailable"
            return False
