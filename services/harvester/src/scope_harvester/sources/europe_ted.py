"""TED, the supplement to the EU's Official Journal (OJ S): notices above the EU thresholds.

Source: TED Search API v3, `POST {base}/v3/notices/search` (no key for published notices); with
`fetch_xml`, each notice's XML from its `links.xml.MUL` URL on ted.europa.eu.
Format: search pages cut into one notice object each (RawFormat.TED_API_JSON); with `fetch_xml`,
the notice's XML instead: eForms (EFORMS_XML) or R2.0.9 `TED_EXPORT` (TED_XML), by root element.
Editor: Publications Office of the European Union.
Caveats: pages are walked in ITERATION mode (no 15,000-notice cap), and a token is valid only
within its iteration. So the cursor, the newest publication date harvested (ISO date), moves
only when an iteration ends: a run killed midway starts again from the cursor day, and the
notices already stored are dropped by their Msg-Id. Each run re-reads the cursor day, since
notices of that day may be published after the run. An XML the site refuses (4xx) or that is
not a notice is replaced by the notice's JSON, so the notice is never lost; an XML host that
stays down (retries spent) fails the run, and the next run fetches from the cursor day again.
The user query is wrapped in parentheses before the date clauses are added (grouping is expert
syntax, not checked against a recorded request).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import msgspec
from lxml import etree

from scope_harvester.base import Harvester, Page, Window
from scope_harvester.http import Politeness
from scope_shared.documents import DocumentItem, RejectedItem, eforms, ted
from scope_shared.errors import PermanentError

FIELDS = ("publication-number", "ND", "PD", "RN", "links", "notice-title", "notice-type")
"""The stored real response's fields, plus the two the normalizer needs to make a Notice."""

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class _Envelope(msgspec.Struct):
    """Decoded first so that a truncated page raises DecodeError, which gets it fetched again."""

    notices: list[msgspec.Raw]
    iteration_next_token: str | None = msgspec.field(name="iterationNextToken", default=None)


_envelope = msgspec.json.Decoder(_Envelope)
_links = msgspec.json.Decoder(dict[str, Any])


def _read_search_page(body: bytes) -> tuple[list[DocumentItem], list[RejectedItem], str]:
    """A search page read whole, in one call (`fetch_document` runs a large one off the event
    loop): its notices, those that name none, the next page's token (empty on the last)."""
    envelope = _envelope.decode(body)
    rejected: list[RejectedItem] = []
    items = list(ted.split_search_response(body, on_skipped=rejected.append))
    return items, rejected, envelope.iteration_next_token or ""


class _SearchPage(NamedTuple):
    url: str
    items: list[DocumentItem]
    rejected: list[RejectedItem]
    token: str
    """The next page's iteration token; empty on the last page."""


