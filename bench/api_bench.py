"""Search API benchmark: latency and throughput through the API, next to the same queries
sent straight to OpenSearch in the same run.

N notices are generated from the real samples by bench/opensearch_bench.py's `Factory` and
loaded through `OpenSearchStore` (indices `bench-api-*`). The API runs in its own process
(`create_app` on that store, structlog access log on, as deployed), so that the load
generator does not share its event loop. A mix of realistic searches is prepared once (text,
text + highlight, filters + 7 facets, a deadline window sorted by deadline, page 2 through a
cursor, grouped by procedure), then sent by C concurrent clients, each on its own keep-alive
connection, by a lean client (`Connection`: prepared bytes out, status and body in):

- `api`: GET /v1/notices?... over HTTP (gzip accepted, as browsers do);
- `api, no gzip`: the same with `Accept-Encoding: identity` (what compression costs);
- `direct`: the same SearchQuery as the store's own query DSL, POSTed to OpenSearch's
  `_search` by the same client, gzip accepted (the floor: what the store costs without
  the API).

The two alternate for `--rounds` rounds (each figure is the median of its rounds) so that a
busy machine weighs on both alike. Figures: p50 / p99 in ms and requests per second, per
target, and the API's added median and p99.

    .venv/bin/python bench/api_bench.py --url http://127.0.0.1:9270 [--n N] [--reuse]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import msgspec
from multidict import MultiDict
from yarl import URL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from opensearch_bench import SPAN_DAYS, START, Factory, _corpus, load  # noqa: E402

from scope_search_api.app import create_app  # noqa: E402
from scope_search_api.cursor import decode_cursor  # noqa: E402
from scope_search_api.param_table import FILTER_PARAMS, PAGE_PARAMS  # noqa: E402
from scope_search_api.params import parse_all, search_query  # noqa: E402
from scope_search_api.service import freeze_startup_objects, setup_logging  # noqa: E402
from scope_search_api.settings import ApiSettings  # noqa: E402
from scope_shared.store import FACETS  # noqa: E402
from scope_shared.store.opensearch import OpenSearchStore  # noqa: E402
from scope_shared.store.opensearch.names import IndexNames  # noqa: E402
from scope_shared.store.opensearch.queries import search_body  # noqa: E402

PREFIX = "bench-api"
IDENTITY = {"Accept-Encoding": "identity"}
NO_GZIP = "api, no gzip"
TARGETS = ("direct", "api", NO_GZIP)
Params = list[tuple[str, str]]


# --- the API process ------------------------------------------------------------------------


async def serve(url: str, port: int) -> None:
    """`api_bench.py serve`: the API on the bench indices until killed."""
    from aiohttp import web  # noqa: PLC0415

    store = OpenSearchStore(url, index_prefix=PREFIX, timeout=30)
    settings = ApiSettings(nats_url=["nats://127.0.0.1:1"], nats_connect_timeout=0.1,
                           api_store_timeout=30, log_format="json")  # fmt: skip
    setup_logging(settings)
    runner = web.AppRunner(create_app(settings, store=store), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    freeze_startup_objects()  # as `scope run search-api` does
    await asyncio.Event().wait()


async def start_api(url: str, port: int) -> asyncio.subprocess.Process:
    """The API process, once it answers /healthz (its output is discarded)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "serve", "--url", url, "--port", str(port),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.returncode is not None:
                break
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    if process.returncode is None:
        process.terminate()
        await process.wait()
    raise RuntimeError("the API process did not start")


# --- the query mix --------------------------------------------------------------------------


def mix(factory: Factory, rng: random.Random) -> dict[str, Callable[[], Params]]:
    word = lambda: rng.choice(factory.words)  # noqa: E731

    def deadline_window() -> Params:
        start = START + timedelta(days=rng.randrange(SPAN_DAYS))
        end = start + timedelta(days=30)
        return [("deadline_after", f"{start:%Y-%m-%d}"), ("deadline_before", f"{end:%Y-%m-%d}"),
                ("sort", "deadline")]  # fmt: skip

    return {
        "text, 2 words": lambda: [("q", f"{word()} {word()}")],
        "text + highlight": lambda: [("q", word()), ("highlight", "true")],
        "filters + 7 facets": lambda: [
            ("cpv", rng.choice(factory.cpvs)[:2]),
            ("department", rng.choice(factory.departments)),
            ("facets", ",".join(FACETS)),
        ],
        "deadline window": deadline_window,
        "newest, page 2 (cursor)": lambda: [("sort", "newest"), ("cursor", "PAGE2")],
        "grouped by procedure": lambda: [("q", word()), ("group", "procedure")],
    }


