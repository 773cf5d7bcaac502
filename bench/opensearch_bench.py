"""OpenSearch store benchmark: write throughput against a bare bulk baseline, query latency.

Notices are generated from the real samples (the contract suite's corpus, tests/fixtures):
each one is a real notice under a new id, with its title extended by two words drawn from
the corpus's titles, a publication date spread over 2015-2026, a deadline for two in three,
an estimated value for half, a CPV code and a département drawn from the corpus, and three
notices per procedure arriving far apart (as a call, its corrigendum and its award do), so
that every notice updates a card that already has members.

(a) Throughput. The same W notices are written, each time into fresh indices made from the
    store's own template: through `OpenSearchStore.index()` (notices, history and procedure
    cards, Notice -> document conversion included), two batches in flight as the indexer
    keeps them, and also one at a time. Two baselines, each a bare
    `async_streaming_bulk` (default client, chunks of 500 actions) of documents pre-built as
    dicts: "same documents" sends every document the store writes for those notices (the
    notice documents with external versioning, their history entries, and each successive
    version of every procedure card, recorded from a store run beforehand, in the store's
    order); "notices only" sends the notice documents alone. And the store's own bulk path
    for the notices alone ("notices only path": the second baseline's work, the store's
    code). Figures: notices per second, the ratios, and the CPU each used (OpenSearch's own
    counter for the server, so that other processes on a shared machine do not count).
(b) Latency. N notices are loaded through the store, then each query kind runs Q times, one
    at a time: p50 and p99 in milliseconds, measured by the client (network included).

    .venv/bin/python bench/opensearch_bench.py --url http://127.0.0.1:9260 [--n N] [--w W]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import TransportError
from opensearchpy.helpers import async_streaming_bulk

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scope_shared.schema import Amount, Notice, Place
from scope_shared.store import FACETS, SearchQuery
from scope_shared.store.opensearch import OpenSearchStore, cards, indexing
from scope_shared.store.opensearch.bulk import Action, ItemResult, run_bulk
from scope_shared.store.opensearch.documents import notice_document
from tests.support.corpus import normalize_fixtures

START = datetime(2015, 1, 1, tzinfo=UTC)
SPAN_DAYS = 11 * 365
BATCH = 500
"""The indexer's batch size: what one `index()` call receives."""
IN_FLIGHT = 2
"""Batches the indexer writes at once (`SCOPE_INDEXER_IN_FLIGHT`'s default)."""
RETRIES = 5
RETRY_DELAY = 0.5
"""Both paths retry a 429 the same way: five times, from half a second, doubling."""


