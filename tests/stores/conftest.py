"""Store fixtures: a fresh store of each kind (the real-sample `corpus` is in tests/conftest).

`store` is parametrized over both kinds, so every test using it runs on the embedded store
and on the real OpenSearch node: that is the contract suite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scope_shared.schema import Notice
from scope_shared.store import SearchStore
from tests.stores.model import latest_versions


@pytest.fixture(params=["embedded", "opensearch"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SearchStore]:
    """A fresh, empty store of each kind."""
    if request.param == "embedded":
        from scope_shared.store.embedded import EmbeddedStore  # noqa: PLC0415 - per kind

        created: SearchStore = EmbeddedStore(tmp_path / "store.db")
    else:
        from scope_shared.store.opensearch import OpenSearchStore  # noqa: PLC0415 - per kind

        url = request.getfixturevalue("opensearch_url")
        # Searchable as soon as indexed, as the embedded store is (tests search right after).
        created = OpenSearchStore(url, index_prefix=f"test-{uuid.uuid4().hex[:12]}", refresh=True)
    await created.setup()
    yield created
    if request.param == "opensearch":
        await created.drop()  # type: ignore[attr-defined]
    await created.close()


@pytest.fixture
async def loaded(store: SearchStore, corpus: list[Notice]) -> SearchStore:
    await store.index(corpus)
    return store


@pytest.fixture
def latest(corpus: list[Notice]) -> list[Notice]:
    return list(latest_versions(corpus).values())
