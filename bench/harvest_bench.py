"""Harvester benchmark: page throughput under latency, and memory over a DECP file of a gigabyte.

(a) Throughput. `europe_ted` with `fetch_xml` against a local server that answers every request
    after 50 ms: N notices (one real R2.0.9 notice, 23-119901-001-EXP.xml, under N distinct
    publication numbers), listed 250 per search page, each notice's XML fetched and published
    as one Page. With C requests in flight the ideal is C / 0.05 pages per second; the baseline
    measured in the same run is a bare aiohttp client fetching the same XML with C in flight
    (no parsing, no publishing).
(b) Memory. `france_decp` over a generated DECP 2019 JSON file (the first real contract of
    e-marchespublics.json repeated under distinct ids), served from disk by the same server:
    peak RSS growth (getrusage ru_maxrss) and the tracemalloc peak while the file is
    downloaded, split and published; the file's size is the baseline a whole-file read would cost.

Everything runs on loopback: a nats-server started here (scope_shared.devservices), the server in
a child process (so that it does not share the harvester's event loop). Part (b) runs first,
so that its RSS peak is not hidden by part (a)'s.

    .venv/bin/python bench/harvest_bench.py [--pages N] [--decp-mb N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import socket
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import nats
from aiohttp import web
from nats.js import JetStreamContext

from scope_harvester.base import Harvester, HarvestRun, RunReport, Window
from scope_harvester.http import PoliteClient
from scope_harvester.settings import SourceConfig
from scope_harvester.sources.europe_ted import EuropeTed
from scope_harvester.sources.france_decp import FranceDecp
from scope_harvester.state import StateStore
from scope_shared.bus import ensure_topology
from scope_shared.config import CommonSettings
from scope_shared.devservices.nats import NatsServer
from scope_shared.logging import configure_logging

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
TED_XML = FIXTURES / "europe_ted/r2.0.9/23-119901-001-EXP.xml"
TED_PAGE = FIXTURES / "europe_ted/api/ted_api_v3_search_response_fixture.json"
DECP_FILE = FIXTURES / "france_decp/real-2019/e-marchespublics.json"
LATENCY = 0.05
SEARCH_PAGE = 250
RATE = 100_000.0
"""Requests per second per host: far above what C and the latency allow, so it never limits."""
WINDOW = Window(since=date(2023, 1, 1), until=date(2023, 12, 31))


# --- the local server (child process) ---------------------------------------------------------


def _serve(port: int, total: int, decp_path: str) -> None:
    asyncio.run(_serve_forever(port, total, Path(decp_path)))


async def _serve_forever(port: int, total: int, decp_path: Path) -> None:
    xml = TED_XML.read_bytes()
    template = msgspec.json.decode(TED_PAGE.read_bytes())["notices"][0]
    template_bytes = msgspec.json.encode(template)
    recorded = template["publication-number"].encode()

    async def search(request: web.Request) -> web.Response:
        body = msgspec.json.decode(await request.read())
        start = int(body.get("iterationNextToken") or 0)
        end = min(start + body["limit"], total)
        origin = str(request.url.origin()).encode()
        notices = b",".join(
            template_bytes.replace(recorded, f"{n}-2023".encode()).replace(
                b"https://ted.europa.eu", origin
            )
            for n in range(start + 1, end + 1)
        )
        token = f'"{end}"' if end < total else "null"
        await asyncio.sleep(LATENCY)
        page = b'{"notices":[%s],"totalNoticeCount":%d,"iterationNextToken":%s}' % (
            notices, total, token.encode(),
        )  # fmt: skip
        return web.Response(body=page, content_type="application/json")

    async def notice_xml(request: web.Request) -> web.Response:
        number = int(request.match_info["number"].split("-")[0])
        await asyncio.sleep(LATENCY)
        body = xml.replace(b'DOC_ID="121869-2023"', f'DOC_ID="{number:06d}-2023"'.encode())
        return web.Response(body=body, content_type="application/xml")

    async def decp(request: web.Request) -> web.FileResponse:
        return web.FileResponse(decp_path)

    app = web.Application()
    app.router.add_post("/v3/notices/search", search)
    app.router.add_get("/en/notice/{number}/xml", notice_xml)
    app.router.add_get("/decp.json", decp)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --- helpers ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_open(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def _current_rss_mb() -> float:
    """Resident set size now (Linux): ru_maxrss hides a peak lower than an earlier one."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * resource.getpagesize() / 2**20


