"""Store fixtures: the real-sample corpus, and a fresh store of each kind.

`store` is parametrized over both kinds, so every test using it runs on the embedded store
and on the real OpenSearch node: that is the contract suite.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scope_normalizer.detect import split_file
from scope_normalizer.pipeline import Normalizer
from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, make_raw_notice
from scope_shared.store import SearchStore
from tests.support.golden import FETCHED_AT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES_BY_FOLDER = {
    "france_boamp": "france_boamp",
    "europe_ted": "europe_ted",
    "france_decp": "france_decp",
    "ocds": "ocds_api",
}


async def _normalize_fixtures() -> list[Notice]:
    normalizer = Normalizer.in_memory()
    notices: list[Notice] = []
    for folder, source in SOURCES_BY_FOLDER.items():
        for path in sorted((FIXTURES / folder).rglob("*")):
            if path.suffix not in {".json", ".xml"} or "schema" in path.name or ".xsd" in path.name:
                continue
            try:
                items = list(split_file(path.read_bytes(), path.as_uri()))
            except (PermanentError, ValueError):
                continue
            for item in items:
                raw = make_raw_notice(
                    source=source, source_id=item.source_id, format=item.format,
                    payload=item.payload, url=path.as_uri(), content_type="application/json",
                    run_id="corpus", fetched_at=FETCHED_AT, attributes=item.attributes,
                )  # fmt: skip
                try:
                    notices.append((await normalizer.normalize(raw, item.payload)).notice)
                except PermanentError:
                    continue
    return notices


@pytest.fixture(scope="session")
async def corpus() -> list[Notice]:
    """Every real sample that maps, as canonical notices (hundreds, from every source)."""
    notices = await _normalize_fixtures()
    assert len(notices) > 500, "the corpus should hold every mappable real sample"
    return notices


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
