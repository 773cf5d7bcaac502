"""Streamed downloads: a file of gigabytes goes to disk chunk by chunk, never whole in memory.

`PoliteClient.request` reads a body into memory, which suits API pages, not DECP files.
`stream_to_file` goes through the same client: its session, its per-host limiter (the download
holds one of the host's slots), its retry policy (backoff with jitter, Retry-After) and its
counts, so a download is as polite and as visible as any other request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from scope_harvester.http import RETRY_STATUSES, PoliteClient, retry_after
from scope_shared.errors import PermanentError, RetryableError
from scope_shared.logging import get_logger

CHUNK_BYTES = 1 << 20
"""1 MiB per read and write: few system calls, and nothing that matters in memory."""

log = get_logger(component="http")


@dataclass(frozen=True)
class Download:
    """What `stream_to_file` got: the body is in `path` unless the file was not modified.

    `etag` and `last_modified` are the response's validators (read case-insensitively:
    `headers` is a plain dict, where aiohttp writes `Etag`).
    """

    url: str
    status: int
    headers: dict[str, str]
    path: Path
    size: int
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


async def stream_to_file(
    http: PoliteClient,
    url: str,
    path: Path,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Download:
    """GET `url` into `path` (replaced), conditionally when validators are given.

    A body cut short (connection lost, fewer bytes than Content-Length) is fetched again from
    its start, like any transient failure.

    Raises:
        RetryableError: The source kept failing transiently through every retry.
        PermanentError: The source answered a client error (4xx other than 408/425/429).
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    attempts = http.politeness.retries + 1
    for attempt in range(attempts):
        try:
            return await _attempt(http, url, path, headers)
        except RetryableError as exc:
            http.counts.failed += 1
            if attempt + 1 == attempts:
                raise
            delay = http._delay(attempt, exc.retry_after)  # the client's own backoff policy
            http.counts.retried += 1
            log.warning(
                "download_retried", url=url, attempt=attempt + 1, delay=round(delay, 2),
                error=str(exc),
            )  # fmt: skip
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _attempt(http: PoliteClient, url: str, path: Path, headers: dict[str, str]) -> Download:
    session = http._session  # one session, so one connection pool, per client
    assert session is not None, "use PoliteClient as an async context manager"
    # The client's timeout bounds a whole request, which a file of gigabytes outlasts: here it
    # bounds connecting and each read instead, so only a stalled transfer times out.
    timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=http.politeness.timeout, sock_read=http.politeness.timeout
    )
    limiter = http._limiter(url)  # the download takes one of the host's slots
    async with limiter.semaphore:
        await limiter.wait_turn()
        http.counts.requests += 1
        try:
            async with session.get(url, headers=headers, timeout=timeout) as response:
                status, response_headers = response.status, dict(response.headers)
                final_url = str(response.url)
                etag = response.headers.get("ETag")
                last_modified = response.headers.get("Last-Modified")
                size = await _write(response, path) if 200 <= status < 300 else 0
        except (TimeoutError, aiohttp.ClientPayloadError) as exc:
            raise RetryableError(f"{type(exc).__name__} from {url}") from exc
        except aiohttp.ClientConnectionError as exc:
            raise RetryableError(f"connection failed to {url}: {exc}") from exc
    if status in RETRY_STATUSES:
        raise RetryableError(f"HTTP {status} from {url}", retry_after=retry_after(response_headers))
    if status >= 400:
        raise PermanentError(f"HTTP {status} from {url}")
    if status != 304:
        _check_length(url, size, response_headers)
    return Download(final_url, status, response_headers, path, size, etag, last_modified)


async def _write(response: aiohttp.ClientResponse, path: Path) -> int:
    size = 0
    # Writing 1 MiB to the page cache takes well under a millisecond: done on the event loop.
    with path.open("wb") as file:
        async for chunk in response.content.iter_chunked(CHUNK_BYTES):
            file.write(chunk)
            size += len(chunk)
    return size


def _check_length(url: str, size: int, headers: dict[str, str]) -> None:
    """aiohttp notices most cut bodies; this catches the rest when the length is known."""
    declared = headers.get("Content-Length")
    if declared is None or headers.get("Content-Encoding"):
        return
    if declared.isdigit() and int(declared) != size:
        raise RetryableError(f"{url}: {size} of {declared} bytes received")
