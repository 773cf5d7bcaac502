"""Embedded store benchmark: bulk indexing next to a bare INSERT, then query latency.

(a) Indexing. N notices generated from the real samples (tests/fixtures, normalized as the
    contract suite does): each one is a real notice with a new id, a title and description
    drawn from real title and description words, real CPV codes, a random département (and its
    region), dates spread over 2018-2026, a deadline on 40 % and an estimated value on 40 %;
    one in ten joins the procedure of an earlier one (a corrigendum-like follow-up). They are
    indexed in batches with `EmbeddedStore.index`, two in flight as the indexer keeps them (the
    store prepares one while SQLite writes the other). The baseline, measured in the same run on
    the same batches, encodes each notice with msgspec and `executemany`-INSERTs (id, body and
    the same filter columns) into a plain SQLite table without index, one transaction per batch
    with the same pragmas: the least any store must do to keep the notices. A second
    baseline, "same rows", replays with bare `executemany` every row the store itself wrote
    for those notices (recorded from a store run beforehand: notices and their indexes,
    bodies, terms, full-text rows, history, procedure cards; the rows the store sends as one
    JSON array per table are bound one by one here), one transaction per batch as the
    store's, into a file made by the store's own schema: the
    database's share of the work, so that the ratio to it is the store's own overhead (its
    Python: JSON, derived columns, French analysis, versions, cards). Up to 200,000 notices
    (the recorded rows are held in memory).
(b) Queries. On the N indexed notices, a mix of searches as the search API sends them
    (text + filters + facets, sorted, sometimes a second page or grouped by procedure); p50 and
    p99 of the wall time of `EmbeddedStore.search`, overall and per kind, first with the
    per-reader result cache off (every count and facet computed), then on (the default: the
    second page of a query and repeated queries reuse the first one's total and facets).

    .venv/bin/python bench/store_bench.py [--n 1000000] [--batch 1000] [--queries 600]
        [--rounds 1] [--dir PATH] [--compare-analysis http://127.0.0.1:9250]

`--compare-analysis` also runs every real title through this store's analysis and through the
OpenSearch node's (light_french stemmer), and prints how often the tokens differ.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scope_shared.reference import departments
from scope_shared.schema import Amount, Notice, Place
from scope_shared.store import IndexOutcome, SearchQuery
from scope_shared.store.embedded import EmbeddedStore, schema, writer
from scope_shared.store.embedded.analysis import words
from scope_shared.store.embedded.fields import columns
from scope_shared.store.embedded.schema import PRAGMAS
from tests.support.corpus import normalize_fixtures

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
FOLDERS = {"france_boamp": "france_boamp", "europe_ted": "europe_ted",
           "france_decp": "france_decp", "ocds": "ocds_api"}  # fmt: skip
START = datetime(2018, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 9 * 365 * 86400


async def load_templates() -> list[Notice]:
    """Every real sample that maps, as the contract suite's corpus fixture builds it."""
    return await normalize_fixtures()


