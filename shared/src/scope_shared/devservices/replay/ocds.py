"""A local replay of an OCDS publisher's paged package API, serving real recorded releases.

THE RELEASES ARE REAL, THE PAGING IS THE REPLAY'S. The recorded packages of tests/fixtures/ocds/
are whole files, not API pages: no recorded paged OCDS API exists offline. So the replay cuts a
real package's `releases` (or `records`) into pages of `per_page` and gives each page the
package's own metadata plus `links.next`, the OCDS pagination extension's convention (absent on
the last page). A page never mixes two packages.

`GET /api/packages` is the first page, `?page=N` the following ones. With `since=YYYY-MM-DD`
(the parameter name a publisher might choose) only releases whose `date` is on or after that
day are served, and `links.next` carries the parameter along. Pages listed in `latin1_pages`
are served as ISO-8859-1, as some real publishers do. `append` adds a release or record the
way publishers do: onto the last page while it has room, else onto a new page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from scope_shared.devservices.replay.faults import Faults

PACKAGES_PATH = "/api/packages"
ELEMENT_KEYS = ("releases", "records")


@dataclass(frozen=True)
class Entry:
    """One release or record, with the metadata of the real package it came from."""

    package: int
    key: str
    element: dict[str, Any]


def load_package(path: Path) -> dict[str, Any]:
    package: dict[str, Any] = msgspec.json.decode(path.read_bytes())
    return package


@dataclass
class OcdsReplay:
    packages: Sequence[dict[str, Any]]
    per_page: int
    faults: Faults = field(default_factory=Faults)
    latin1_pages: frozenset[int] = frozenset()
    entries: list[Entry] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    served_latin1: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for index, package in enumerate(self.packages):
            for key in ELEMENT_KEYS:
                self.entries += [Entry(index, key, e) for e in package.get(key, ())]

    def append(self, entry: Entry) -> None:
        self.entries.append(entry)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults.middleware])
        app.router.add_get(PACKAGES_PATH, self.handler)
        return app

    def pages(self, since: str | None = None) -> list[list[Entry]]:
        kept = [e for e in self.entries if since is None or _on_or_after(e, since)]
        pages: list[list[Entry]] = []
        for entry in kept:
            last = pages[-1] if pages else None
            if last and len(last) < self.per_page and last[0].package == entry.package:
                last.append(entry)
            else:
                pages.append([entry])
        return pages

    async def handler(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append(query)
        number = int(query.get("page", "1"))
        pages = self.pages(query.get("since"))
        if not 1 <= number <= max(len(pages), 1):
            return web.json_response({"error": "no such page"}, status=404)
        body = self._page_body(pages[number - 1] if pages else [])
        if number < len(pages):
            following = {**query, "page": str(number + 1)}
            body["links"] = {"next": str(request.url.with_query(following))}
        data = msgspec.json.encode(body)
        if number in self.latin1_pages:
            self.served_latin1.append(number)
            latin1 = data.decode("utf-8").encode("latin-1")
            return web.Response(body=latin1, content_type="application/json", charset="iso-8859-1")
        return web.Response(body=data, content_type="application/json")

    def _page_body(self, page: list[Entry]) -> dict[str, Any]:
        if not page:
            return {"releases": []}
        package = self.packages[page[0].package]
        metadata = {k: v for k, v in package.items() if k not in ELEMENT_KEYS}
        return {**metadata, page[0].key: [e.element for e in page]}


def _on_or_after(entry: Entry, since: str) -> bool:
    """ISO 8601 dates compare as text on their day part, enough for a replay's filter."""
    day = str(entry.element.get("date", ""))[:10]
    return day >= since
