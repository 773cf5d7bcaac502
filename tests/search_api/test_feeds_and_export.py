"""Atom and RSS feeds parsed back with feedparser, and the CSV export parsed back, on both
stores: titles, links and counts as the search gives them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import feedparser
import msgspec
import pytest
from aiohttp import hdrs

from scope_search_api.routes.export import COLUMNS, row
from scope_shared.schema import Notice
from scope_shared.store import SearchStore
from tests.search_api import model
from tests.search_api.conftest import Client, MakeClient
from tests.support.corpus import copy_as


def _works(notices: list[Notice]) -> list[Notice]:
    return [n for n in notices if n.contract_nature and n.contract_nature.value == "works"]


@pytest.mark.parametrize("kind", ["atom", "rss"])
async def test_feed_lists_the_newest_matching_notices(
    api: Client, notices: list[Notice], kind: str
) -> None:
    response = await api.get(f"/v1/notices.{kind}", params={"contract_nature": "works",
                                                            "page_size": "12"})  # fmt: skip
    assert response.status == 200
    assert response.content_type == f"application/{kind}+xml"
    feed = feedparser.parse(await response.read())
    assert not feed.bozo, feed.bozo_exception
    by_id = {n.id: n for n in notices}
    expected = model.order(_works(notices), "newest")[:12]
    assert len(feed.entries) == 12
    base = str(api.make_url(""))
    api_urls = [base + f"/v1/notices/{quote(i, safe=':')}" for i in expected]
    assert [e.id for e in feed.entries] == api_urls
    assert [e.title for e in feed.entries] == [by_id[i].title for i in expected]
    assert [e.link for e in feed.entries] == [
        by_id[i].source_url or url for i, url in zip(expected, api_urls, strict=True)
    ]
    assert feed.feed.title == "Scope : avis de marchés publics"


async def test_feed_title_names_the_search_and_default_size_is_fifty(
    api: Client, notices: list[Notice]
) -> None:
    atom = feedparser.parse(
        await (await api.get("/v1/notices.atom", params={"q": "travaux"})).read()
    )
    assert atom.feed.title == "Scope : travaux"
    everything = feedparser.parse(await (await api.get("/v1/notices.rss")).read())
    assert len(everything.entries) == 50
    newest = model.order(notices, "newest")[0]
    assert everything.entries[0].title == next(n.title for n in notices if n.id == newest)


async def test_feed_entries_carry_dates_summary_and_cpv(api: Client, notices: list[Notice]) -> None:
    feed = feedparser.parse(
        await (await api.get("/v1/notices.atom", params={"source": "france_boamp"})).read()
    )
    boamp = {n.id: n for n in notices if n.source == "france_boamp"}
    assert len(feed.entries) == len(boamp)
    for entry in feed.entries:
        notice = boamp[entry.id.rsplit("/", 1)[1]]
        assert entry.published == model.stamp(notice.published_at).replace("Z", "+00:00")
        assert notice.buyer is not None
        assert entry.summary.startswith(f"Acheteur : {notice.buyer.name}.")
        assert [t.term for t in entry.get("tags", [])] == [c for c in [notice.cpv_main] if c]
    rss = feedparser.parse(
        await (await api.get("/v1/notices.rss", params={"source": "france_boamp"})).read()
    )
    # RSS's category is its text alone: the code leads it.
    for entry in rss.entries:
        notice = boamp[entry.guid.rsplit("/", 1)[1]]
        terms = [t.term for t in entry.get("tags", [])]
        assert [t.split(" ", 1)[0] for t in terms] == [c for c in [notice.cpv_main] if c]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_streams_every_matching_notice(api: Client, notices: list[Notice]) -> None:
    response = await api.get("/v1/notices.csv", params={"contract_nature": "works"})
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert response.headers[hdrs.CONTENT_DISPOSITION].startswith("attachment; filename=")
    rows = _rows(await response.text())
    works = _works(notices)
    assert response.headers["X-Total-Count"] == str(len(works))
    assert response.headers["X-Total-Relation"] == "eq"
    assert [r["id"] for r in rows] == model.order(works, "newest")
    assert list(rows[0]) == list(COLUMNS)
    by_id = {n.id: n for n in works}
    for line in rows:
        notice = by_id[line["id"]]
        assert line["title"].lstrip("'") == notice.title
        assert line["published_at"] == model.stamp(notice.published_at)
        assert line["cpv_main"] == (notice.cpv_main or "")
        value = notice.estimated_value
        assert line["estimated_value"] == (str(value.amount) if value else "")
        assert line["api_url"].endswith(f"/v1/notices/{quote(notice.id, safe=':')}")


async def test_csv_export_with_words_is_newest_first_unless_sorted(api: Client) -> None:
    """Relevance moves when the index commits; an export by it could skip rows."""

    async def ids(path: str, **params: str) -> list[str]:
        response = await api.get(path, params={"q": "travaux", **params})
        if path.endswith(".csv"):
            return [r["id"] for r in _rows(await response.text())]
        return [hit["notice"]["id"] for hit in (await response.json())["hits"]]

    newest = await ids("/v1/notices", sort="newest", page_size="100")
    assert len(newest) > 1
    assert await ids("/v1/notices.csv") == newest
    relevance = await ids("/v1/notices", sort="relevance", page_size="100")
    assert await ids("/v1/notices.csv", sort="relevance") == relevance
    assert relevance != newest


async def test_csv_export_stops_at_the_limit_and_the_server_bound(
    loaded_store: SearchStore, make_client: MakeClient, notices: list[Notice]
) -> None:
    client = await make_client(loaded_store, api_max_csv_rows=230)
    response = await client.get("/v1/notices.csv", params={"sort": "newest"})
    rows = _rows(await response.text())
    assert response.headers["X-Row-Limit"] == "230"
    assert response.headers["X-Total-Count"] == str(len(notices))
    assert [r["id"] for r in rows] == model.order(notices, "newest")[:230]
    limited = _rows(await (await client.get("/v1/notices.csv?limit=7")).text())
    assert len(limited) == 7
    over = await client.get("/v1/notices.csv?limit=231")
    assert over.status == 400
    problem = await over.json(content_type="application/problem+json")
    assert problem["invalid_params"][0]["name"] == "limit"


async def test_csv_export_is_gzipped_when_accepted(embedded_api: Client) -> None:
    response = await embedded_api.get("/v1/notices.csv", headers={hdrs.ACCEPT_ENCODING: "gzip"})
    assert response.headers[hdrs.CONTENT_ENCODING] == "gzip"
    assert len(_rows(await response.text())) > 500


def test_csv_cells_that_spreadsheets_would_run_are_neutralised(notices: list[Notice]) -> None:
    notice = msgspec.structs.replace(
        notices[0], title='=HYPERLINK("http://x")', source_url="=cmd|' /C calc'!A0"
    )
    cells = row(notice, "u")
    assert cells[COLUMNS.index("title")] == '\'=HYPERLINK("http://x")'
    assert cells[COLUMNS.index("source_url")] == "'=cmd|' /C calc'!A0"


async def test_csv_export_answers_head_with_headers_only(embedded_api: Client) -> None:
    """A streamed body after a HEAD answer would be read as the next response on a kept-alive
    connection."""
    head = await embedded_api.head("/v1/notices.csv", params={"limit": "2"})
    assert head.status == 200
    assert head.headers["X-Row-Limit"] == "2"
    assert await head.read() == b""
    after = await embedded_api.get("/healthz")
    assert after.status == 200


@pytest.mark.parametrize("kind", ["atom", "rss"])
async def test_empty_feed_keeps_its_etag_as_time_passes(
    embedded_store: SearchStore, make_client: MakeClient, kind: str
) -> None:
    """An alert's feed is empty most of the time: polled later, it must still draw a 304."""
    now = [datetime(2026, 3, 1, 12, 0, tzinfo=UTC)]
    client = await make_client(embedded_store, clock=lambda: now[0])
    path = f"/v1/notices.{kind}?q=zzzzqqq"
    first = await client.get(path)
    assert first.status == 200
    assert feedparser.parse(await first.read()).entries == []
    now[0] += timedelta(hours=1)
    again = await client.get(path, headers={hdrs.IF_NONE_MATCH: first.headers[hdrs.ETAG]})
    assert again.status == 304


