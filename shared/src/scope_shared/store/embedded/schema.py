"""Tables, indexes and connection settings of the embedded store (one SQLite file).

Layout, and why:
- `notices`: one narrow row per notice id (its latest version) holding only filter and sort
  columns, so that filtering and facet counting scan small rows; `doc` is the rowid shared
  with `bodies`, `terms` and the FTS table. Indexed: the sort orders, procedure, buyer ids,
  and every facet column (so that the facets of the whole store, the landing page, are
  index scans). Status and contract nature are not: each value covers a large share of the
  notices, so scanning in sort order and checking the column is as fast, and every index
  slows bulk loading.
- `bodies`: the notice as msgspec JSON (exact decimals, every field), read only for the hits
  of a page.
- `terms`: multi-valued filters (CPV with ancestors, departments, regions, NUTS prefixes),
  one row per (doc, field, value); the second index serves filters (a value's docs), the
  primary key deletes a doc's rows.
- `history`: every version that is not the current one (older ones, and stale arrivals), so
  that a notice's body is stored once in the common case of a single version.
- `procedures`: one card per procedure: its main notice (`main_doc`, `main_id`: the id breaks
  sort ties, as for notices), the card's corrected status and deadline as filter columns,
  sort keys, and the rest of the card as JSON.
- `fts`: FTS5 over the pre-analysed title, description, buyer name, and lots text.

Missing deadlines and values are stored as sentinel sort keys (`fields.MISSING_DEADLINE`,
`fields.MISSING_VALUE`) so that one index per sort order puts them last without `NULLS LAST`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from itertools import islice

SCHEMA_VERSION = "1"
ANALYSIS_VERSION = "snowball-french-1"
"""Recorded in `meta`: a store built by another analysis chain must be rebuilt, not reused."""

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notices (
    doc INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    procedure_id TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    deadline_key INTEGER NOT NULL,
    value_key REAL NOT NULL,
    source TEXT NOT NULL,
    notice_type TEXT NOT NULL,
    status TEXT NOT NULL,
    procedure_type TEXT,
    contract_nature TEXT,
    buyer_siret TEXT,
    buyer_siren TEXT,
    buyer_name TEXT,
    cpv_divisions TEXT,
    departments TEXT,
    regions TEXT
);
CREATE INDEX IF NOT EXISTS notices_procedure ON notices (procedure_id);
CREATE INDEX IF NOT EXISTS notices_newest ON notices (published_at DESC, id);
CREATE INDEX IF NOT EXISTS notices_deadline ON notices (deadline_key, id);
CREATE INDEX IF NOT EXISTS notices_value ON notices (value_key DESC, id);
CREATE INDEX IF NOT EXISTS notices_source ON notices (source);
CREATE INDEX IF NOT EXISTS notices_type ON notices (notice_type);
CREATE INDEX IF NOT EXISTS notices_siret ON notices (buyer_siret);
CREATE INDEX IF NOT EXISTS notices_siren ON notices (buyer_siren);
CREATE INDEX IF NOT EXISTS notices_procedure_type ON notices (procedure_type);
CREATE INDEX IF NOT EXISTS notices_buyer ON notices (buyer_name);
CREATE INDEX IF NOT EXISTS notices_divisions ON notices (cpv_divisions);
CREATE INDEX IF NOT EXISTS notices_departments ON notices (departments);
CREATE INDEX IF NOT EXISTS notices_regions ON notices (regions);
CREATE TABLE IF NOT EXISTS bodies (doc INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS terms (
    doc INTEGER NOT NULL,
    field INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (doc, field, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS terms_value ON terms (field, value, doc);
CREATE TABLE IF NOT EXISTS history (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    body BLOB NOT NULL,
    UNIQUE (id, version)
);
CREATE TABLE IF NOT EXISTS procedures (
    procedure_id TEXT PRIMARY KEY,
    main_doc INTEGER NOT NULL,
    main_id TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline_key INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    value_key REAL NOT NULL,
    meta BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS procedures_main ON procedures (main_doc);
CREATE INDEX IF NOT EXISTS procedures_status ON procedures (status);
CREATE INDEX IF NOT EXISTS procedures_newest ON procedures (published_at DESC, main_id);
CREATE INDEX IF NOT EXISTS procedures_deadline ON procedures (deadline_key, main_id);
CREATE INDEX IF NOT EXISTS procedures_value ON procedures (value_key DESC, main_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, description, buyer, lots,
    tokenize = 'unicode61 remove_diacritics 0'
);
"""

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    # FULL: a commit is on disk when it returns. The indexer acks a batch once it is
    # committed, so a transaction lost to a power cut (as NORMAL allows in WAL mode) would
    # never be redelivered. One sync per batch of hundreds of notices.
    "PRAGMA synchronous = FULL",
    # A reader never waits for a writer in WAL mode; a writer may wait for a checkpoint.
    "PRAGMA busy_timeout = 10000",
    # 64 MiB of page cache per connection: the filter indexes of a million notices fit.
    "PRAGMA cache_size = -65536",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA mmap_size = 268435456",
)


CHUNK = 500
"""Values per `IN (...)` look-up: well under SQLite's default limit of 32766 host parameters."""


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """Values in lists of at most `size`, for `IN (...)` look-ups."""
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SchemaMismatchError(RuntimeError):
    """The file was written by another schema or analysis version: rebuild it from the stream."""


def connect(
    path: str, *, factory: type[sqlite3.Connection] = sqlite3.Connection
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), with the store's pragmas.

    `check_same_thread=False` only because `close()` closes every connection from the event
    loop thread after their worker threads stopped; each connection is used by one thread.
    `factory` is sqlite3's connection class parameter (bench/store_bench.py records the
    store's writes with its own).
    """
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=512,
        factory=factory,
    )  # fmt: skip
    for pragma in PRAGMAS:
        connection.execute(pragma)
    return connection


class MissingSqliteFeatureError(RuntimeError):
    """The SQLite library Python was built with lacks a feature the store needs."""


def create(connection: sqlite3.Connection) -> None:
    """Create the tables if needed and check the file's versions; idempotent."""
    for feature, probe in (("FTS5", "SELECT fts5_source_id()"), ("JSON", "SELECT json('[]')")):
        try:
            connection.execute(probe)
        except sqlite3.OperationalError as exc:
            raise MissingSqliteFeatureError(
                f"SQLite {sqlite3.sqlite_version} has no {feature}: the embedded store needs a "
                "SQLite built with FTS5 and JSON, as python.org's installers and the usual Linux "
                "distributions' builds are; or use SCOPE_STORE=opensearch"
            ) from exc
    connection.executescript(DDL)
    wanted = {"schema_version": SCHEMA_VERSION, "analysis": ANALYSIS_VERSION}
    found = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    for key, value in wanted.items():
        if key not in found:
            connection.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        elif found[key] != value:
            raise SchemaMismatchError(f"store file has {key} {found[key]!r}, expected {value!r}")