class Request:
    def __init__(self, kind: str, params: Params, api_path: str, body: bytes,
                 index: str) -> None:  # fmt: skip
        self.kind = kind
        self.params = params
        self.api_path = api_path
        self.body = body
        self.index = index


def _direct_body(params: Params) -> tuple[bytes, str]:
    """The store's own DSL (JSON) for the query the API builds from these parameters, and
    the alias it goes to."""
    values = parse_all(MultiDict(params), FILTER_PARAMS + PAGE_PARAMS)
    cursor = values.get("cursor")
    values["cursor"] = None
    query = search_query(values, START)
    if cursor:
        query = msgspec.structs.replace(query, cursor=decode_cursor(cursor).store)
    kind = "procedures" if query.group_by_procedure else "notices"
    return msgspec.json.encode(search_body(query)), IndexNames(PREFIX).alias(kind)


async def prepare(session: aiohttp.ClientSession, api: str, factory: Factory,
                  count: int) -> list[Request]:  # fmt: skip
    """`count` requests drawn from the mix; page-2 cursors fetched beforehand (untimed)."""
    rng = random.Random(17)
    kinds = mix(factory, rng)
    names = sorted(kinds)
    requests = []
    for _ in range(count):
        kind = rng.choice(names)
        params = kinds[kind]()
        if ("cursor", "PAGE2") in params:
            params = [p for p in params if p[0] != "cursor"]
            async with session.get(f"{api}/v1/notices", params=params,
                                   headers=IDENTITY) as response:  # fmt: skip
                params = [*params, ("cursor", (await response.json())["next_cursor"])]
        body, index = _direct_body(params)
        path = str(URL("/v1/notices").with_query(params))
        requests.append(Request(kind, params, path, body, index))
    return requests


# --- load -----------------------------------------------------------------------------------


Samples = list[tuple[str, float]]
_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU milliseconds spent so far by the load generator, the API process and the
    OpenSearch node (all on this machine): where each target's requests spend the cores."""

    def __init__(self, session: aiohttp.ClientSession, opensearch: str, api_pid: int) -> None:
        self.session = session
        self.opensearch = opensearch
        self.api_stat = Path(f"/proc/{api_pid}/stat")

    async def read(self) -> tuple[float, float, float]:
        fields = self.api_stat.read_text().rpartition(")")[2].split()
        api = (int(fields[11]) + int(fields[12])) * _TICK_MS  # utime + stime
        url = f"{self.opensearch}/_nodes/_local/stats/process"
        async with self.session.get(url, headers=IDENTITY) as response:
            nodes = (await response.json())["nodes"]
        node = sum(n["process"]["cpu"]["total_in_millis"] for n in nodes.values())
        return time.process_time() * 1000, api, float(node)


class Connection:
    """One keep-alive HTTP/1.1 connection of the load generator.

    It writes prepared request bytes and reads back the status and a Content-Length body
    (both servers answer so), nothing else: no header objects, no decompression. The load
    generator shares the 2 cores with the API and OpenSearch; aiohttp's client cost 0.12 to
    0.14 ms of CPU per request, taken from them. Like wrk, it only counts what it receives.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        url = URL(base)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        """The answer's status, once its whole body is read."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = _CONTENT_LENGTH.search(head)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        await self.reader.readexactly(int(length[1]))
        return int(head[9:12])

    def close(self) -> None:
        self.writer.close()


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def wire_request(target: str, base: str, request: Request) -> bytes:
    """The bytes of one request to `target`: gzip accepted, as browsers do, but for `NO_GZIP`."""
    host = URL(base).raw_authority
    if target == "direct":
        return (
            f"POST /{request.index}/_search HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nAccept-Encoding: gzip\r\n"
            f"Content-Length: {len(request.body)}\r\n\r\n"
        ).encode() + request.body
    coding = "identity" if target == NO_GZIP else "gzip, deflate"
    return (
        f"GET {request.api_path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: {coding}\r\n\r\n"
    ).encode()


