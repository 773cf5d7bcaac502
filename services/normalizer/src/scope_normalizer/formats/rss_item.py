"""RSS/Atom feed entry -> Notice.

Source: buyer-profile feeds, split by `scope_shared.documents.rss.split_feed`.
Format: a `FeedEntry` JSON (title, link, id, published, updated, summary, author, author_email,
categories, language, feed_title, feed_link), built from what feedparser reads in RSS 2.0 and
Atom 1.0 elements only.
Caveats:
    - No real buyer-profile feed is available (tests/fixtures/FORMATS.md section 5); nothing
      platform-specific is read. A feed entry says little: it is taken as a call for
      competition (`contract_notice`, `active`), as buyer-profile feeds list consultations.
    - An entry without any date is dated when it was fetched, as feed readers do: the
      schema requires a publication date and the feed gives no better one.
    - Categories are free text in RSS and Atom; none is read as a CPV code or a nature.
"""

from __future__ import annotations

import msgspec

from scope_normalizer.formats.base import identity, require
from scope_normalizer.values.places import enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_datetime
from scope_shared.documents.rss import FeedEntry
from scope_shared.schema import Notice, NoticeStatus, NoticeType, Organization, RawNotice

_DECODER = msgspec.json.Decoder(FeedEntry)


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    entry = _DECODER.decode(payload)
    title = require(clean_text(entry.title), "$.title", "title")
    published = parse_datetime(entry.published) or parse_datetime(entry.updated)
    link = entry.link.strip() if entry.link and entry.link.strip() else None
    return Notice(
        **identity(raw),
        source_url=link,
        notice_type=NoticeType.CONTRACT_NOTICE,
        status=NoticeStatus.ACTIVE,
        title=title,
        description=clean_text(entry.summary),
        language=_language(entry.language),
        buyer=_buyer(entry),
        published_at=published or raw.published_at or raw.fetched_at,
        # A buyer-profile consultation page is where its documents are downloaded.
        documents_url=link,
    )


def _buyer(entry: FeedEntry) -> Organization | None:
    name = clean_text(entry.author)
    if name is None:
        return None
    email = entry.author_email.strip() if entry.author_email else None
    return enrich_organization(Organization(name=name, email=email or None))


def _language(value: str | None) -> str | None:
    """ISO 639-1 from RSS `<language>` / `xml:lang` (`fr`, `fr-FR`)."""
    if value is None:
        return None
    code = value.strip().lower()[:3].rstrip("-_")
    return code if len(code) == 2 and code.isalpha() else None
