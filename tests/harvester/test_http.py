"""PoliteClient against a local server: what a host's Retry-After does to every request."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import time
from pathlib import Path

import pytest
from aiohttp import web

from scope_harvester import http as http_module
from scope_harvester.http import MAX_RETRY_AFTER_SECONDS, PoliteClient
from scope_shared.errors import PermanentError, RetryableError
from tests.harvester.conftest import FAST


class BusyHost:
    """Answers 429 with `retry_after` to the first request, then 200; records arrivals."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        self.arrivals: list[tuple[str, float]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{name}", self.handler)
        return app

    async def handler(self, request: web.Request) -> web.Response:
        self.arrivals.append((request.match_info["name"], time.monotonic()))
        if len(self.arrivals) == 1:
            return web.Response(status=429, headers={"Retry-After": f"{self.retry_after:g}"})
        return web.Response(text="ok")


async def test_retry_after_holds_every_request_to_the_host(serve) -> None:
    host = BusyHost(retry_after=1)
    url = await serve(host.app())
    async with PoliteClient(FAST) as http:
        first = asyncio.create_task(http.request("GET", f"{url}/first"))
        while not host.arrivals:  # noqa: ASYNC110 - waits for the 429 to be sent
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        other = await http.request("GET", f"{url}/other")
        assert (await first).status == other.status == 200
    refused_at = host.arrivals[0][1]
    later = {name: at - refused_at for name, at in host.arrivals[1:]}
    # Not only the refused request waits: the other one, asked 0.1 s later, too.
    assert later["other"] >= 0.9
    assert later["first"] >= 0.9


async def test_retry_after_beyond_the_cap_fails_at_once(serve) -> None:
    host = BusyHost(retry_after=MAX_RETRY_AFTER_SECONDS + 1)
    url = await serve(host.app())
    async with PoliteClient(FAST) as http:
        start = time.monotonic()
        with pytest.raises(RetryableError, match="HTTP 429"):
            await http.request("GET", f"{url}/first")
    assert time.monotonic() - start < 2
    assert len(host.arrivals) == 1


async def test_a_download_trickled_byte_by_byte_ends_in_a_failure(
    serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read comes within the read timeout, so only a bound on the whole download stops
    a server that sends a byte at a time (here 2 timeouts of 0.5 s, for a 5 s transfer)."""
    monkeypatch.setattr(http_module, "DOWNLOAD_TIMEOUT_FACTOR", 2)
    sent: list[int] = []

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 20
        await response.prepare(request)
        for _ in range(20):
            await response.write(b"x")
            sent.append(1)
            await asyncio.sleep(0.25)
        return response

    app = web.Application()
    app.router.add_get("/big.json", trickle)
    url = await serve(app)
    politeness = dataclasses.replace(FAST, timeout=0.5, retries=0)
    async with PoliteClient(politeness) as http:
        with pytest.raises(RetryableError):
            await http.download(f"{url}/big.json", tmp_path / "big.json")
    assert 2 <= len(sent) < 20


async def test_a_compressed_body_is_read_only_up_to_the_bound(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip bomb (a small answer inflating to gigabytes) stops at the bound instead of
    taking the harvester's memory: here 4 MiB of zeros in a 4 KiB answer, bound 1 MiB."""
    monkeypatch.setattr(http_module, "MAX_BODY_BYTES", 2**20)
    bomb = gzip.compress(b"\0" * 4 * 2**20)

    async def inflating(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/page.json", inflating)
    url = await serve(app)
    async with PoliteClient(FAST) as http:
        with pytest.raises(PermanentError, match="body over 1048576 bytes"):
            await http.request("GET", f"{url}/page.json")


async def test_a_refusal_keeps_its_body_out_of_the_error(serve) -> None:
    """A run's error is public (/v1/sources): what a refusing server said stays in the log."""

    async def refusing(request: web.Request) -> web.Response:
        return web.Response(status=403, text="internal token: s3cr3t")

    app = web.Application()
    app.router.add_get("/admin", refusing)
    url = await serve(app)
    async with PoliteClient(FAST) as http:
        with pytest.raises(PermanentError) as refused:
            await http.request("GET", f"{url}/admin")
    assert str(refused.value) == f"HTTP 403 from {url}/admin"