async def run(
    target: str, base: str, requests: list[Request], clients: int
) -> tuple[Samples, float]:
    """Send every request with `clients` in flight, one connection each; (kind, ms) per
    request, and requests/s."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for request in requests:
        queue.put_nowait((request.kind, wire_request(target, base, request)))
    connections = [await Connection.open(base) for _ in range(clients)]
    samples: list[tuple[str, float]] = []

    async def client(connection: Connection) -> None:
        while not queue.empty():
            kind, data = queue.get_nowait()
            started = time.perf_counter()
            status = await connection.send(data)
            assert status == 200, (status, data[:300])
            samples.append((kind, (time.perf_counter() - started) * 1000))

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(c) for c in connections))
    finally:
        for connection in connections:
            connection.close()
    return samples, len(requests) / (time.perf_counter() - started)


def _cuts(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return cuts[49], cuts[98]


async def measure(args: argparse.Namespace, api: str, api_pid: int, factory: Factory) -> None:
    async with aiohttp.ClientSession() as session:
        clock = CpuClock(session, args.url, api_pid)
        requests = await prepare(session, api, factory, args.requests)
        await run("api", api, requests[:500], args.clients)  # warm both paths
        await run("direct", args.url, requests[:500], args.clients)
        figures: dict[str, list[tuple[float, float, float]]] = {t: [] for t in TARGETS}
        cpu: dict[str, list[tuple[float, ...]]] = {t: [] for t in TARGETS}
        kinds: dict[str, dict[str, list[float]]] = {t: {} for t in TARGETS}
        for _ in range(args.rounds):
            for target in TARGETS:
                base = args.url if target == "direct" else api
                before = await clock.read()
                samples, rate = await run(target, base, requests, args.clients)
                after = await clock.read()
                cpu[target].append(
                    tuple((a - b) / len(requests) for a, b in zip(after, before, strict=True))
                )
                figures[target].append((*_cuts([ms for _, ms in samples]), rate))
                for kind, ms in samples:
                    kinds[target].setdefault(kind, []).append(ms)
    report(args, figures, kinds)
    print("  CPU ms per request (median of rounds):  load generator       API   OpenSearch")
    for target in TARGETS:
        spent = [statistics.median(c[i] for c in cpu[target]) for i in range(3)]
        print(f"    {target:12} {spent[0]:30.2f} {spent[1]:9.2f} {spent[2]:12.2f}")


def report(args: argparse.Namespace, figures: dict[str, list[tuple[float, float, float]]],
           kinds: dict[str, dict[str, list[float]]]) -> None:  # fmt: skip
    median = {t: [statistics.median(v[i] for v in figures[t]) for i in range(3)] for t in figures}
    print(f"{args.requests:,} requests x {args.rounds} rounds, {args.clients} concurrent clients, "
          f"{args.n:,} notices, {os.cpu_count()} CPUs (median of rounds)")  # fmt: skip
    for target in TARGETS:
        p50, p99, rate = median[target]
        print(f"  {target:12} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   {rate:7.0f} req/s")
    for target in TARGETS[1:]:
        added50 = median[target][0] - median["direct"][0]
        added99 = median[target][1] - median["direct"][1]
        print(f"  {target} adds: p50 {added50:+.1f} ms, p99 {added99:+.1f} ms")
    print(f"  per kind (all rounds), p50 / p99 ms: {'   '.join(f'{t:>15}' for t in TARGETS)}")
    for kind in sorted(kinds["api"]):
        cells = ["{:6.1f} / {:6.1f}".format(*_cuts(kinds[t][kind])) for t in TARGETS]
        print(f"    {kind:26} {'   '.join(cells)}")


async def main(args: argparse.Namespace) -> None:
    factory = Factory(await _corpus(), total=args.n)
    store = OpenSearchStore(args.url, index_prefix=PREFIX, timeout=120)
    if not args.reuse:
        await store.drop()
        await store.setup()
        rate = await load(store, factory, args.n)
        print(f"loaded {args.n:,} notices at {rate:,.0f}/s")
    await store.close()
    port = args.port or _free_port()
    process = await start_api(args.url, port)
    try:
        await measure(args, f"http://127.0.0.1:{port}", process.pid, factory)
    finally:
        process.terminate()
        await process.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["bench", "serve"], default="bench")
    parser.add_argument("--url", default="http://127.0.0.1:9200", help="OpenSearch")
    parser.add_argument("--n", type=int, default=1_000_000, help="notices in the store")
    parser.add_argument("--requests", type=int, default=3000, help="requests per round")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument("--port", type=int, default=0, help="the API's port (0: a free one)")
    parser.add_argument("--reuse", action="store_true", help="keep the bench-api indices as left")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    if arguments.mode == "serve":
        asyncio.run(serve(arguments.url, arguments.port))
    else:
        asyncio.run(main(arguments))
