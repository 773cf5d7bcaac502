"""`EmbeddedStore`: the search store in one SQLite file, for a single machine.

Threads: SQLite calls block, so none runs on the event loop. Writes (setup, index) go to one
dedicated writer thread with its own connection: SQLite allows one writer at a time anyway,
and one thread keeps batches in order. Before that, a batch's rows are prepared (JSON, derived
columns, French analysis) in a preparation thread, so that an indexer keeping two batches in
flight has the next one prepared while SQLite writes the current one. Reads go to a small
pool of reader threads, each with its own connection; in WAL mode readers never wait for the
writer and see the last committed batch. `sqlite3` releases the GIL while SQLite works, so
reader threads run in parallel.

A read whose caller gives up (the API's store timeout cancels it) is interrupted: left
running, four slow searches would hold every reader thread and queue all the others behind
them. `ping` has a thread and connection of its own, so readiness tells whether the file
answers, not whether the readers are busy.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from scope_shared.schema import Notice
from scope_shared.store.contract import IndexOutcome, ProcedureCard, SearchQuery, SearchResult
from scope_shared.store.embedded import reads, schema
from scope_shared.store.embedded.cache import DEFAULT_ENTRIES, ResultCache
from scope_shared.store.embedded.prepare import DocNumbers, prepare
from scope_shared.store.embedded.search import run_search
from scope_shared.store.embedded.writer import index_batch

T = TypeVar("T")

DEFAULT_READERS = 4
"""Reader threads: enough for the search API's concurrent requests on a laptop's cores."""


class EmbeddedStore:
    """The `SearchStore` contract on SQLite with FTS5 (see docs/stores.md).

    Args:
        path: The database file; created with its tables by `setup()`.
        readers: Reader threads (and connections) serving searches concurrently.
        cache_entries: Count and facet results kept per reader (0: none), see `cache`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        readers: int = DEFAULT_READERS,
        cache_entries: int = DEFAULT_ENTRIES,
    ) -> None:
        self._path = str(path)
        self._cache_entries = cache_entries
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="scope-store-writer")
        self._preparer = ThreadPoolExecutor(1, thread_name_prefix="scope-store-prepare")
        self._handed_over: asyncio.Event | None = None
        self._docs = DocNumbers()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="scope-store-reader")
        self._prober = ThreadPoolExecutor(1, thread_name_prefix="scope-store-ping")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = schema.connect(self._path)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _on_connection(self, function: Callable[[sqlite3.Connection], T]) -> T:
        return function(self._connection())

    async def _write(self, function: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._on_connection, function)

    async def _read(
        self,
        function: Callable[[sqlite3.Connection], T],
        executor: ThreadPoolExecutor | None = None,
    ) -> T:
        """`function` on a reader thread's connection; interrupted if the caller is cancelled."""
        loop = asyncio.get_running_loop()
        read = _InterruptibleRead(function)
        try:
            return await loop.run_in_executor(executor or self._readers, read.run, self._connection)
        except asyncio.CancelledError:
            read.interrupt()
            raise

    async def setup(self) -> None:
        """Create the file, tables and indexes if needed; idempotent."""
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        await self._write(schema.create)
        last = await self._write(lambda c: c.execute("SELECT max(doc) FROM notices").fetchone()[0])
        self._docs.at_least((last or 0) + 1)

    async def index(self, notices: Sequence[Notice]) -> list[IndexOutcome]:
        """Index a batch in one transaction; one outcome per notice, in order.

        Concurrent calls are written in the order they were made: each waits until the call
        before it has handed its batch to the writer thread, whose queue keeps that order.
        """
        if not notices:
            return []
        loop = asyncio.get_running_loop()
        previous, mine = self._handed_over, asyncio.Event()
        self._handed_over = mine
        try:
            first_doc = self._docs.take(len(notices))
            batch = await loop.run_in_executor(self._preparer, prepare, list(notices), first_doc)
            if previous is not None:
                await previous.wait()
            written = loop.run_in_executor(
                self._writer,
                self._on_connection,
                partial(index_batch, batch=batch, docs=self._docs),
            )
        finally:
            mine.set()
        return await written

    async def get(self, notice_id: str) -> Notice | None:
        return await self._read(partial(reads.get, notice_id=notice_id))

    async def history(self, notice_id: str) -> list[Notice]:
        return await self._read(partial(reads.history, notice_id=notice_id))

    async def procedure(self, procedure_id: str) -> ProcedureCard | None:
        return await self._read(partial(reads.procedure, procedure_id=procedure_id))

    async def procedure_notices(self, procedure_id: str) -> list[Notice]:
        return await self._read(partial(reads.procedure_notices, procedure_id=procedure_id))

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run a query; raises InvalidCursor for a bad cursor."""
        return await self._read(lambda c: run_search(c, query, self._cache()))

    def _cache(self) -> ResultCache:
        """This reader thread's cache of counts and facets (its connection's)."""
        cache: ResultCache | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = ResultCache(self._cache_entries)
            self._local.cache = cache
        return cache

    async def ping(self) -> bool:
        """True when the file answers a trivial query."""
        try:
            await self._read(
                lambda c: c.execute("SELECT count(*) FROM meta").fetchone(), self._prober
            )
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        """Stop the threads, then close every connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._preparer.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._prober.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()


class _InterruptibleRead(Generic[T]):
    """One read, which the awaiting side may interrupt from the event loop's thread.

    `sqlite3.Connection.interrupt` is safe from another thread; the lock makes sure it only
    reaches the connection while this read is on it (a reader thread moves on to the next
    read at once), and a read cancelled before it started does not start.
    """

    def __init__(self, function: Callable[[sqlite3.Connection], T]) -> None:
        self._function = function
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._cancelled = False

    def run(self, connect: Callable[[], sqlite3.Connection]) -> T:
        connection = connect()
        with self._lock:
            if self._cancelled:
                raise sqlite3.OperationalError("interrupted before it started")
            self._connection = connection
        try:
            return self._function(connection)
        finally:
            with self._lock:
                self._connection = None

    def interrupt(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._connection is not None:
                self._connection.interrupt()
