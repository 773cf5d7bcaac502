"""GET /v1/notices.atom and /v1/notices.rss: any search as a feed.

Same parameters as the search (filters, `q`, `sort`; `page_size` entries, 50 by default).
Entries are newest first unless `sort` says otherwise. An entry links to the notice's page at
its publisher when known, else to the API's notice; its id is the API's notice URL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from feedgen.feed import FeedGenerator
from multidict import MultiDict

from scope_search_api.keys import CLOCK, STORE
from scope_search_api.param_table import FEED_PARAMS, FILTER_PARAMS
from scope_search_api.params import parse_all, search_query
from scope_search_api.responses import absolute, cached, notice_path
from scope_shared.reference import cpv_entry
from scope_shared.schema import Notice

FEED_PARAMS_ALL = FILTER_PARAMS + FEED_PARAMS
SUMMARY_CHARS = 1000
"""Readers show a few lines; the whole description is one click away."""
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
"""The date of a feed without entries: fixed, so that polling it draws 304s."""
CONTENT_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry; a source's text may hold some (a stray control byte)."""

routes = web.RouteTableDef()


def _xml(text: str) -> str:
    return NOT_XML.sub("", text)


def _summary(notice: Notice) -> str:
    parts = []
    if notice.buyer:
        parts.append(f"Acheteur : {notice.buyer.name}.")
    if notice.submission_deadline:
        parts.append(f"Date limite : {notice.submission_deadline:%Y-%m-%d %H:%M} UTC.")
    if notice.description:
        text = notice.description
        parts.append(text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + "…")
    return _xml(" ".join(parts) or notice.title)


def _entry(feed: FeedGenerator, request: web.Request, notice: Notice) -> None:
    api_url = absolute(request, notice_path(notice.id))
    entry = feed.add_entry(order="append")
    entry.id(api_url)
    entry.guid(api_url, permalink=False)
    entry.title(_xml(notice.title))
    entry.link(href=notice.source_url or api_url)
    entry.published(notice.published_at)
    entry.updated(notice.updated_at)
    entry.description(_summary(notice), isSummary=True)
    if notice.cpv_main:
        known = cpv_entry(notice.cpv_main)
        # RSS shows the label alone: it starts with the code, so both formats carry it.
        label = f"{notice.cpv_main} {known.label_fr}" if known else notice.cpv_main
        entry.category(term=notice.cpv_main, label=_xml(label))


def build_feed(request: web.Request, notices: list[Notice], q: str | None) -> FeedGenerator:
    self_url = absolute(request, request.path, MultiDict(request.query))
    search_url = absolute(request, "/v1/notices", MultiDict(request.query))
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(_xml(f"Scope : {q}") if q else "Scope : avis de marchés publics")
    feed.description("Avis de marchés publics correspondant à une recherche Scope.")
    feed.link(href=self_url, rel="self")
    feed.link(href=search_url, rel="alternate")
    feed.author({"name": "Scope"})
    feed.language("fr")
    feed.generator("Scope")
    # The newest entry dates the feed, so an unchanged search keeps its ETag; an empty feed
    # (an alert's usual state) gets a fixed date, not the clock, to keep its ETag too.
    updated = max((n.updated_at for n in notices), default=EMPTY_FEED_UPDATED)
    feed.updated(updated)
    feed.lastBuildDate(updated)
    for notice in notices:
        _entry(feed, request, notice)
    return feed


async def _feed(request: web.Request, kind: Literal["atom", "rss"]) -> web.Response:
    values = parse_all(request.query, FEED_PARAMS_ALL)
    query = search_query(values, request.app[CLOCK](), default_sort="newest")
    result = await request.app[STORE].search(query)
    feed = build_feed(request, [hit.notice for hit in result.hits], query.q)
    body = feed.atom_str() if kind == "atom" else feed.rss_str()
    return cached(request, body, content_type=CONTENT_TYPES[kind], charset="utf-8")


@routes.get("/v1/notices.atom", name="feed_atom")
async def atom_feed(request: web.Request) -> web.Response:
    return await _feed(request, "atom")


@routes.get("/v1/notices.rss", name="feed_rss")
async def rss_feed(request: web.Request) -> web.Response:
    return await _feed(request, "rss")