class Generator:
    """Deterministic notices shaped like the templates: batch `i` is the same in every run."""

    def __init__(self, templates: list[Notice]) -> None:
        self.templates = templates
        self.title_words = [w for n in templates for w in n.title.split() if len(w) > 2]
        self.text_words = [w for n in templates for w in (n.description or "").split()]
        self.text_words = self.text_words or self.title_words
        self.cpvs = sorted({c for n in templates for c in [n.cpv_main, *n.cpv_additional] if c})
        self.departments = [(d.code, d.region) for d in departments() if d.region]

    def notice(self, number: int, rng: random.Random) -> Notice:
        template = rng.choice(self.templates)
        source_id = f"bench-{number}"
        procedure = f"own:bench-{rng.randrange(number)}" if number and rng.random() < 0.1 else (
            f"own:{source_id}")  # fmt: skip
        published = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        department, region = rng.choice(self.departments)
        value = Amount(amount=Decimal(int(rng.lognormvariate(11, 1.5))))
        return msgspec.structs.replace(
            template, id=f"{template.source}:{source_id}", source_id=source_id,
            procedure_id=procedure, version=1,
            title=" ".join(rng.choices(self.title_words, k=rng.randint(4, 12))).capitalize(),
            description=" ".join(rng.choices(self.text_words, k=rng.randint(20, 80))),
            cpv_main=rng.choice(self.cpvs), cpv_additional=rng.sample(self.cpvs, rng.randint(0, 2)),
            place=Place(departments=[department], regions=[region], country="FR"),
            published_at=published,
            submission_deadline=published + timedelta(days=rng.randint(10, 60))
            if rng.random() < 0.4 else None,
            estimated_value=value if rng.random() < 0.4 else None,
        )  # fmt: skip

    def batches(self, n: int, size: int) -> Iterator[list[Notice]]:
        for start in range(0, n, size):
            rng = random.Random(start)
            yield [self.notice(i, rng) for i in range(start, min(n, start + size))]


def baseline(path: Path, generator: Generator, n: int, size: int) -> float:
    """Seconds spent encoding and INSERTing the rows into a plain table (generation excluded)."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    connection.execute(
        "CREATE TABLE plain (id TEXT, body BLOB, published_at INTEGER, deadline INTEGER,"
        " value REAL, source TEXT, notice_type TEXT, status TEXT, procedure_type TEXT,"
        " contract_nature TEXT, procedure_id TEXT, siret TEXT, siren TEXT, buyer TEXT)"
    )
    encoder = msgspec.json.Encoder()
    spent = 0.0
    for batch in generator.batches(n, size):
        started = time.perf_counter()
        rows = []
        for notice in batch:
            c = columns(notice)
            rows.append((notice.id, encoder.encode(notice), c.published_at, c.deadline, c.value,
                         c.source, c.notice_type, c.status, c.procedure_type, c.contract_nature,
                         c.procedure_id, c.buyer_siret, c.buyer_siren, c.buyer_name))  # fmt: skip
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO plain VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        connection.execute("COMMIT")
        spent += time.perf_counter() - started
    connection.close()
    return spent


Statement = tuple[str, list[Any]]
"""One recorded write: its SQL and its rows (one row for `execute`)."""
SAME_ROWS_LIMIT = 200_000


class _RecordingConnection(sqlite3.Connection):
    """A connection that keeps every write it runs (transactions included), in order."""

    writes: list[Statement]

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        if _is_write(sql):
            self.writes.append(_bound_row_by_row(sql, [parameters]))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, rows: Any, /) -> sqlite3.Cursor:
        rows = list(rows)
        if _is_write(sql):
            self.writes.append((sql, rows))
        return super().executemany(sql, rows)


def _bound_row_by_row(sql: str, rows: list[Any]) -> Statement:
    """The store sends its notices, terms and full-text rows as one JSON array per batch
    (unpacked by `json_each`); the bare baseline binds those same rows one by one with
    `executemany`, the plain way, so that unpacking them is the store's cost, not the
    baseline's."""
    if sql == writer._INSERT_NOTICES:
        marks = ",".join("?" * 18)
        plain = f"INSERT OR REPLACE INTO notices ({writer._NOTICE_COLUMNS}) VALUES ({marks})"
        return plain, [tuple(row) for (array,) in rows for row in msgspec.json.decode(array)]
    if sql == writer._INSERT_FTS:
        plain = "INSERT INTO fts (rowid, title, description, buyer, lots) VALUES (?, ?, ?, ?, ?)"
        return plain, [tuple(row) for (array,) in rows for row in msgspec.json.decode(array)]
    if sql == writer._INSERT_TERMS:
        plain = "INSERT INTO terms (doc, field, value) VALUES (?, ?, ?)"
        return plain, [
            (doc, field, value)
            for (array,) in rows
            for doc, pairs in msgspec.json.decode(array)
            for field, value in pairs
        ]
    return sql, rows


