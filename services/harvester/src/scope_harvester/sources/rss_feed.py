"""A buyer profile's RSS or Atom feed of open consultations (one configured instance per editor).

Source: the feed URL of one buyer-profile platform or buyer, configured per instance (there is
no default):
    [sources.france_<editor>]
    kind = "rss_feed"
    base_url = "<feed url>"
Format: RSS 2.0 or Atom 1.0, split with `documents.rss.split_feed`: one RawNotice per entry
(RawFormat.RSS_ITEM), the entry kept as a small JSON `FeedEntry`.
Editor: French buyer-profile platforms (profils d'acheteur) and buyers publishing a feed.
Caveats:
    - NO REAL BUYER-PROFILE FEED SAMPLE EXISTS (tests/fixtures/FORMATS.md section 5): this
      harvester and its tests rely only on what the RSS 2.0 and Atom 1.0 standards define. The
      test feeds are standard-shaped, written for the tests, not recorded from any platform;
      platform-specific elements (deadlines, CPV codes in their own namespaces) are not read.
    - A feed is a window, not a history: there is no cursor. Each run makes a conditional GET
      (ETag / Last-Modified); a 304 publishes nothing. Entries already seen are dropped by
      their Msg-Id (same content within a day) and by the normalizer's version ledger. An
      entry that enters and leaves the feed between two runs is missed: keep `interval`
      shorter than the feed's turnover.
    - The feed's validators are kept only once its entries were published: a run that fails
      to publish asks for the whole feed again next time, not for a 304.
    - A body cut in transit still parses (feedparser is lenient) into a partial list, and its
      validators would turn the next request into a 304 hiding the rest. So a feed whose root
      end tag is missing is fetched again, without keeping its validators; if it stays cut,
      the run fails rather than publishing part of it. Other defects (HTML entities, stray
      `&`) are left to feedparser's lenient reading.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from scope_harvester.base import Harvester, Page, Window, parsed
from scope_harvester.http import PoliteClient, Politeness, Response
from scope_harvester.settings import SourceConfig
from scope_shared.documents import RejectedItem, rss
from scope_shared.errors import ConfigError, RetryableError

TAIL_BYTES = 4096
"""Where to look for the root end tag: after it come at most whitespace and a short comment."""
_ROOT_END = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>$")


def is_complete(body: bytes) -> bool:
    """Whether the feed ends with its root's end tag (`</rss>`, `</feed>`, `</rdf:RDF>`).

    NUL bytes are dropped first, so that a UTF-16 feed's ASCII markup is matched too, and
    trailing comments (some generators sign their output) are skipped.
    """
    tail = body[-TAIL_BYTES:].replace(b"\x00", b"").rstrip()
    while tail.endswith(b"-->") and b"<!--" in tail:
        tail = tail[: tail.rfind(b"<!--")].rstrip()
    return _ROOT_END.search(tail) is not None


class RssFeed(Harvester):
    kind = "rss_feed"
    default_base_url = ""
    interval = 900.0
    # One feed per editor, on the editor's own server: one request at a time suffices.
    politeness = Politeness(concurrency=1, rate=1.0)

    def __init__(self, name: str, config: SourceConfig, http: PoliteClient) -> None:
        super().__init__(name, config, http)
        # Kept as configured: the base class strips a trailing slash, which is part of a URL.
        self.feed_url = (config.base_url or "").strip()
        if not self.feed_url:
            raise ConfigError(f"sources.{name}: base_url (the feed URL) is required for rss_feed")

    async def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        response = await self._fetch_complete()
        if response is None:
            self.log.info("feed_unchanged", url=self.feed_url)
            return
        skipped: list[RejectedItem] = []
        # Relative ids and links resolve against the configured URL, not the one a redirect
        # led to: an entry keeps its id when the feed moves behind a redirect.
        items = await parsed(
            lambda body: list(rss.split_feed(body, self.feed_url, on_skipped=skipped.append)),
            response.body,
        )
        yield Page(url=response.url, items=items, rejected=skipped)
        # Here only once the page was published (the run asks for the next page after that).
        self.keep_validators(self.feed_url, response)

    async def _fetch_complete(self) -> Response | None:
        """The feed, fetched conditionally; None when unchanged (304)."""
        attempts = self.http.politeness.retries + 1
        for attempt in range(attempts):
            response = await self.fetch_conditional(self.feed_url)
            if response.not_modified:
                return None
            if is_complete(response.body):
                return response
            self.http.counts.failed += 1
            if attempt + 1 == attempts:
                raise RetryableError(f"feed from {self.feed_url} ends before its root end tag")
            self.log.warning("page_unreadable", url=self.feed_url, attempt=attempt + 1)
            await asyncio.sleep(self.http.retry_delay(attempt))
        raise AssertionError("unreachable")
