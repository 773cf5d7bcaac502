"""Search API fixtures: the real-sample corpus in a store of each kind, and a client on the app.

`loaded_store` is parametrized over the embedded store and the real OpenSearch node (like
tests/stores), each filled once per session with the corpus; `api` is a test client on
`create_app(settings, store)`. Every test that uses `api` therefore runs on both stores.
`embedded_api` is for tests whose subject is the HTTP layer alone (parameter errors, headers).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from scope_search_api.app import create_app
from scope_search_api.settings import ApiSettings
from scope_shared.schema import Notice
from scope_shared.store import SearchStore
from tests.search_api.model import latest_versions
from tests.support.corpus import normalize_fixtures
from tests.support.ports import free_port

FRONT_END = "https://app.example.org"

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


def api_settings(**overrides: Any) -> ApiSettings:
    """Settings for a test app: NATS on a port where nothing listens (the search must not
    care), a short wait for it, one allowed front-end origin."""
    values: dict[str, Any] = {
        "nats_url": [f"nats://127.0.0.1:{free_port()}"],
        "nats_connect_timeout": 0.05,
        "api_cors_origins": [FRONT_END],
    }
    values.update(overrides)
    return ApiSettings(**values)


@pytest.fixture(scope="session")
async def corpus() -> list[Notice]:
    """Every real sample that maps (every version), as the stores' tests build it."""
    notices = await normalize_fixtures()
    assert len(notices) > 500
    return notices


@pytest.fixture(scope="session")
def notices(corpus: list[Notice]) -> list[Notice]:
    """What a store serves from the corpus: the latest version of each notice."""
    return latest_versions(corpus)


async def _open_store(kind: str, path: Path, request: pytest.FixtureRequest) -> SearchStore:
    if kind == "embedded":
        from scope_shared.store.embedded import EmbeddedStore  # noqa: PLC0415 - per kind

        return EmbeddedStore(path / "store.db")
    from scope_shared.store.opensearch import OpenSearchStore  # noqa: PLC0415 - per kind

    url = request.getfixturevalue("opensearch_url")
    return OpenSearchStore(url, index_prefix=f"test-api-{uuid.uuid4().hex[:10]}", refresh=True)


@pytest.fixture(scope="session", params=["embedded", "opensearch"])
async def loaded_store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    corpus: list[Notice],
) -> AsyncIterator[SearchStore]:
    """A store of each kind holding the corpus (every version, in corpus order)."""
    store = await _open_store(request.param, tmp_path_factory.mktemp("api-store"), request)
    await store.setup()
    outcomes = await store.index(corpus)
    assert {o.status for o in outcomes} <= {"indexed", "stale"}
    yield store
    if request.param == "opensearch":
        await store.drop()  # type: ignore[attr-defined]
    await store.close()


@pytest.fixture(scope="session")
async def embedded_store(
    tmp_path_factory: pytest.TempPathFactory, corpus: list[Notice]
) -> AsyncIterator[SearchStore]:
    from scope_shared.store.embedded import EmbeddedStore  # noqa: PLC0415 - per kind

    store = EmbeddedStore(tmp_path_factory.mktemp("api-embedded") / "store.db")
    await store.setup()
    await store.index(corpus)
    yield store
    await store.close()


@pytest.fixture
async def empty_store(tmp_path: Path) -> AsyncIterator[SearchStore]:
    """An embedded store of the test's own (tests that index into it leave the shared ones
    as they were)."""
    from scope_shared.store.embedded import EmbeddedStore  # noqa: PLC0415 - per kind

    store = EmbeddedStore(tmp_path / "own.db")
    await store.setup()
    yield store
    await store.close()


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """Start apps on loopback; every one is closed after the test."""
    clients: list[Client] = []

    async def make(
        store: SearchStore, *, clock: Callable[[], datetime] | None = None, **settings: Any
    ) -> Client:
        app = create_app(
            api_settings(**settings), store=store, **({"clock": clock} if clock else {})
        )
        client: Client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def api(loaded_store: SearchStore, make_client: MakeClient) -> Client:
    return await make_client(loaded_store)


@pytest.fixture
async def embedded_api(embedded_store: SearchStore, make_client: MakeClient) -> Client:
    return await make_client(embedded_store)


async def get_json(client: Client, path: str, status: int = 200, **params: Any) -> Any:
    response = await client.get(path, params=params or None)
    body = await response.read()
    assert response.status == status, body[:500]
    return msgspec.json.decode(body)


async def all_pages(
    client: Client, params: list[tuple[str, str]], page_size: int = 100
) -> tuple[list[dict[str, Any]], int]:
    """Every hit of a search, following `links.next`; and the number of pages read."""
    hits: list[dict[str, Any]] = []
    response = await client.get("/v1/notices", params=[*params, ("page_size", str(page_size))])
    pages = 0
    while True:
        body = msgspec.json.decode(await response.read())
        assert response.status == 200, body
        pages += 1
        hits += body["hits"]
        if body["links"]["next"] is None:
            assert body["next_cursor"] is None
            return hits, pages
        assert pages <= 1000, "paging does not end"
        response = await client.get(URL(body["links"]["next"]).raw_path_qs)


async def search_ids(client: Client, params: list[tuple[str, str]]) -> list[str]:
    hits, _ = await all_pages(client, params)
    return [hit["notice"]["id"] for hit in hits]
