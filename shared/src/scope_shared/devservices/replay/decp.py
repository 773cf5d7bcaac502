"""A local replay of DECP file hosting (static files on data.gouv.fr), serving the real files.

Every file of `tests/fixtures/france_decp/` is served at its path below that folder, with an
ETag (a digest of its bytes) and a Last-Modified. A request whose If-None-Match holds the
ETag, or that has no If-None-Match and an If-Modified-Since not older than Last-Modified, gets
304 (RFC 9110, 13.1). `put` replaces a file as a publisher does (new ETag, later date).

Transfer faults, besides the shared `Faults` middleware (whose `truncated` answers a short
body without the file's validators): `cut_next` declares the full Content-Length, sends half
the body and closes the connection (a transfer lost midway); `short_next` answers half the
body with the file's own validators (a consistent but short answer, as from a broken cache);
`chunk_delay` streams the body slowly, 64 KiB at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from aiohttp import web

from scope_shared.devservices.replay.faults import Faults

CHUNK = 64 * 1024
FIRST_MODIFIED = datetime(2019, 4, 4, 8, 0, tzinfo=UTC)
"""The e-marchespublics file's commit date upstream; the date itself matters little."""


@dataclass
class HostedFile:
    body: bytes
    modified: datetime

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.modified, usegmt=True)


@dataclass
class DecpReplay:
    files: dict[str, HostedFile]
    faults: Faults = field(default_factory=Faults)
    cut_next: set[str] = field(default_factory=set)
    short_next: set[str] = field(default_factory=set)
    chunk_delay: float = 0.0
    served: list[tuple[str, int]] = field(default_factory=list)
    """(path, status) of each answer, in order."""

    @classmethod
    def of_folder(cls, folder: Path, faults: Faults | None = None) -> DecpReplay:
        files = {
            "/" + p.relative_to(folder).as_posix(): HostedFile(p.read_bytes(), FIRST_MODIFIED)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }
        return cls(files, faults or Faults())

    def put(self, path: str, body: bytes) -> None:
        """Publish a new version of a file, one day later than the one it replaces."""
        self.files[path] = HostedFile(body, self.files[path].modified + timedelta(days=1))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults.middleware])
        app.router.add_get("/{path:.+}", self.serve_file)
        return app

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        # The matched path, not request.path: the replay may be mounted under a prefix.
        path = "/" + request.match_info["path"]
        hosted = self.files.get(path)
        if hosted is None:
            self.served.append((path, 404))
            return web.Response(status=404)
        headers = {"ETag": hosted.etag, "Last-Modified": hosted.last_modified}
        if _not_modified(request, hosted):
            self.served.append((path, 304))
            return web.Response(status=304, headers=headers)
        self.served.append((path, 200))
        if path in self.short_next:
            self.short_next.discard(path)
            half = hosted.body[: len(hosted.body) // 2]
            return web.Response(body=half, headers=headers, content_type="application/octet-stream")
        if path in self.cut_next or self.chunk_delay:
            return await self._stream(request, hosted, headers)
        return web.Response(body=hosted.body, headers=headers, content_type=_media_type(path))

    async def _stream(
        self, request: web.Request, hosted: HostedFile, headers: dict[str, str]
    ) -> web.StreamResponse:
        cut = request.path in self.cut_next
        self.cut_next.discard(request.path)
        response = web.StreamResponse(headers=headers)
        response.content_type = _media_type(request.path)
        response.content_length = len(hosted.body)
        await response.prepare(request)
        end = len(hosted.body) // 2 if cut else len(hosted.body)
        for start in range(0, end, CHUNK):
            await response.write(hosted.body[start : min(start + CHUNK, end)])
            await asyncio.sleep(self.chunk_delay)
        if cut:
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write_eof()
        return response


def _not_modified(request: web.Request, hosted: HostedFile) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return hosted.etag in [tag.strip() for tag in if_none_match.split(",")]
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return hosted.modified <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def _media_type(path: str) -> str:
    return "application/xml" if path.endswith(".xml") else "application/json"