def _is_write(sql: str) -> bool:
    return sql.lstrip().split(None, 1)[0].upper() in {"BEGIN", "COMMIT", "INSERT", "DELETE"}


async def store_writes(path: Path, generator: Generator, n: int, size: int) -> list[Statement]:
    """Every write `EmbeddedStore.index` makes for these notices, recorded from a store run
    (the store's connections are opened with a recording connection class for the run)."""
    writes: list[Statement] = []

    def recording_connect(database: str) -> sqlite3.Connection:
        connection = connect(database, factory=_RecordingConnection)
        connection.writes = writes  # type: ignore[attr-defined]
        return connection

    connect, schema.connect = schema.connect, recording_connect  # type: ignore[assignment]
    try:
        store = EmbeddedStore(path)
        await store.setup()
        writes.clear()  # the schema's own writes are not the batches'
        await index_all(store, generator, n, size, quiet=True)
        await store.close()
    finally:
        schema.connect = connect  # type: ignore[assignment]
    return writes


def same_rows_baseline(path: Path, writes: list[Statement]) -> float:
    """Seconds spent replaying the recorded writes with bare `executemany`, into a file made
    by the store's schema (so the same tables, indexes and full-text index)."""
    connection = schema.connect(str(path))
    schema.create(connection)
    spent = 0.0
    started = time.perf_counter()
    for sql, rows in writes:
        if sql.startswith("BEGIN"):
            started = time.perf_counter()
        if rows == [()]:
            connection.execute(sql)
        else:
            connection.executemany(sql, rows)
        if sql == "COMMIT":
            spent += time.perf_counter() - started
    connection.close()
    return spent


IN_FLIGHT = 2
"""Batches handed to the store at once, as the indexer does (`SCOPE_INDEXER_IN_FLIGHT`): the
store prepares the next batch while SQLite writes the current one."""
GENERATED_AHEAD = 50
"""Batches generated before each timed stretch, so that generating them is not timed (the
window of batches in flight drains at the end of each stretch, which the indexer never does:
long stretches keep that small)."""


async def _write_window(store: EmbeddedStore, batches: list[list[Notice]]) -> None:
    """Index the batches keeping IN_FLIGHT calls running, as the indexer's consumer does."""
    running: set[asyncio.Task[list[IndexOutcome]]] = set()

    def check(done: set[asyncio.Task[list[IndexOutcome]]]) -> None:
        for task in done:
            outcomes = task.result()
            assert all(o.status == "indexed" for o in outcomes), outcomes[:3]

    for batch in batches:
        if len(running) >= IN_FLIGHT:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            check(done)
        running.add(asyncio.create_task(store.index(batch)))
    await asyncio.gather(*running)
    check(running)


async def index_all(
    store: EmbeddedStore, generator: Generator, n: int, size: int, *, quiet: bool = False
) -> float:
    """Seconds spent in `EmbeddedStore.index` (batch generation excluded)."""
    spent = 0.0
    batches = generator.batches(n, size)
    done = 0
    while ahead := [b for _, b in zip(range(GENERATED_AHEAD), batches, strict=False)]:
        started = time.perf_counter()
        await _write_window(store, ahead)
        spent += time.perf_counter() - started
        done += sum(len(b) for b in ahead)
        if not quiet and done % 100_000 < size * GENERATED_AHEAD:
            print(f"  indexed {done:>9,} notices, {done / spent:,.0f}/s", flush=True)
    return spent