@pytest.mark.parametrize("kind", ["atom", "rss"])
async def test_an_alert_feed_changes_when_a_matching_notice_arrives(
    empty_store: SearchStore, make_client: MakeClient, notices: list[Notice], kind: str
) -> None:
    """The alert mechanism end to end: a feed reader polls with its ETag and gets 304 while
    nothing new matches, then 200 with the new notice first once it is indexed."""
    await empty_store.index(notices)
    client = await make_client(empty_store)
    path = f"/v1/notices.{kind}?q=passerelle%20pi%C3%A9tonne"
    first = await client.get(path)
    etag = first.headers[hdrs.ETAG]
    unchanged = await client.get(path, headers={hdrs.IF_NONE_MATCH: etag})
    assert unchanged.status == 304
    newest = max(notices, key=lambda n: n.published_at)
    arrival = copy_as(
        newest, "alert-1", title="Construction d'une passerelle piétonne", version=1,
        published_at=newest.published_at + timedelta(days=1),
        updated_at=newest.updated_at + timedelta(days=1),
    )  # fmt: skip
    await empty_store.index([arrival])
    changed = await client.get(path, headers={hdrs.IF_NONE_MATCH: etag})
    assert changed.status == 200
    assert changed.headers[hdrs.ETAG] != etag
    entries = feedparser.parse(await changed.read()).entries
    assert entries[0].title == "Construction d'une passerelle piétonne"
