"""DECP, the essential data of French public contracts (données essentielles, commande publique).

Source: DECP files, mostly on data.gouv.fr: the Ministry's consolidated files and the platforms'
own, listed in the `urls` option (a relative URL is read against the base URL). FORMATS.md
names no URL of the consolidated file, so none is built in: without `urls` nothing is fetched.
Format: DECP JSON, 2019 (`{"marches": [...]}`) or 2024 (`{"marches": {"marche": [...], ...}}`),
or XML (`<marches>`), told apart by the first character; one contract per item (DECP_*).
Editor: the Ministry of the Economy (DAJ), and each platform for its own files.
Caveats: files are gigabytes. Each is streamed to a temporary file, never held in memory, then
split as a stream in a worker thread, one page at a time, the next page read while this one is
published. A file is fetched again only when its ETag or Last-Modified changed (304 otherwise);
its validators are kept only once all its contracts were published, so a file read halfway is
fetched whole by the next run. The cursor (JSON: `url`, `items` published, the file's `etag` and
`last_modified`) lets that run skip the contracts already published when the same version is
served; a body that does not parse (cut in transit) is fetched again and resumed the same way.
Windows do not apply: a file is read whole. An update republishes the whole contract with one
more modification; an unchanged contract is dropped by the digest in its Msg-Id.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin

import ijson
import msgspec
from lxml import etree

from scope_harvester.base import Harvester, Page, Window
from scope_harvester.http import Download, Politeness
from scope_harvester.state import Validators
from scope_shared.documents import DocumentItem
from scope_shared.documents.decp import iter_decp_json, iter_decp_xml
from scope_shared.errors import PermanentError, RetryableError

_SNIFF_BYTES = 1024
"""Enough to pass a byte-order mark and the blank lines some exports start with."""


class _Position(msgspec.Struct, frozen=True):
    url: str
    items: int
    etag: str | None = None
    last_modified: str | None = None


class FranceDecp(Harvester):
    kind = "france_decp"
    default_base_url = "https://www.data.gouv.fr"
    interval = 86400.0  # The consolidated files are rebuilt once a day at most.
    # One file at a time: a download already saturates a polite share of the host.
    politeness = Politeness(concurrency=1, rate=1.0)

    class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        """Attributes:
        urls: The DECP files to read (JSON or XML, 2019 or 2024 layout).
        items_per_page: Contracts per published page (and per cursor step).
        """

        urls: list[str] = msgspec.field(default_factory=list)
        items_per_page: int = 500

    async def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        if not self.options.urls:
            self.log.warning("source_unconfigured", reason="no urls in the options")
        resume = _decode_position(cursor)
        for url in self.options.urls:
            async for page in self._file(urljoin(self.base_url + "/", url), resume):
                yield page

    async def _file(self, url: str, resume: _Position | None) -> AsyncIterator[Page]:
        kept = self.validators.get(url, Validators())
        with tempfile.TemporaryDirectory(prefix="scope-decp-") as tmp:
            path = Path(tmp) / "body"
            download = await self.http.download(
                url, path, etag=kept.etag, last_modified=kept.last_modified
            )
            if download.not_modified:
                self.log.info("file_unchanged", url=url)
                return
            version = _version(download)
            done = resume.items if resume and _same(resume, url, version) else 0
            attempts = self.http.politeness.retries + 1
            for attempt in range(attempts):
                try:
                    async for page in self._split(url, path, version, done):
                        yield page
                        done += len(page.items)
                    break
                except (ijson.JSONError, etree.XMLSyntaxError) as exc:
                    self.http.counts.failed += 1
                    if attempt + 1 == attempts:
                        raise RetryableError(f"unreadable file {url}: {exc}") from exc
                    self.log.warning("file_unreadable", url=url, items=done, error=str(exc))
                    await asyncio.sleep(self.http.retry_delay(attempt))
                    download = await self.http.download(url, path)
                    if _version(download) != version:
                        version, done = _version(download), 0
        self.validators[url] = version
        self.log.info("file_read", url=url, items=done, bytes=download.size)

    async def _split(
        self, url: str, path: Path, version: Validators, skip: int
    ) -> AsyncIterator[Page]:
        size = self.options.items_per_page
        with path.open("rb") as stream:
            xml = _is_xml(stream)
            items = _checked(iter_decp_xml(stream) if xml else iter_decp_json(stream))
            content_type = "application/xml" if xml else "application/json"
            await asyncio.to_thread(_drop, items, skip)
            done = skip
            # ijson and lxml block: each page is read in a worker thread, the next one while
            # this one is being published.
            pending = asyncio.ensure_future(asyncio.to_thread(_take, items, size))
            try:
                while batch := await pending:
                    pending = asyncio.ensure_future(asyncio.to_thread(_take, items, size))
                    done += len(batch)
                    position = _Position(url, done, version.etag, version.last_modified)
                    cursor = msgspec.json.encode(position).decode()
                    yield Page(url=url, items=batch, cursor=cursor, content_type=content_type)
            finally:
                pending.cancel()


def _checked(items: Iterator[DocumentItem]) -> Iterator[DocumentItem]:
    try:
        yield from items
    except ValueError as exc:  # not a DECP document: fetching it again cannot help
        raise PermanentError(str(exc)) from exc


def _take(items: Iterator[DocumentItem], count: int) -> list[DocumentItem]:
    return list(itertools.islice(items, count))


def _drop(items: Iterator[DocumentItem], count: int) -> None:
    collections.deque(itertools.islice(items, count), maxlen=0)


def _is_xml(stream: BinaryIO) -> bool:
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    return head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _version(download: Download) -> Validators:
    return Validators(download.etag, download.last_modified)


def _same(position: _Position, url: str, version: Validators) -> bool:
    """Whether the cursor counts contracts of this very file (without validators: unknown)."""
    known = version.etag is not None or version.last_modified is not None
    kept = Validators(position.etag, position.last_modified)
    return known and position.url == url and kept == version


def _decode_position(cursor: str | None) -> _Position | None:
    if not cursor:
        return None
    try:
        return msgspec.json.decode(cursor, type=_Position)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None  # a cursor of an older layout: read the files from their start
