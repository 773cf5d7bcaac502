"""Feed entry mapper, on entries split from STANDARD-SHAPED feeds.

No real buyer-profile feed is available (tests/fixtures/FORMATS.md section 5), so there is
no golden file: the feeds used here (tests/shared/documents/test_rss.py) are written from RSS
2.0 and Atom 1.0 elements only and are NOT recordings of any platform's feed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.rss_item import map_notice
from scope_shared.bus.consumer import PERMANENT_ERRORS
from scope_shared.documents import DocumentItem
from scope_shared.documents.rss import FeedEntry, split_feed
from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, NoticeStatus, NoticeType, ProcedureMatch, RawFormat
from tests.shared.documents.test_rss import FEED_URL, STANDARD_ATOM, STANDARD_RSS
from tests.support.golden import FETCHED_AT, raw_for

SOURCE = "france_profil_test"


def _map_item(item: DocumentItem) -> Notice:
    raw = raw_for(SOURCE, item.source_id, RawFormat.RSS_ITEM, item.payload)
    return map_notice(raw, item.payload)


def _notices(feed: bytes) -> list[Notice]:
    return [_map_item(item) for item in split_feed(feed, FEED_URL)]


def _map_entry(entry: FeedEntry, source_id: str = "e1") -> Notice:
    payload = msgspec.json.encode(entry)
    return map_notice(raw_for(SOURCE, source_id, RawFormat.RSS_ITEM, payload), payload)


def test_mapper_is_registered() -> None:
    assert FORMATS[RawFormat.RSS_ITEM] is map_notice


def test_rss_entry_is_an_active_call_for_competition() -> None:
    notice = _notices(STANDARD_RSS)[0]
    assert notice.id == f"{SOURCE}:cons-4521"
    assert (notice.procedure_id, notice.procedure_match) == (notice.id, ProcedureMatch.OWN)
    assert notice.notice_type is NoticeType.CONTRACT_NOTICE
    assert notice.status is NoticeStatus.ACTIVE
    assert notice.title == "Travaux de réfection de voirie"
    assert notice.description == "Lot 1 : chaussée & trottoirs"
    assert notice.published_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert notice.source_url == "https://profil.invalid/consultation/4521"
    assert notice.documents_url == notice.source_url
    assert notice.language == "fr"
    assert notice.buyer is not None
    assert (notice.buyer.name, notice.buyer.email) == ("Ville de Tulle", "achats@ville.invalid")
    # Categories are free text: none becomes a CPV code or a nature.
    assert (notice.cpv_main, notice.contract_nature) == (None, None)


def test_rss_entry_without_author_has_no_buyer() -> None:
    second = _notices(STANDARD_RSS)[1]
    assert second.id == f"{SOURCE}:https://profil.invalid/consultation/4522"
    assert second.buyer is None
    assert second.description is None


def test_atom_entry_is_dated_by_updated_when_not_published() -> None:
    [notice] = _notices(STANDARD_ATOM)
    assert notice.published_at == datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    assert notice.description == "Marché de services"
    assert notice.buyer is not None
    assert (notice.buyer.name, notice.buyer.email) == ("Centre hospitalier", "marches@ch.invalid")
    assert notice.language == "fr"


def test_entry_without_language_has_none() -> None:
    notice = _map_entry(FeedEntry(id="e1", title="Consultation", published="2026-01-05T10:00:00Z"))
    assert notice.language is None


def test_entry_without_any_date_is_dated_when_fetched() -> None:
    notice = _map_entry(FeedEntry(id="e1", title="Consultation"))
    assert notice.published_at == FETCHED_AT


def test_entry_with_only_an_email_author_has_no_buyer() -> None:
    entry = FeedEntry(id="e1", title="Consultation", author_email="achats@ville.invalid")
    assert _map_entry(entry).buyer is None


@pytest.mark.parametrize("title", [None, "", "  ", "<p> </p>"])
def test_entry_without_title_is_dead_lettered(title: str | None) -> None:
    with pytest.raises(PermanentError) as caught:
        _map_entry(FeedEntry(id="e1", title=title))
    assert caught.value.field_path == "$.title"


_PAYLOADS = [
    item.payload for feed in (STANDARD_RSS, STANDARD_ATOM) for item in split_feed(feed, FEED_URL)
]


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(_PAYLOADS) - 1), cut=st.integers(0, 600), junk=st.binary(max_size=6)
)
def test_truncated_payloads_map_or_dead_letter(index: int, cut: int, junk: bytes) -> None:
    payload = _PAYLOADS[index][:cut] + junk
    raw = raw_for(SOURCE, "e1", RawFormat.RSS_ITEM, payload)
    try:
        notice = map_notice(raw, payload)
    except PERMANENT_ERRORS:
        return
    assert notice.title


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=20),
    summary=st.none() | st.text(max_size=40),
    published=st.none() | st.text(max_size=30),
    author=st.none() | st.text(max_size=20),
    language=st.none() | st.text(max_size=8),
)
def test_any_text_fields_map_or_dead_letter(
    title: str, summary: str | None, published: str | None, author: str | None, language: str | None
) -> None:
    entry = FeedEntry(
        id="e1", title=title, summary=summary, published=published, author=author, language=language
    )
    try:
        notice = _map_entry(entry)
    except PermanentError:
        return
    assert notice.published_at.tzinfo is not None
    assert msgspec.json.decode(msgspec.json.encode(notice), type=Notice) == notice