def _write_decp(path: Path, megabytes: int) -> int:
    """A DECP 2019 file of about `megabytes` MB, written a block at a time; returns contracts."""
    records = msgspec.json.decode(DECP_FILE.read_bytes(), type=dict[str, list[msgspec.Raw]])
    contract = bytes(records["marches"][0])
    original_id = b'"id": "2018MA181101"'
    assert original_id in contract
    target, written, count = megabytes * 1_000_000, 0, 0
    with path.open("wb") as file:
        file.write(b'{"marches": [\n')
        while written < target:
            block = [
                contract.replace(original_id, f'"id": "BENCH{count + i:010d}"'.encode(), 1)
                for i in range(1000)
            ]
            data = (b",\n" if count else b"") + b",\n".join(block)
            file.write(data)
            written, count = written + len(data), count + len(block)
        file.write(b"\n]}\n")
    return count


async def _harvest(
    cls: type[Harvester], base_url: str, states: StateStore, js: JetStreamContext, **config: Any
) -> RunReport:
    source = SourceConfig(base_url=base_url, **config)
    async with PoliteClient(cls.politeness_for(source)) as http:
        harvester = cls(cls.kind, source, http)
        return await HarvestRun(harvester, js, states).run(WINDOW)


# --- the two parts ----------------------------------------------------------------------------


async def _throughput(
    base_url: str, states: StateStore, js: JetStreamContext, pages: int, c: int
) -> None:
    ideal = c / LATENCY
    baseline_n = min(pages, 2000)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=c)) as session:

        async def get(n: int) -> None:
            async with session.get(f"{base_url}/en/notice/{n}-2023/xml") as response:
                await response.read()

        await asyncio.gather(*(get(n) for n in range(1, baseline_n + 1)))
    baseline = baseline_n / (time.perf_counter() - started)

    options = {"fetch_xml": True}
    started = time.perf_counter()
    report = await _harvest(
        EuropeTed, base_url, states, js, concurrency=c, rate=RATE, options=options
    )
    elapsed = time.perf_counter() - started
    rate = report.counts.pages / elapsed
    print(f"(a) europe_ted fetch_xml, {LATENCY * 1000:.0f} ms per request, C={c}")
    counts = report.counts
    print(f"    status={report.status} pages={counts.pages} published={counts.published}"
          f" requests={counts.requests} in {elapsed:.1f} s")  # fmt: skip
    print(
        f"    harvester: {rate:.1f} pages/s; ideal C/latency: {ideal:.1f}; ratio {rate / ideal:.1%}"
    )
    print(f"    baseline, bare aiohttp GETs ({baseline_n}, C={c}): {baseline:.1f} pages/s"
          f" ({baseline / ideal:.1%} of ideal)")  # fmt: skip


async def _memory(base_url: str, states: StateStore, js: JetStreamContext, path: Path) -> None:
    size_mb = path.stat().st_size / 1e6  # noqa: ASYNC240 - one stat before the measure
    rss_now = _current_rss_mb()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started = time.perf_counter()
    report = await _harvest(FranceDecp, base_url, states, js, options={"urls": ["/decp.json"]})
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(b) france_decp over a {size_mb:.0f} MB DECP JSON file (baseline: the file itself)")
    print(f"    status={report.status} contracts={report.counts.fetched}"
          f" published={report.counts.published} in {elapsed:.1f} s"
          f" ({report.counts.fetched / elapsed:,.0f} contracts/s, under tracemalloc)")  # fmt: skip
    print(f"    RSS at start {rss_now:.1f} MB, max RSS before {rss_before:.1f} MB, after"
          f" {rss_after:.1f} MB: ru_maxrss delta {rss_after - rss_before:.1f} MB, peak over the"
          f" start {rss_after - rss_now:.1f} MB; tracemalloc peak {peak / 1e6:.1f} MB")  # fmt: skip


async def _main(args: argparse.Namespace) -> None:
    configure_logging("harvester", level="WARNING", fmt="console")
    with tempfile.TemporaryDirectory(prefix="scope-bench-") as tmp:
        decp_path = Path(tmp) / "decp.json"
        if args.decp_mb:
            count = _write_decp(decp_path, args.decp_mb)
            print(f"generated {decp_path.stat().st_size / 1e6:.0f} MB, {count:,} contracts")
        nats_server = NatsServer(Path(tmp) / "nats", port=_free_port())
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(port, args.pages, str(decp_path)), daemon=True
        )
        try:
            nats_url = nats_server.start()
            server.start()
            _wait_open(port)
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            await ensure_topology(js, CommonSettings())
            states = await StateStore.on_bus(js)
            base_url = f"http://127.0.0.1:{port}"
            if args.decp_mb:
                await _memory(base_url, states, js, decp_path)
            if args.pages:
                await _throughput(base_url, states, js, args.pages, args.concurrency)
            await nc.close()
        finally:
            server.terminate()
            server.join()
            nats_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10_000, help="notices of part (a); 0 skips")
    parser.add_argument("--decp-mb", type=int, default=1024, help="DECP file size; 0 skips")
    parser.add_argument("--concurrency", type=int, default=8, help="C, requests in flight")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