class EuropeTed(Harvester):
    kind = "europe_ted"
    default_base_url = "https://api.ted.europa.eu"
    interval = 3600.0
    backfill = True
    # The search pages are a chain (one in flight); the other slots serve XML downloads, which
    # go to another host. TED documents no limit, so a few requests a second per host.
    politeness = Politeness(concurrency=4, rate=4.0)

    class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        """Attributes:
        query: Expert query; the publication-date clauses are added to it.
        fields: Fields each notice carries (links must stay for `fetch_xml`).
        page_size: Notices per page: 250 is the API's maximum.
        scope: ALL (10 years), ACTIVE or LATEST.
        only_latest_versions: Drop superseded versions of a notice.
        fetch_xml: Publish each notice's XML rather than its search fields (the default).
            The search fields alone carry no CPV, place, deadline, value or lots, and a
            change notice keeps the type of the notice it changes: mapped from them, a
            corrigendum or a cancellation would show as a new call for tenders.
        first_run_days: Days back to start from when there is no cursor and no --since.
        """

        query: str = "buyer-country=FRA"
        fields: list[str] = msgspec.field(default_factory=lambda: list(FIELDS))
        page_size: int = 250
        scope: str = "ALL"
        only_latest_versions: bool = False
        fetch_xml: bool = True
        first_run_days: int = 7

    @property
    def search_url(self) -> str:
        return f"{self.base_url}/v3/notices/search"

    async def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        newest: date | None = None
        async for page, last in self._walk(self._query(cursor, window)):
            # The OJ S issue day is a Brussels day.
            days = [
                i.published_at.astimezone(ted.OJ_ZONE).date() for i in page.items if i.published_at
            ]
            newest = max([*days, newest] if newest else days, default=None)
            if last:
                page.cursor = newest.isoformat() if newest else None
            yield page

    def _query(self, cursor: str | None, window: Window) -> str:
        today = datetime.now(UTC).date()
        since = window.since or (
            date.fromisoformat(cursor) if cursor else today - timedelta(self.options.first_run_days)
        )
        query = f"({self.options.query}) AND publication-date>={since:%Y%m%d}"
        return query + (f" AND publication-date<={window.until:%Y%m%d}" if window.until else "")

    async def _walk(self, query: str) -> AsyncIterator[tuple[Page, bool]]:
        """Every page of one iteration, the last one flagged; the next search page is fetched
        while this one is published."""
        pending: asyncio.Task[_SearchPage] | None
        pending = asyncio.create_task(self._search(query, None))
        try:
            while pending is not None:
                url, items, rejected, token = await pending
                pending = asyncio.create_task(self._search(query, token)) if token else None
                # One page is held back to learn whether it ends the iteration; what the
                # search page held that names no notice goes first, kept as dead letters.
                held: Page | None = Page(url=url, items=[], rejected=rejected) if rejected else None
                async for page in self._pages_of(url, items):
                    if held is not None:
                        yield held, False
                    held = page
                yield held or Page(url=url, items=[]), pending is None
        finally:
            await _cancel([pending] if pending is not None else [])

    async def _search(self, query: str, token: str | None) -> _SearchPage:
        o = self.options
        body: dict[str, Any] = {
            "query": query, "fields": o.fields, "limit": o.page_size, "scope": o.scope,
            "paginationMode": "ITERATION", "onlyLatestVersions": o.only_latest_versions,
        }  # fmt: skip
        if token:
            body["iterationNextToken"] = token
        response, (items, rejected, token) = await self.fetch_document(
            "POST", self.search_url, _read_search_page, json=body
        )
        return _SearchPage(response.url, items, rejected, token)

    async def _pages_of(self, url: str, items: list[DocumentItem]) -> AsyncIterator[Page]:
        if not self.options.fetch_xml:
            yield Page(url=url, items=items)
            return
        # A notice listed twice in a page is downloaded once; all downloads start at once and
        # the client's per-host limit paces them, so they overlap with publishing.
        unique = {item.source_id: item for item in items}
        tasks = [asyncio.create_task(self._xml_page(url, i)) for i in unique.values()]
        try:
            for task in tasks:
                yield await task
        finally:
            await _cancel(tasks)

    async def _xml_page(self, search_url: str, item: DocumentItem) -> Page:
        link = _xml_link(item.payload)
        if link is None:
            self.log.warning("notice_xml_missing", source_id=item.source_id)
            return Page(url=search_url, items=[item])
        try:
            response, xml_items = await self.fetch_document("GET", self.followed(link), _split_xml)
        except PermanentError as exc:
            self.log.warning("notice_xml_refused", source_id=item.source_id, error=str(exc))
            return Page(url=search_url, items=[item])
        if [x.source_id for x in xml_items] != [item.source_id]:
            self.log.warning("notice_xml_mismatched", source_id=item.source_id, url=link)
        return Page(url=response.url, items=xml_items, content_type="application/xml")


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    """Stop what a closed generator no longer needs, and collect the failures nobody awaited."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _split_xml(body: bytes) -> list[DocumentItem]:
    """eForms or R2.0.9, by root element."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        # A ValueError makes `fetch_document` fetch the body again: it was likely cut in transit.
        raise ValueError(f"not well-formed XML: {exc}") from exc
    name = etree.QName(root).localname
    if name == "TED_EXPORT":
        return list(ted.split_ted_export(body))
    if name in eforms.EFORMS_ROOTS:
        return list(eforms.split_eforms(body))
    raise PermanentError(f"the XML root {name} is not a TED notice", field_path="/")


def _xml_link(payload: bytes) -> str | None:
    links = _links.decode(payload).get("links")
    xml = links.get("xml") if isinstance(links, dict) else None
    link = xml.get("MUL") if isinstance(xml, dict) else None
    return link if isinstance(link, str) and link else None