def file_size(path: Path) -> int:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def query_mix(generator: Generator, rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """(kind, SearchQuery arguments): the searches a result page and its filters send."""
    words = [w for w in generator.title_words if len(w) > 4]
    department = rng.choice(generator.departments)[0]
    cpv = rng.choice(generator.cpvs)
    now = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
    facets = ["cpv_division", "department", "source", "notice_type"]
    return [
        ("text+facets", {"q": rng.choice(words), "facets": facets}),
        ("2 words+dept, newest", {"q": " ".join(rng.sample(words, 2)),
                                  "department": [department], "sort": "newest"}),
        ("cpv+dept+open, deadline, all facets", {
            "cpv": [cpv[:2]], "department": [department], "open_only": True, "now": now,
            "sort": "deadline", "facets": ["cpv_division", "department", "region", "source",
                                           "notice_type", "procedure_type", "buyer"]}),
        ("text+value, value, page 2", {"q": rng.choice(words), "value_min": Decimal(50_000),
                                       "sort": "value", "page": 2}),
        ("grouped text+facets", {"q": rng.choice(words), "group_by_procedure": True,
                                 "facets": facets}),
        ("phrase+exclusion+highlight", {"q": f'"{rng.choice(words)}" -{rng.choice(words)}',
                                        "highlight": True, "cpv": [cpv[:4]]}),
        ("everything, newest, facets", {"sort": "newest", "facets": facets}),
    ]  # fmt: skip


async def run_queries(
    store: EmbeddedStore, generator: Generator, count: int
) -> dict[str, list[float]]:
    rng = random.Random(7)
    timings: dict[str, list[float]] = {}
    while sum(len(t) for t in timings.values()) < count:
        for kind, arguments in query_mix(generator, rng):
            page = arguments.pop("page", 1)
            started = time.perf_counter()
            result = await store.search(SearchQuery(**arguments))
            if page == 2 and result.next_cursor:
                await store.search(SearchQuery(cursor=result.next_cursor, **arguments))
            timings.setdefault(kind, []).append(time.perf_counter() - started)
    return timings


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  (n={len(ordered)})"


def _light_french(url: str, word: str) -> tuple[str, ...]:
    """The node's French chain with the light_french stemmer, as the OpenSearch store uses."""
    import urllib.request  # noqa: PLC0415 - only for this optional comparison

    chain = {"tokenizer": "standard", "filter": [
        "lowercase", {"type": "stop", "stopwords": "_french_"},
        {"type": "stemmer", "language": "light_french"}, "asciifolding"]}  # fmt: skip
    request = urllib.request.Request(
        f"{url}/_analyze", data=msgspec.json.encode({**chain, "text": word}),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return tuple(t["token"] for t in msgspec.json.decode(response.read())["tokens"])


def compare_analysis(url: str, templates: list[Notice]) -> None:
    """Which real title words the two stemmers group differently (what changes the hits)."""
    from scope_shared.store.embedded.analysis import analyse, analyse_word  # noqa: PLC0415

    titles = sorted({n.title for n in templates})
    vocabulary = sorted({w for t in titles for m in words(t) for w in [analysis_key(m.group())]
                         if w})  # fmt: skip
    ours = {w: analyse_word(w) for w in vocabulary}
    theirs = {w: _light_french(url, w) for w in vocabulary}

    def classes(stems: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
        groups: dict[tuple[str, ...], set[str]] = {}
        for word, stem in stems.items():
            groups.setdefault(stem, set()).add(word)
        return {w: frozenset(groups[stem]) for w, stem in stems.items()}

    snowball, light = classes(ours), classes(theirs)
    differing = sorted(w for w in vocabulary if snowball[w] != light[w])
    affected = [t for t in titles if any(analysis_key(m.group()) in differing for m in words(t))]
    same_tokens = sum(analyse(t) == [x for m in words(t) for x in theirs.get(
        analysis_key(m.group()), ())] for t in titles)  # fmt: skip
    print(f"analysis: {len(titles)} distinct real titles, {len(vocabulary)} distinct words")
    print(f"  titles whose token strings are identical: {same_tokens}")
    print(
        f"  words grouped differently (changes which words match each other): "
        f"{len(differing)} ({len(differing) / len(vocabulary):.1%}), in {len(affected)} titles"
    )
    shown: set[frozenset[str]] = set()
    for word in differing:
        if snowball[word] | light[word] in shown or len(shown) == 12:
            continue
        shown.add(snowball[word] | light[word])
        print(
            f"  {word!r}: snowball with {sorted(snowball[word] - {word})[:5]}, "
            f"light_french with {sorted(light[word] - {word})[:5]}"
        )


def analysis_key(word: str) -> str:
    """A tokenizer word after elision and lowercase, or '' for a stop word."""
    from scope_shared.store.embedded.analysis import (  # noqa: PLC0415
        ELISION_ARTICLES,
        FRENCH_STOP_WORDS,
    )

    lowered = word.lower().replace("’", "'")
    head, _, tail = lowered.partition("'")
    if tail and head in ELISION_ARTICLES:
        lowered = tail
    return "" if lowered in FRENCH_STOP_WORDS or "'" in lowered else lowered


def _fresh(path: Path) -> Path:
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    return path


async def indexing(args: argparse.Namespace, generator: Generator, folder: Path) -> None:
    """The baselines and the store, alternating for `--rounds` rounds (medians printed), so
    that a busy machine weighs on all alike; leaves `store.db` and `plain.db` for the rest."""
    writes: list[Statement] = []
    if args.n <= SAME_ROWS_LIMIT:
        writes = await store_writes(_fresh(folder / "record.db"), generator, args.n, args.batch)
        _fresh(folder / "record.db")
    spent: dict[str, list[float]] = {"plain": [], "store": [], "same": []}
    for _ in range(args.rounds):
        spent["plain"].append(baseline(_fresh(folder / "plain.db"), generator, args.n, args.batch))
        store = EmbeddedStore(_fresh(folder / "store.db"))
        await store.setup()
        spent["store"].append(await index_all(store, generator, args.n, args.batch))
        await store.close()
        if writes:
            spent["same"].append(same_rows_baseline(_fresh(folder / "same.db"), writes))
            _fresh(folder / "same.db")
    plain, mine = statistics.median(spent["plain"]), statistics.median(spent["store"])
    rounds = {name: [round(t, 2) for t in times] for name, times in spent.items()}
    print(f"{args.n:,} notices, median of {args.rounds} rounds (seconds per round: {rounds})")
    print(f"baseline executemany INSERT: {args.n / plain:,.0f} notices/s ({plain:.1f} s)")
    print(f"EmbeddedStore.index: {args.n / mine:,.0f} notices/s ({mine:.1f} s), "
          f"{plain / mine:.0%} of the baseline")  # fmt: skip
    if writes:
        same = statistics.median(spent["same"])
        print(f"baseline, same rows (bare executemany of the store's {len(writes):,} recorded "
              f"statements): {args.n / same:,.0f} notices/s ({same:.1f} s); "
              f"EmbeddedStore.index: {same / mine:.0%} of it")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="indexing rounds (medians)")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--compare-analysis", metavar="URL", default=None)
    args = parser.parse_args()
    templates = await load_templates()
    print(f"templates: {len(templates)} real notices")
    if args.compare_analysis:
        compare_analysis(args.compare_analysis, templates)
    generator = Generator(templates)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="store-bench-"))
    await indexing(args, generator, folder)
    size = file_size(folder / "store.db")
    print(
        f"database: {size / 2**20:,.0f} MiB, {size / 2**20 / args.n * 100_000:,.0f} MiB per "
        f"100k notices (plain table: {file_size(folder / 'plain.db') / 2**20:,.0f} MiB)"
    )
    for label, entries in (("no result cache", 0), ("result cache on (default)", 256)):
        store = EmbeddedStore(folder / "store.db", cache_entries=entries)
        await store.setup()
        timings = await run_queries(store, generator, args.queries)
        everything = percentiles([t for v in timings.values() for t in v])
        print(f"queries on {args.n:,} notices, {label}: all {everything}")
        for kind, values in timings.items():
            print(f"  {kind:38} {percentiles(values)}")
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
