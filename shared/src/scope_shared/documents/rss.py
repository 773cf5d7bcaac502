"""RSS 2.0 and Atom 1.0 feeds, split into one entry per DocumentItem.

Source: buyer-profile feeds (profils d'acheteur) listing consultations. No real feed of a
French buyer-profile platform is available offline (tests/fixtures/FORMATS.md section 5), so
this module reads only what the RSS 2.0 and Atom 1.0 standards define, as feedparser exposes
it, and nothing platform-specific.
Format: whatever feedparser parses; each entry is kept as a small `FeedEntry` Struct (the
fields below), encoded as JSON. feedparser gives dates as `time.struct_time` in UTC; they are
kept as ISO 8601 UTC strings.
Caveats:
    - RSS 2.0 `<author>` is an e-mail address, by convention followed by the name in
      parentheses (`achats@ville.fr (Ville de X)`); feedparser splits that form wrongly, so it
      is split here. Atom `<author><name>` is taken as feedparser gives it.
    - An entry with neither id/guid nor link has no stable id: it is set aside and handed to
      `on_skipped` (a harvester dead-letters it).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
import msgspec

from scope_shared.documents.base import DocumentItem, OnRejected, RejectedItem
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

_RSS_AUTHOR = re.compile(r"(?P<email>[^\s()@]+@[^\s()]+)(?:\s*\((?P<name>[^()]*)\))?")
"""RSS `<author>`: `email (name)`, matched whole on the stripped text. Linear: spaces on both
sides of an optional group made a feed's `a@b` + 100,000 spaces + `x` take 22 s."""


class FeedEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One feed entry as Scope keeps it (the payload of a `rss_item` RawNotice).

    Attributes:
        id: RSS `<guid>` or Atom `<id>`.
        link: The entry's link (RSS `<link>`, Atom `<link rel="alternate">`).
        title: The entry's title, as published (may hold markup).
        published: RSS `<pubDate>` or Atom `<published>`, ISO 8601 in UTC.
        updated: Atom `<updated>`, ISO 8601 in UTC.
        summary: RSS `<description>` or Atom `<summary>` (else `<content>`), HTML as
            sanitised by feedparser.
        author: The author's name (Atom `<author><name>`, the parenthesised part of RSS
            `<author>`, or `<dc:creator>`).
        author_email: The author's e-mail address, when the feed gives one.
        categories: RSS `<category>` / Atom `<category term>` values.
        language: The entry's or feed's language as declared (`xml:lang`, RSS `<language>`).
        feed_title: The feed's title.
        feed_link: The feed's home page link.
    """

    id: str | None = None
    link: str | None = None
    title: str | None = None
    published: str | None = None
    updated: str | None = None
    summary: str | None = None
    author: str | None = None
    author_email: str | None = None
    categories: list[str] = msgspec.field(default_factory=list)
    language: str | None = None
    feed_title: str | None = None
    feed_link: str | None = None


_ENCODER = msgspec.json.Encoder()


def split_feed(
    data: bytes, feed_url: str, *, on_skipped: OnRejected | None = None
) -> Iterator[DocumentItem]:
    """One DocumentItem per entry of an RSS or Atom feed.

    Args:
        data: The feed bytes as fetched (feedparser detects the encoding from the XML prolog).
        feed_url: Where the feed was fetched: the base for relative links.
        on_skipped: Called with each entry without id and link (the entry as read, as JSON).

    Raises:
        PermanentError: The bytes are not a feed at all (no channel, no entries).
    """
    try:
        parsed = feedparser.parse(
            data, response_headers={"content-location": feed_url}, resolve_relative_uris=True
        )
    except (UnicodeError, LookupError, ValueError) as exc:
        # feedparser reads the XML prolog itself and fails on an undecodable encoding name.
        raise PermanentError(f"not a readable feed: {exc}") from exc
    # Plain dicts: feedparser's own dict maps a missing `updated` to `published` with a
    # DeprecationWarning; only the keys the document really has are wanted.
    feed: dict[str, Any] = dict(parsed.get("feed") or {})
    entries = [dict(entry) for entry in parsed.get("entries") or []]
    if parsed.get("bozo") and not feed and not entries:
        raise PermanentError(f"not an RSS or Atom feed: {parsed.get('bozo_exception')}")
    feed_title = _text(feed.get("title"))
    feed_link = _text(feed.get("link"))
    feed_language = _text(feed.get("language"))
    for index, raw_entry in enumerate(entries):
        entry = _entry(raw_entry, feed_title, feed_link, feed_language)
        source_id = entry.id or entry.link
        if source_id is None:
            if on_skipped is not None:
                on_skipped(RejectedItem(
                    data=_ENCODER.encode(entry), reason="the entry has neither id nor link",
                    field_path=f"/entries[{index}]",
                ))  # fmt: skip
            continue
        yield DocumentItem(
            source_id=source_id,
            format=RawFormat.RSS_ITEM,
            payload=_ENCODER.encode(entry),
            published_at=_utc(raw_entry.get("published_parsed"))
            or _utc(raw_entry.get("updated_parsed")),
        )


def _entry(
    raw: dict[str, Any], feed_title: str | None, feed_link: str | None, feed_language: str | None
) -> FeedEntry:
    author, email = _author(raw)
    published = _utc(raw.get("published_parsed"))
    updated = _utc(raw.get("updated_parsed"))
    return FeedEntry(
        id=_text(raw.get("id")),
        link=_text(raw.get("link")),
        title=_text(raw.get("title")),
        published=published.isoformat() if published else None,
        updated=updated.isoformat() if updated else None,
        summary=_text(raw.get("summary")) or _content(raw),
        author=author,
        author_email=email,
        categories=_categories(raw),
        language=_language(raw) or feed_language,
        feed_title=feed_title,
        feed_link=feed_link,
    )


def _author(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    text = _text(raw.get("author"))
    if text is not None and (match := _RSS_AUTHOR.fullmatch(text.strip())):
        return _text(match.group("name")), match.group("email")
    detail = raw.get("author_detail")
    detail = detail if isinstance(detail, dict) else {}
    return _text(detail.get("name")) or text, _text(detail.get("email"))


def _content(raw: dict[str, Any]) -> str | None:
    contents = raw.get("content")
    if isinstance(contents, list) and contents and isinstance(contents[0], dict):
        return _text(contents[0].get("value"))
    return None


def _categories(raw: dict[str, Any]) -> list[str]:
    tags = raw.get("tags")
    if not isinstance(tags, list):
        return []
    values = (
        _text(tag.get("term")) or _text(tag.get("label")) for tag in tags if isinstance(tag, dict)
    )
    return [value for value in values if value]


def _language(raw: dict[str, Any]) -> str | None:
    for key in ("title_detail", "summary_detail"):
        detail = raw.get(key)
        if isinstance(detail, dict) and (language := _text(detail.get("language"))):
            return language
    return None


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _utc(value: object) -> datetime | None:
    """feedparser's `*_parsed` (a struct_time already in UTC) as an aware datetime."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