class Factory:
    """Generated notices shaped like the real ones (see the module docstring)."""

    def __init__(self, corpus: list[Notice], total: int, seed: int = 7) -> None:
        self.corpus = corpus
        self.seed = seed
        # Notice i joins procedure i mod total/3: the three notices of a procedure arrive
        # far apart, as a call, its corrigendum and its award do, so each updates the card.
        self.procedures = max(1, total // 3)
        self.words = sorted({w for n in corpus for w in n.title.split() if len(w) > 4})
        self.cpvs = sorted({n.cpv_main for n in corpus if n.cpv_main})
        found = {d for n in corpus if n.place for d in n.place.departments}
        self.departments = sorted(found | {"13", "33", "59", "69", "75"})

    def make(self, i: int) -> Notice:
        rng = random.Random(self.seed * 1_000_003 + i)
        base = self.corpus[i % len(self.corpus)]
        published = START + timedelta(days=rng.randrange(SPAN_DAYS), hours=rng.randrange(24))
        deadline = published + timedelta(days=rng.randrange(10, 60)) if i % 3 else None
        value = Amount(amount=Decimal(rng.randrange(1_000, 5_000_000)) / 100) if i % 2 else None
        department = rng.choice(self.departments)
        return msgspec.structs.replace(
            base, id=f"{base.source}:bench-{i}", source_id=f"bench-{i}",
            procedure_id=f"bench:procedure-{i % self.procedures}", version=1,
            title=f"{base.title} {rng.choice(self.words)} {rng.choice(self.words)}",
            published_at=published, submission_deadline=deadline, estimated_value=value,
            cpv_main=rng.choice(self.cpvs), place=Place(departments=[department]),
        )  # fmt: skip

    def batches(self, start: int, count: int) -> Iterator[list[Notice]]:
        for first in range(start, start + count, BATCH):
            yield [self.make(i) for i in range(first, min(first + BATCH, start + count))]


# --- (a) throughput -------------------------------------------------------------------------


class Cost(msgspec.Struct, frozen=True):
    wall: float
    server_cpu: float
    """Seconds of CPU the OpenSearch process used (its own counter, so other processes on a
    busy machine do not count)."""
    client_cpu: float


async def _server_cpu(client: Any) -> float:
    stats = await client.nodes.stats(node_id="_local", metric="process")
    (node,) = stats["nodes"].values()
    return float(node["process"]["cpu"]["total_in_millis"]) / 1000


async def _measured(client: Any, run: Callable[[], Awaitable[int]]) -> Cost:
    """Run, checking it reported no failure, and what it cost."""
    server, client_cpu, wall = await _server_cpu(client), time.process_time(), time.perf_counter()
    failed = await run()
    wall, client_cpu = time.perf_counter() - wall, time.process_time() - client_cpu
    assert failed == 0, f"{failed} writes failed"
    return Cost(wall, await _server_cpu(client) - server, client_cpu)


async def _index_retrying(store: OpenSearchStore, batch: list[Notice]) -> int:
    """As the indexer does: send retryable failures again (a 512 MB heap sometimes answers
    429 when its circuit breaker trips); the number of notices that still failed."""
    for attempt in range(RETRIES + 1):
        outcomes = await store.index(batch)
        retry = {o.notice_id for o in outcomes if o.status == "failed" and o.retryable}
        batch = [n for n in batch if n.id in retry]
        if not batch:
            return sum(o.status == "failed" for o in outcomes)
        await asyncio.sleep(RETRY_DELAY * 2**attempt)
    return len(batch)


async def _store_run(
    url: str, prefix: str, batches: list[list[Notice]], in_flight: int = IN_FLIGHT
) -> Cost:
    """`index()` batch after batch, `in_flight` calls running at once as the indexer's
    consumer keeps them (`SCOPE_INDEXER_IN_FLIGHT`)."""
    store = OpenSearchStore(url, index_prefix=prefix, timeout=60)
    await store.drop()
    await store.setup()

    async def run() -> int:
        failed, running = 0, set[asyncio.Task[int]]()
        for batch in batches:
            if len(running) >= in_flight:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                failed += sum(task.result() for task in done)
            running.add(asyncio.create_task(_index_retrying(store, batch)))
        return failed + sum(await asyncio.gather(*running))

    cost = await _measured(store._client, run)
    await store.drop()
    await store.close()
    return cost


async def _notices_only_run(url: str, prefix: str, batches: list[list[Notice]]) -> Cost:
    """The store's own write path (Notice -> document bytes -> raw bulk) for the notices
    alone: the same work as the baseline, to tell the client path's cost from the extra
    documents (history, cards) the store writes."""
    store = OpenSearchStore(url, index_prefix=prefix, timeout=60)
    await store.drop()
    await store.setup()
    alias = store.names.alias("notices")

    async def run() -> int:
        failed = 0
        for batch in batches:
            now = datetime.now(UTC)
            actions = [Action("index", {"_index": alias, "_id": n.id, "version": n.version,
                                        "version_type": "external_gte"},
                              notice_document(n, now)) for n in batch]  # fmt: skip
            for attempt in range(RETRIES + 1):
                results = await run_bulk(store._client, actions, refresh="false",
                                         request_timeout=60)  # fmt: skip
                retry = [a for a, r in zip(actions, results, strict=True) if r.retryable]
                failed += sum(not r.ok and not r.retryable for r in results)
                if not retry:
                    break
                actions = retry
                await asyncio.sleep(RETRY_DELAY * 2**attempt)
        return failed

    cost = await _measured(store._client, run)
    await store.drop()
    await store.close()
    return cost


async def _baseline_run(url: str, prefix: str, actions: list[dict[str, Any]]) -> Cost:
    """A bare `async_streaming_bulk` of pre-built actions (`_index` holds the index kind:
    `notices`, `history` or `procedures`, written to this prefix's alias of it)."""
    # The store's setup makes the indices and aliases the baseline writes into.
    store = OpenSearchStore(url, index_prefix=prefix, timeout=60)
    await store.drop()
    await store.setup()
    client = AsyncOpenSearch(hosts=[url], timeout=60)

    async def run() -> int:
        prefixed = ({**a, "_index": store.names.alias(a["_index"])} for a in actions)
        results = async_streaming_bulk(
            client, prefixed, chunk_size=BATCH, raise_on_error=False,
            max_retries=RETRIES, initial_backoff=RETRY_DELAY,
        )  # fmt: skip
        return sum([not ok async for ok, _item in results])

    cost = await _measured(client, run)
    await client.close()
    await store.drop()
    await store.close()
    return cost


def _notice_actions(batches: list[list[Notice]]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {"_index": "notices", "_id": n.id, "version": n.version, "version_type": "external_gte",
         "_source": msgspec.json.decode(notice_document(n, now))}
        for batch in batches for n in batch
    ]  # fmt: skip


def _as_bare_action(action: Action, store: OpenSearchStore) -> dict[str, Any]:
    """A store action as `async_streaming_bulk` takes it: same id, same body, same external
    version; card writes lose their `if_seq_no` guard (the baseline has no concurrent writer
    to guard against), `create` becomes `index`."""
    kind = next(k for k in ("notices", "history", "procedures")
                if action.meta["_index"] == store.names.alias(k))  # fmt: skip
    bare: dict[str, Any] = {"_index": kind, "_id": action.meta["_id"]}
    if "version" in action.meta:
        bare |= {"version": action.meta["version"], "version_type": "external_gte"}
    if action.op == "delete":
        return bare | {"_op_type": "delete"}
    assert action.body is not None
    return bare | {"_source": msgspec.json.decode(action.body)}


async def _store_actions(url: str, batches: list[list[Notice]]) -> list[dict[str, Any]]:
    """Every write `index()` makes for these batches, in order, recorded from a store run.

    The store's two modules that send bulk requests get a recording `run_bulk` for the run;
    only the writes OpenSearch accepted are kept (a 429 retried later is recorded once).
    """
    store = OpenSearchStore(url, index_prefix="bench-record", timeout=60)
    await store.drop()
    await store.setup()
    recorded: list[dict[str, Any]] = []

    async def recording(client: Any, actions: list[Action], **options: Any) -> list[ItemResult]:
        results = await run_bulk(client, actions, **options)
        recorded.extend(_as_bare_action(a, store) for a, r in zip(actions, results, strict=True)
                        if r.ok)  # fmt: skip
        return results

    indexing.run_bulk, cards.run_bulk = recording, recording  # type: ignore[assignment]
    try:
        assert sum([await _index_retrying(store, batch) for batch in batches]) == 0
    finally:
        indexing.run_bulk, cards.run_bulk = run_bulk, run_bulk
    await store.drop()
    await store.close()
    return recorded


def _median(costs: list[Cost]) -> Cost:
    return Cost(*(statistics.median(getattr(c, f) for c in costs) for f in Cost.__struct_fields__))


async def throughput(url: str, factory: Factory, count: int, rounds: int) -> dict[str, Cost]:
    """What the store and the bare baselines cost for the same notices; they alternate for
    `rounds` rounds (medians kept) so that a busy machine weighs on all alike."""
    batches = list(factory.batches(0, count))
    same_documents = await _store_actions(url, batches)
    notices_only = _notice_actions(batches)
    await _store_run(url, "bench-warm", batches[:4])  # JIT and caches on both sides
    await _baseline_run(url, "bench-warm", notices_only[: 4 * BATCH])
    costs: dict[str, list[Cost]] = {name: [] for name in RUNS}
    for _ in range(rounds):
        costs[BASE_SAME].append(await _baseline_run(url, "bench-same", same_documents))
        costs[STORE].append(await _store_run(url, "bench-store", batches))
        costs[STORE_ONE].append(await _store_run(url, "bench-store", batches, in_flight=1))
        costs[BASE_NOTICES].append(await _baseline_run(url, "bench-base", notices_only))
        costs[PATH].append(await _notices_only_run(url, "bench-only", batches))
    print(f"    the store wrote {len(same_documents):,} documents for {count:,} notices")
    return {name: _median(runs) for name, runs in costs.items()}


BASE_SAME, STORE = "baseline, same documents", "store index()"
STORE_ONE = "store index(), 1 in flight"
BASE_NOTICES, PATH = "baseline, notices only", "notices only path"
RUNS = (BASE_SAME, STORE, STORE_ONE, BASE_NOTICES, PATH)


def print_throughput(count: int, rounds: int, costs: dict[str, Cost]) -> None:
    print(f"(a) {count:,} notices, median of {rounds} rounds:")
    for name, cost in costs.items():
        print(f"    {name:26} {count / cost.wall:7,.0f} notices/s   CPU per 1,000 notices: "
              f"server {cost.server_cpu / count * 1e6:5.0f} ms, "
              f"client {cost.client_cpu / count * 1e6:5.0f} ms")  # fmt: skip
    pairs = ((STORE, BASE_SAME), (STORE_ONE, BASE_SAME), (PATH, BASE_NOTICES),
             (STORE, BASE_NOTICES))  # fmt: skip
    for name, base in pairs:
        ratio = costs[base].wall / costs[name].wall
        print(f"    {name} / {base}: {ratio:.0%} of the notices per second")


# --- (b) latency ----------------------------------------------------------------------------


async def load(store: OpenSearchStore, factory: Factory, count: int) -> float:
    """Load `count` notices through the store, batch after batch; notices per second."""
    started = time.perf_counter()
    for done, batch in enumerate(factory.batches(0, count)):
        failed = await _index_retrying(store, batch)
        assert failed == 0, f"{failed} notices failed"
        if done % 200 == 0:
            print(f"  loaded {done * BATCH:,} at {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)  # fmt: skip
    await store.refresh()
    return count / (time.perf_counter() - started)


def query_kinds(factory: Factory, rng: random.Random) -> dict[str, Callable[[], SearchQuery]]:
    def word() -> str:
        return rng.choice(factory.words)

    return {
        "text, 2 words": lambda: SearchQuery(q=f"{word()} {word()}"),
        "text + highlight": lambda: SearchQuery(q=word(), highlight=True),
        "filters + 7 facets": lambda: SearchQuery(
            cpv=[rng.choice(factory.cpvs)[:2]],
            department=[rng.choice(factory.departments)],
            facets=list(FACETS),
        ),
        "everything + 7 facets": lambda: SearchQuery(facets=list(FACETS)),
        "open_only, deadline sort": lambda: SearchQuery(
            open_only=True, now=START + timedelta(days=rng.randrange(SPAN_DAYS)), sort="deadline"
        ),
        "newest, page 2 (cursor)": lambda: SearchQuery(sort="newest", cursor="PAGE2"),
        "grouped by procedure": lambda: SearchQuery(q=word(), group_by_procedure=True),
    }


async def _timed(store: OpenSearchStore, query: SearchQuery) -> tuple[float, int, Any]:
    """Milliseconds of the answered search, how many times the node refused it first (429:
    the circuit breaker of a 512 MB heap; a refusal is retried as writes are), the result."""
    for refused in range(RETRIES + 1):
        started = time.perf_counter()
        try:
            result = await store.search(query)
        except TransportError as exc:
            if exc.status_code != 429 or refused == RETRIES:
                raise
            await asyncio.sleep(RETRY_DELAY * 2**refused)
            continue
        return (time.perf_counter() - started) * 1000, refused, result
    raise AssertionError("unreachable")


async def latency(store: OpenSearchStore, factory: Factory, repeats: int) -> dict[str, Any]:
    """p50 / p99 milliseconds and refusals per query kind (page 2 is timed without its
    first page)."""
    rng = random.Random(11)
    figures: dict[str, Any] = {}
    for name, make in query_kinds(factory, rng).items():
        samples, refusals = [], 0
        for _ in range(repeats):
            query = make()
            if query.cursor == "PAGE2":
                *_, first = await _timed(store, msgspec.structs.replace(query, cursor=None))
                query = msgspec.structs.replace(query, cursor=first.next_cursor)
            elapsed, refused, _ = await _timed(store, query)
            samples.append(elapsed)
            refusals += refused
        cuts = statistics.quantiles(samples, n=100)
        figures[name] = (cuts[49], cuts[98], refusals)
    return figures


# --- main -------------------------------------------------------------------------------------


async def _corpus() -> list[Notice]:
    notices = await normalize_fixtures()
    return [n for n in notices if n.version == 1]


async def main(args: argparse.Namespace) -> None:
    corpus = await _corpus()
    print(f"templates: {len(corpus)} real notices")
    if args.w:
        costs = await throughput(args.url, Factory(corpus, args.w), args.w, args.rounds)
        print_throughput(args.w, args.rounds, costs)
    if args.n:
        factory = Factory(corpus, args.n)
        store = OpenSearchStore(args.url, index_prefix="bench-q", timeout=60)
        if not args.reuse:
            await store.drop()
            await store.setup()
            rate = await load(store, factory, args.n)
            print(f"(b) loaded {args.n:,} notices through the store at {rate:,.0f}/s")
        for name, (p50, p99, refused) in (await latency(store, factory, args.q)).items():
            print(f"    {name:28} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   refused {refused}")
        await store.close()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    parser.add_argument("--n", type=int, default=1_000_000, help="notices for latency (b)")
    parser.add_argument("--w", type=int, default=50_000, help="notices for throughput (a)")
    parser.add_argument("--q", type=int, default=200, help="queries per kind")
    parser.add_argument("--rounds", type=int, default=3, help="(a) alternating rounds")
    parser.add_argument("--reuse", action="store_true", help="(b) on the bench-q indices as left")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(_arguments()))
