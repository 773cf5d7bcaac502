"""A slow or unreachable store: 503 problems within the store timeout, never a hang.

The slow store is the real embedded store behind a wrapper that sleeps; the unreachable one is
a real OpenSearchStore pointed at a port where nothing listens.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import msgspec
import pytest

from scope_shared.schema import Notice
from scope_shared.store import SearchQuery, SearchResult, SearchStore
from tests.search_api.conftest import MakeClient
from tests.support.ports import free_port

TIMEOUT = 0.2


class SleepyStore:
    """A real store whose chosen calls sleep first (after `after` calls go through)."""

    def __init__(self, store: SearchStore, slow: set[str], *, after: int = 0,
                 delay: float = 30.0) -> None:  # fmt: skip
        self.store = store
        self.slow = slow
        self.after = after
        self.delay = delay
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.store, name)
        if name not in self.slow:
            return real

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls > self.after:
                await asyncio.sleep(self.delay)
            return await real(*args, **kwargs)

        return call


class SearchOverride:
    """A real store whose `search` a subclass replaces; every other call goes through."""

    def __init__(self, store: SearchStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


class AtLeastStore(SearchOverride):
    """A real store answering as a store does past its exact-count bound."""

    async def search(self, query: SearchQuery) -> SearchResult:
        result = await self.store.search(query)
        return msgspec.structs.replace(result, total=10_000, total_relation="gte")


async def test_slow_search_is_a_503_problem_within_the_timeout(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    store = SleepyStore(embedded_store, {"search", "get"})
    client = await make_client(store, api_store_timeout=TIMEOUT)
    for path in ("/v1/notices", "/v1/notices.atom", "/v1/notices.csv",
                 "/v1/notices/france_boamp:26-7109"):  # fmt: skip
        start = time.monotonic()
        response = await client.get(path)
        assert time.monotonic() - start < TIMEOUT + 1.0
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        body = await response.json(content_type="application/problem+json")
        assert body["type"] == "urn:scope:problem:store-unavailable"
        assert body["detail"] == f"the search store did not answer within {TIMEOUT:g} s"
    metrics = await (await client.get("/metrics")).text()
    assert 'scope_search_api_store_failures_total{operation="search",reason="timeout"} 3.0' in (
        metrics
    )


async def test_slow_ping_makes_readiness_fail(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await make_client(SleepyStore(embedded_store, {"ping"}), api_store_timeout=TIMEOUT)
    response = await client.get("/readyz")
    assert response.status == 503
    assert await response.json() == {
        "status": "unavailable", "checks": {"store": "unavailable", "nats": "unavailable"},
    }  # fmt: skip
    assert (await client.get("/healthz")).status == 200


async def test_csv_export_is_aborted_when_a_later_page_times_out(
    embedded_store: SearchStore, make_client: MakeClient, notices: list[Notice]
) -> None:
    store = SleepyStore(embedded_store, {"search"}, after=2)
    client = await make_client(store, api_store_timeout=TIMEOUT)
    response = await client.get("/v1/notices.csv")
    assert response.status == 200
    assert response.headers["X-Total-Count"] == str(len(notices))
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


async def test_unreachable_opensearch_is_a_503_problem(make_client: MakeClient) -> None:
    from scope_shared.store.opensearch import OpenSearchStore  # noqa: PLC0415 - per kind

    store = OpenSearchStore(f"http://127.0.0.1:{free_port()}", timeout=1.0)
    try:
        client = await make_client(store)
        response = await client.get("/v1/notices")
        assert response.status == 503
        body = await response.json(content_type="application/problem+json")
        assert body["detail"] == "the search store cannot be reached or is overloaded"
        ready = await client.get("/readyz")
        assert ready.status == 503
    finally:
        await store.close()


async def test_total_past_the_exact_bound_is_reported_as_at_least(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await make_client(AtLeastStore(embedded_store))
    body = await (await client.get("/v1/notices")).json()
    assert body["total"] == {"value": 10_000, "relation": "gte"}
    csv = await client.get("/v1/notices.csv?limit=1")
    assert csv.headers["X-Total-Relation"] == "gte"


class UnreadableStore(SearchOverride):
    """A real store whose stored notice no longer decodes (msgspec raises a ValueError)."""

    async def search(self, query: SearchQuery) -> SearchResult:
        msgspec.json.decode(b'{"notice_type": "tender"}', type=Notice)
        raise AssertionError("unreachable")


async def test_store_error_that_is_no_cursor_error_is_a_500_not_a_bad_cursor(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await make_client(UnreadableStore(embedded_store))
    response = await client.get("/v1/notices")
    assert response.status == 500
    body = await response.json(content_type="application/problem+json")
    assert body["type"] == "urn:scope:problem:internal-error"
