"""Behaviour only the embedded store has: a file that outlives the process, threads, SQLite
locking, and its Python-side French analysis and query translation."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import msgspec
import pytest

from scope_shared.schema import Notice
from scope_shared.store import SearchQuery
from scope_shared.store.embedded import EmbeddedStore, schema
from scope_shared.store.embedded.analysis import FRENCH_STOP_WORDS, analyse
from scope_shared.store.embedded.syntax import parse
from tests.support.corpus import copy_as


def copies(corpus: list[Notice], count: int, prefix: str) -> list[Notice]:
    """`count` distinct notices (new ids and procedures) cut from the real corpus."""
    return [copy_as(corpus[i % len(corpus)], f"{prefix}-{i}", version=1) for i in range(count)]


async def test_reopened_file_keeps_notices_history_and_cards(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    path = tmp_path / "kept.db"
    first = EmbeddedStore(path)
    await first.setup()
    await first.index(corpus)
    before = await first.search(SearchQuery(q="travaux", facets=["source"], page_size=100))
    some = corpus[-1]
    expected = (await first.get(some.id), await first.history(some.id),
                await first.procedure(some.procedure_id))  # fmt: skip
    await first.close()
    second = EmbeddedStore(path)
    await second.setup()
    after = await second.search(SearchQuery(q="travaux", facets=["source"], page_size=100))
    assert after == before and after.total > 0
    assert (await second.get(some.id), await second.history(some.id),
            await second.procedure(some.procedure_id)) == expected  # fmt: skip
    await second.close()


async def test_reads_run_while_a_writer_indexes_and_see_whole_batches(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "busy.db")
    await store.setup()
    batch, batches = 200, 15
    notices = copies(corpus, batch * batches, "busy")
    totals: list[int] = []
    gaps: list[float] = []

    async def write() -> None:
        for start in range(0, len(notices), batch):
            await store.index(notices[start : start + batch])

    async def read_until(done: asyncio.Task[None]) -> None:
        while not done.done():
            result = await store.search(SearchQuery(q="travaux OR lot", facets=["department"]))
            totals.append((await store.search(SearchQuery(page_size=1))).total)
            assert result.total <= totals[-1]

    async def tick(done: asyncio.Task[None]) -> None:
        while not done.done():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            gaps.append(time.perf_counter() - started)

    writer = asyncio.create_task(write())
    await asyncio.gather(writer, read_until(writer), read_until(writer), tick(writer))
    assert len(totals) >= 4, "readers kept answering while the writer worked"
    assert all(t % batch == 0 for t in totals), "a reader saw part of a batch"
    assert max(gaps) < 0.5, "the event loop was never blocked by SQLite"
    assert (await store.search(SearchQuery(page_size=1))).total == len(notices)
    await store.close()


async def test_locked_database_fails_the_batch_as_retryable(
    tmp_path: Path, corpus: list[Notice], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        schema, "PRAGMAS", tuple(
            "PRAGMA busy_timeout = 50" if p.startswith("PRAGMA busy_timeout") else p
            for p in schema.PRAGMAS
        )
    )  # fmt: skip
    path = tmp_path / "locked.db"
    store = EmbeddedStore(path)
    await store.setup()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        outcomes = await store.index(corpus[:3])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert [(o.notice_id, o.status, o.retryable) for o in outcomes] == [
        (n.id, "failed", True) for n in corpus[:3]
    ]
    assert [o.status for o in await store.index(corpus[:3])] == ["indexed"] * 3
    await store.close()


async def test_file_of_another_analysis_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = EmbeddedStore(path)
    await store.setup()
    await store.close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = 'other' WHERE key = 'analysis'")
    reopened = EmbeddedStore(path)
    with pytest.raises(schema.SchemaMismatchError, match="analysis"):
        await reopened.setup()
    await reopened.close()


def test_analysis_matches_opensearch_french_on_the_reference_sentence() -> None:
    # The same sentence and tokens as tests/devservices (OpenSearch's `french` analyzer).
    assert analyse("Les marchés publics de travaux") == ["march", "public", "traval"]
    assert analyse("L'aménagement d'une école jusqu'à Œuvre") == ["amenag", "ecol", "oeuvr"]
    assert analyse("MARCHES marches Marchés") == ["march"] * 3


def test_stop_words_are_lucene_french_set() -> None:
    assert len(FRENCH_STOP_WORDS) == 154
    assert {"le", "la", "les", "de", "des", "du", "à", "qu", "cette"} <= FRENCH_STOP_WORDS
    # Lucene comments these out of the Snowball list: they are also content words.
    assert not {"son", "été", "est", "sommes", "as", "aura", "avions"} & FRENCH_STOP_WORDS


def test_user_text_becomes_quoted_tokens_only() -> None:
    query = parse('NEAR(école collège) title:x "maison de santé" -amiante OR* a OR b')
    assert query.match_expression() == (
        '("near ecol" AND "colleg" AND "titl x" AND "maison sant" AND "or" AND ("a" OR "b"))'
        ' NOT ("ami")'
    )
    assert parse("le OR la").match_expression() is None
    assert parse('"" - +').match_expression() is None


async def test_cached_counts_and_facets_follow_new_batches(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "cache.db", readers=1)
    await store.setup()
    notices = copies(corpus, 40, "cache")
    await store.index(notices[:20])
    query = SearchQuery(facets=["source"], page_size=5)
    first = await store.search(query)
    assert first.total == 20 and sum(b.count for b in first.facets["source"]) == 20
    assert await store.search(query) == first
    await store.index(notices[20:])
    again = await store.search(query)
    assert again.total == 40 and sum(b.count for b in again.facets["source"]) == 40
    await store.close()


async def test_concurrent_index_calls_are_written_in_call_order(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "order.db")
    await store.setup()
    original = corpus[0]
    calls = [
        [msgspec.structs.replace(original, title=f"Remappage {i}")] for i in range(8)
    ]  # the same version each time: the last call must win
    outcomes = await asyncio.gather(*(store.index(batch) for batch in calls))
    assert [o[0].status for o in outcomes] == ["indexed"] * 8
    found = await store.get(original.id)
    assert found is not None and found.title == "Remappage 7"
    await store.close()


async def test_a_second_writer_on_the_same_file_loses_no_notice(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    """Two stores on one file both hand out row numbers from what they read at setup; the
    writer renumbers a batch whose numbers the other one took meanwhile."""
    path = tmp_path / "shared.db"
    first, second = EmbeddedStore(path), EmbeddedStore(path)
    await first.setup()
    await second.setup()
    mine, theirs = copies(corpus, 30, "first"), copies(corpus, 25, "second")
    assert {o.status for o in await second.index(theirs[:5])} == {"indexed"}
    # Numbered 1-30 at preparation, of which 1-5 are taken: written as 6-35.
    assert {o.status for o in await first.index(mine)} == {"indexed"}
    assert {o.status for o in await second.index(theirs[5:])} == {"indexed"}
    for notice in (*mine, *theirs):
        assert await second.get(notice.id) == notice
        card = await first.procedure(notice.procedure_id)
        assert card is not None and card.notice.id == notice.id
    result = await first.search(SearchQuery(page_size=100))
    assert result.total == 55
    await first.close()
    await second.close()


async def test_new_versions_leave_no_rows_of_the_old_ones(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "versions.db")
    await store.setup()
    notices = copies(corpus, 10, "v")
    await store.index(notices)
    newer = [msgspec.structs.replace(n, version=2, title=f"{n.title} rectifié") for n in notices]
    await store.index(newer)
    assert [await store.get(n.id) for n in notices] == newer
    assert [len(await store.history(n.id)) for n in notices] == [2] * 10
    await store.close()
    connection = sqlite3.connect(tmp_path / "versions.db")
    docs = {row[0] for row in connection.execute("SELECT doc FROM notices")}
    for table, column in (("bodies", "doc"), ("terms", "doc"), ("fts", "rowid")):
        found = {row[0] for row in connection.execute(f"SELECT {column} FROM {table}")}
        assert found == docs, table
    connection.close()


def test_a_sqlite_without_json_is_named_at_setup(tmp_path: Path) -> None:
    class WithoutJson(sqlite3.Connection):
        def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
            if "json(" in sql:
                raise sqlite3.OperationalError("no such function: json")
            return super().execute(sql, parameters)  # type: ignore[arg-type]

    connection = schema.connect(str(tmp_path / "old.db"), factory=WithoutJson)
    with pytest.raises(schema.MissingSqliteFeatureError, match="has no JSON"):
        schema.create(connection)
    connection.close()


SLOW_QUERY = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) "
    "SELECT count(*) FROM c"
)
"""Minutes of SQLite work: a read the caller gives up on long before it ends."""


async def test_read_given_up_by_its_caller_is_interrupted_and_frees_its_thread(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "slow.db", readers=1)
    await store.setup()
    await store.index(corpus[:5])
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await store._read(lambda c: c.execute(SLOW_QUERY).fetchone())
        # The only reader thread is free again: left running, the query would hold it.
        start = time.monotonic()
        async with asyncio.timeout(5):
            found = await store.get(corpus[0].id)
        assert found is not None and found.id == corpus[0].id
        assert time.monotonic() - start < 2
    finally:
        await store.close()


async def test_ping_answers_while_every_reader_is_busy(
    tmp_path: Path, corpus: list[Notice]
) -> None:
    store = EmbeddedStore(tmp_path / "busy-readers.db", readers=1)
    await store.setup()
    busy = asyncio.create_task(store._read(lambda c: c.execute(SLOW_QUERY).fetchone()))
    try:
        await asyncio.sleep(0.1)
        async with asyncio.timeout(2):
            assert await store.ping() is True
    finally:
        busy.cancel()
        with pytest.raises(asyncio.CancelledError):
            await busy
        await store.close()


def test_a_commit_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    """The indexer acks what the store committed: a commit a power cut could take back (WAL
    with synchronous NORMAL) would be lost for good. FULL is 2."""
    connection = schema.connect(str(tmp_path / "durable.db"))
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)
    connection.close()
