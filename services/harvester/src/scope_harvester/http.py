"""A polite HTTP client: per-host concurrency and rate limit, timeouts, retries with backoff.

Every harvester fetches through `PoliteClient`, so no source can be hammered and every request
has a timeout. Transient failures (timeouts, connection errors, truncated bodies, 429, 5xx)
are retried with exponential backoff and full jitter, honouring Retry-After. Conditional
requests (ETag / Last-Modified) are sent when the caller gives the validators it kept.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from scope_shared.errors import PermanentError, RetryableError
from scope_shared.logging import get_logger

DOWNLOAD_CHUNK_BYTES = 1 << 20
"""1 MiB per read and write when streaming a file: few system calls, little memory."""
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 300.0
"""A source asking for more than five minutes is treated as down for this run: the request
fails at once (the run fails, the next run tries again)."""
MAX_BODY_BYTES = 256 * 2**20
"""A page, decompressed: far above any real API page (TED's 250 notices are a few MiB), far
below what takes the process down. A gzip bomb (1 MB becoming 1 GB) stops here."""
MAX_DOWNLOAD_BYTES = 16 * 2**30
"""A downloaded file, decompressed, on disk: DECP's consolidated files are a few GiB."""
ERROR_BODY_BYTES = 300
"""Of a 4xx answer's body, read for the log only (never into a run's public error)."""
DOWNLOAD_TIMEOUT_FACTOR = 60
"""A whole download may take this many request timeouts (an hour by default): DECP's largest
consolidated files take minutes at ordinary speeds."""

log = get_logger(component="http")

T = TypeVar("T")
C = TypeVar("C")


@dataclass(frozen=True)
class Politeness:
    """Attributes:
    concurrency: Requests in flight per host.
    rate: Requests started per second per host.
    timeout: Seconds for a whole request, body included.
    retries: Further attempts after the first, for transient failures.
    backoff: Base delay in seconds; attempt n waits up to backoff * 2**n (full jitter).
    max_backoff: Cap of one delay.
    """

    concurrency: int = 4
    rate: float = 5.0
    timeout: float = 60.0
    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0


@dataclass
class Response:
    url: str
    status: int
    body: bytes
    headers: CIMultiDict[str]
    """Case-insensitive, as HTTP header names are (aiohttp spells ETag `Etag`)."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Download:
    """A file fetched to disk: the body is in `path` unless it was not modified (304)."""

    url: str
    status: int
    headers: CIMultiDict[str]
    path: Path
    size: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("Last-Modified")


@dataclass
class RequestCounts:
    requests: int = 0
    failed: int = 0
    retried: int = 0


@dataclass
class _HostLimiter:
    semaphore: asyncio.Semaphore
    interval: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            delay = self.next_start - now
            self.next_start = max(now, self.next_start) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)

    def hold(self, seconds: float) -> None:
        """No request starts on this host for `seconds` (its Retry-After), whoever asks."""
        self.next_start = max(self.next_start, time.monotonic() + seconds)


class PoliteClient:
    """One aiohttp session with per-host limits; use as an async context manager."""

    def __init__(self, politeness: Politeness, user_agent: str = "Scope-harvester/0.1") -> None:
        self.politeness = politeness
        self.user_agent = user_agent
        self.counts = RequestCounts()
        self._hosts: dict[str, _HostLimiter] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PoliteClient:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.politeness.timeout),
            headers={"User-Agent": self.user_agent},
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    def _limiter(self, url: str) -> _HostLimiter:
        host = urlsplit(url).netloc
        if host not in self._hosts:
            p = self.politeness
            self._hosts[host] = _HostLimiter(asyncio.Semaphore(p.concurrency), 1.0 / p.rate)
        return self._hosts[host]

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """The response of the first successful attempt (2xx or 304), body in memory.

        Raises:
            RetryableError: The source kept failing transiently through every retry.
            PermanentError: The source answered a client error (4xx other than 408/425/429).
        """
        headers = _conditional_headers(etag, last_modified)

        async def attempt() -> Response:
            url_, status, response_headers, body = await self._attempt(
                method, url, headers, _read_body, params=params, json=json
            )
            return Response(url_, status, body or b"", response_headers)

        return await self._retrying(url, attempt)

    async def download(
        self, url: str, path: Path, *, etag: str | None = None, last_modified: str | None = None
    ) -> Download:
        """GET `url` into the file `path`, chunk by chunk, never whole in memory.

        Same limits, retries and counts as `request`. A body cut short (connection lost,
        fewer bytes than Content-Length) is fetched again from its start.
        """
        headers = _conditional_headers(etag, last_modified)
        # The client's timeout bounds a whole request, which a file of gigabytes outlasts:
        # here it bounds connecting and each read, so a stalled transfer fails, and the whole
        # download far more loosely, so a server trickling a byte a minute fails too.
        timeout = aiohttp.ClientTimeout(
            total=self.politeness.timeout * DOWNLOAD_TIMEOUT_FACTOR,
            sock_connect=self.politeness.timeout,
            sock_read=self.politeness.timeout,
        )

        async def attempt() -> Download:
            url_, status, response_headers, size = await self._attempt(
                "GET", url, headers, _file_writer(path), client_timeout=timeout
            )
            if status != 304:
                _check_length(url, size or 0, response_headers)
            return Download(url_, status, response_headers, path, size or 0)

        return await self._retrying(url, attempt)

    async def _retrying(self, url: str, attempt: Callable[[], Awaitable[T]]) -> T:
        attempts = self.politeness.retries + 1
        for number in range(attempts):
            try:
                return await attempt()
            except RetryableError as exc:
                self.counts.failed += 1
                too_long = exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER_SECONDS
                if number + 1 == attempts or too_long:
                    raise
                if exc.retry_after is not None:
                    # The host asked every client to wait, not only this request.
                    self._limiter(url).hold(exc.retry_after)
                delay = self.retry_delay(number, exc.retry_after)
                self.counts.retried += 1
                log.warning(
                    "request_retried", url=url, attempt=number + 1, delay=round(delay, 2),
                    error=str(exc),
                )  # fmt: skip
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def retry_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds before retry `attempt` (0-based): what the host asked, else exponential
        backoff with full jitter, capped."""
        p = self.politeness
        if retry_after is not None:
            return retry_after
        return random.uniform(0, min(p.max_backoff, p.backoff * 2**attempt))  # noqa: S311

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        consume: Callable[[aiohttp.ClientResponse], Awaitable[C]],
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        client_timeout: aiohttp.ClientTimeout | None = None,
    ) -> tuple[str, int, CIMultiDict[str], C | None]:
        """One request under the host's limits; `consume` reads the body of a 2xx answer
        (None for a 304)."""
        assert self._session is not None, "use PoliteClient as an async context manager"
        limiter = self._limiter(url)
        async with limiter.semaphore:
            await limiter.wait_turn()
            self.counts.requests += 1
            try:
                async with self._session.request(
                    method, url, params=params, json=json, headers=headers,
                    timeout=client_timeout or self._session.timeout,
                ) as response:  # fmt: skip
                    status, response_headers = response.status, CIMultiDict(response.headers)
                    final_url = str(response.url)
                    payload, error_body = None, b""
                    if 200 <= status < 300:
                        payload = await consume(response)
                    elif status >= 400:
                        error_body = await response.content.read(ERROR_BODY_BYTES)
            except (TimeoutError, aiohttp.ClientPayloadError) as exc:
                raise RetryableError(f"{type(exc).__name__} from {url}") from exc
            except aiohttp.ClientConnectionError as exc:
                raise RetryableError(f"connection failed to {url}: {exc}") from exc
        if status in RETRY_STATUSES:
            raise RetryableError(
                f"HTTP {status} from {url}", retry_after=retry_after(response_headers)
            )
        if status >= 400:
            # The body stays in the log: a run's error is public (`/v1/sources`), and a URL a
            # document led to may be one no outsider should read.
            log.warning("request_refused", url=url, status=status, body=error_body.decode(
                "utf-8", errors="replace"))  # fmt: skip
            raise PermanentError(f"HTTP {status} from {url}")
        return final_url, status, response_headers, payload


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, decompressed, up to `MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PermanentError(f"{response.url}: body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _file_writer(path: Path) -> Callable[[aiohttp.ClientResponse], Awaitable[int]]:
    async def write(response: aiohttp.ClientResponse) -> int:
        size = 0
        # Writing 1 MiB to the page cache takes well under a millisecond: on the event loop.
        with path.open("wb") as file:
            async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise PermanentError(f"{response.url}: file over {MAX_DOWNLOAD_BYTES} bytes")
                file.write(chunk)
        return size

    return write


def _check_length(url: str, size: int, headers: Mapping[str, str]) -> None:
    """aiohttp notices most cut bodies; this catches the rest when the length is known."""
    declared = headers.get("Content-Length")
    if declared is None or headers.get("Content-Encoding"):
        return
    if declared.isdigit() and int(declared) != size:
        raise RetryableError(f"{url}: {size} of {declared} bytes received")


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
