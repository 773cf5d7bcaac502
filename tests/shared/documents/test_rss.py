"""RSS/Atom splitter: one item per entry, ids, UTC dates, authors, skipped entries.

No real buyer-profile feed is available (tests/fixtures/FORMATS.md section 5). The feeds below
are STANDARD-SHAPED, written for these tests from RSS 2.0 and Atom 1.0 (RFC 4287) elements
only; they are NOT recordings of any platform's feed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scope_shared.documents import RejectedItem
from scope_shared.documents.rss import FeedEntry, split_feed
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

FEED_URL = "https://profil.invalid/consultations/rss.xml"

STANDARD_RSS = """<?xml version="1.0" encoding="iso-8859-1"?>
<rss version="2.0">
  <channel>
    <title>Consultations en cours</title>
    <link>https://profil.invalid/</link>
    <description>Standard-shaped RSS 2.0 test feed</description>
    <language>fr-FR</language>
    <item>
      <title>Travaux de réfection de voirie</title>
      <link>/consultation/4521</link>
      <guid isPermaLink="false">cons-4521</guid>
      <pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate>
      <description>&lt;p&gt;Lot 1 : chaussée &amp;amp; trottoirs&lt;/p&gt;</description>
      <author>achats@ville.invalid (Ville de Tulle)</author>
      <category>Travaux</category>
      <category>45233140</category>
    </item>
    <item>
      <title>Fourniture de mobilier</title>
      <link>https://profil.invalid/consultation/4522</link>
      <pubDate>Tue, 03 Mar 2026 08:30:00 GMT</pubDate>
    </item>
    <item>
      <title>Entrée sans identifiant</title>
      <description>Ni guid ni lien.</description>
    </item>
  </channel>
</rss>
""".encode("iso-8859-1")

STANDARD_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Avis du profil acheteur</title>
  <link href="https://profil.invalid/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-03-02T10:00:00Z</updated>
  <entry>
    <title>Maintenance des ascenseurs</title>
    <link rel="alternate" href="https://profil.invalid/avis/77"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-03-01T09:15:00+01:00</updated>
    <summary type="html">&lt;b&gt;Marché de services&lt;/b&gt;</summary>
    <author><name>Centre hospitalier</name><email>marches@ch.invalid</email></author>
    <category term="services" label="Services"/>
  </entry>
</feed>
""".encode()


def _entries(data: bytes) -> list[FeedEntry]:
    return [
        msgspec.json.decode(item.payload, type=FeedEntry) for item in split_feed(data, FEED_URL)
    ]


def test_rss_items_keyed_by_guid_else_link() -> None:
    skipped: list[RejectedItem] = []
    items = list(split_feed(STANDARD_RSS, FEED_URL, on_skipped=skipped.append))
    assert [item.source_id for item in items] == [
        "cons-4521",
        "https://profil.invalid/consultation/4522",
    ]
    assert {item.format for item in items} == {RawFormat.RSS_ITEM}
    (rejected,) = skipped
    assert (rejected.field_path, rejected.reason) == (
        "/entries[2]",
        "the entry has neither id nor link",
    )
    assert msgspec.json.decode(rejected.data, type=FeedEntry).title == "Entrée sans identifiant"


def test_rss_entry_fields_decoded_from_iso_8859_1() -> None:
    entry = _entries(STANDARD_RSS)[0]
    assert entry.title == "Travaux de réfection de voirie"
    assert entry.link == "https://profil.invalid/consultation/4521"  # relative link resolved
    assert entry.published == "2026-03-02T09:00:00+00:00"
    assert entry.updated is None
    assert entry.summary == "<p>Lot 1 : chaussée &amp; trottoirs</p>"
    assert (entry.author, entry.author_email) == ("Ville de Tulle", "achats@ville.invalid")
    assert entry.categories == ["Travaux", "45233140"]
    assert entry.language == "fr-FR"
    assert (entry.feed_title, entry.feed_link) == (
        "Consultations en cours",
        "https://profil.invalid/",
    )


def test_rss_published_at_is_utc() -> None:
    items = list(split_feed(STANDARD_RSS, FEED_URL))
    assert [item.published_at for item in items] == [
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 8, 30, tzinfo=UTC),
    ]


def test_atom_entry_fields() -> None:
    items = list(split_feed(STANDARD_ATOM, FEED_URL))
    assert [item.source_id for item in items] == ["urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"]
    assert items[0].published_at == datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    entry = _entries(STANDARD_ATOM)[0]
    assert entry.published is None
    assert entry.updated == "2026-03-01T08:15:00+00:00"
    assert entry.summary == "<b>Marché de services</b>"
    assert (entry.author, entry.author_email) == ("Centre hospitalier", "marches@ch.invalid")
    assert entry.categories == ["services"]
    assert entry.language == "fr"
    assert entry.link == "https://profil.invalid/avis/77"


def test_rss_author_without_name_keeps_only_the_email() -> None:
    feed = STANDARD_RSS.replace(b"achats@ville.invalid (Ville de Tulle)", b"achats@ville.invalid")
    entry = _entries(feed)[0]
    assert (entry.author, entry.author_email) == (None, "achats@ville.invalid")


def test_dc_creator_is_the_author() -> None:
    feed = (
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t'
        b"</title><item><title>x</title><guid>g1</guid><dc:creator>Mairie</dc:creator></item>"
        b"</channel></rss>"
    )
    assert _entries(feed)[0].author == "Mairie"


@pytest.mark.parametrize(
    "data",
    [b"<<<not xml", b'<?xml version="1.0" encoding="\xff"?><rss version="2.0"/>'],
)
def test_not_a_feed_is_a_permanent_error(data: bytes) -> None:
    with pytest.raises(PermanentError):
        list(split_feed(data, FEED_URL))


def test_empty_feed_yields_nothing() -> None:
    feed = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    assert list(split_feed(feed, FEED_URL)) == []


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, len(STANDARD_RSS)), junk=st.binary(max_size=16))
def test_mutated_feed_splits_or_fails_permanently(cut: int, junk: bytes) -> None:
    try:
        items = list(split_feed(STANDARD_RSS[:cut] + junk, FEED_URL))
    except PermanentError:
        return
    for item in items:
        assert msgspec.json.decode(item.payload, type=FeedEntry).id or item.source_id
