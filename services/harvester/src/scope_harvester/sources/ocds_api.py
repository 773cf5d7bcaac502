"""Any OCDS publisher's API of release or record packages, paged by `links.next`.

Source: one configured instance per publisher; `base_url` is the URL of the first page of its
package API (there is no public default, so an instance without it fails at start):
    [sources.paraguay_dncp]
    kind = "ocds_api"
    base_url = "https://publisher.example/api/releases"
    options = { since_parameter = "since" }
Format: OCDS 1.0/1.1 release or record packages, split with `documents.ocds.split_package`:
one RawNotice per release (RawFormat.OCDS_RELEASE), the package metadata kept under the
`package` attribute.
Editor: any OCDS publisher whose API follows the OCDS pagination extension (each page is a
package whose `links.next` is the URL of the following page, absent on the last one).
Caveats:
    - The cursor is the URL of the last page fully published. Publishers append releases to
      their last page or add pages after it, so each run fetches that page again and follows
      `links.next` from there; the releases already stored are dropped by their Msg-Id.
    - `--since` filters at the source only with `since_parameter` (the publisher's own date
      parameter); without it the API is walked from its first page.
    - Linked releases in records (`{url, date, tag}`) hold no content here: they are counted
      (`releases_skipped` event per page, `scope_harvester_ocds_releases_skipped_total`),
      not fetched one by one.
    - A cursor URL that stops answering (a publisher renumbering its pages) fails the run with
      the HTTP error; deleting the `<source>.cursor.live` key restarts from the first page.
    - Publishers may serve ISO-8859-1 JSON; the splitter transcodes it.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urljoin

import msgspec
from prometheus_client import Counter

from scope_harvester.base import Harvester, Page, Window
from scope_harvester.http import PoliteClient, Politeness
from scope_harvester.settings import SourceConfig
from scope_shared.documents import DocumentItem, ocds
from scope_shared.errors import ConfigError, PermanentError

SKIPPED = Counter(
    "scope_harvester_ocds_releases_skipped_total",
    "OCDS releases a package named but did not embed (linked, versioned only, without id).",
    ["source", "reason"],
)


@dataclass
class _Parsed:
    items: list[DocumentItem]
    skipped: list[ocds.SkippedRelease]
    next_url: str | None


def _parse(body: bytes) -> _Parsed:
    """Split one page; a body that is not a package is unreadable (the base fetches it again)."""
    skipped: list[ocds.SkippedRelease] = []
    try:
        items = list(ocds.split_package(body, on_skipped=skipped.append))
    except PermanentError as exc:
        if _is_json(body):
            raise  # A whole JSON answer that is no package: fetching it again cannot help.
        # A page cut in transit is not JSON: ValueError makes `fetch_document` re-fetch it.
        raise ValueError(str(exc)) from exc
    return _Parsed(items, skipped, ocds.next_page_url(body))


def _is_json(body: bytes) -> bool:
    try:
        msgspec.json.decode(ocds.utf8_json(body))
    except msgspec.DecodeError:
        return False
    return True


class OcdsApi(Harvester):
    kind = "ocds_api"
    default_base_url = ""
    interval = 3600.0
    # An unknown publisher's server: one request at a time, one per second.
    politeness = Politeness(concurrency=1, rate=1.0)

    class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        """Attributes:
        since_parameter: The publisher's query parameter filtering by date (`since`), sent
            with `--since` as YYYY-MM-DD; None when the API has none.
        max_pages: Pages read per run at most (the next run continues from the cursor);
            None reads to the last page.
        """

        since_parameter: str | None = None
        max_pages: Annotated[int, msgspec.Meta(ge=1)] | None = None

    def __init__(self, name: str, config: SourceConfig, http: PoliteClient) -> None:
        super().__init__(name, config, http)
        # Kept as configured: the base class strips a trailing slash, which is part of a URL.
        self.first_page_url = (config.base_url or "").strip()
        if not self.first_page_url:
            raise ConfigError(
                f"sources.{name}: base_url is required for kind ocds_api "
                "(the URL of the first page of the publisher's release or record packages)"
            )

    def start_url(self, cursor: str | None, window: Window) -> str:
        if window.since is not None and self.options.since_parameter:
            query = urlencode({self.options.since_parameter: window.since.isoformat()})
            separator = "&" if "?" in self.first_page_url else "?"
            return f"{self.first_page_url}{separator}{query}"
        if window.since is not None:
            self.log.warning("since_unsupported", since=str(window.since))
        return cursor or self.first_page_url

    async def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        url: str | None = self.start_url(cursor, window)
        seen: set[str] = set()
        while url is not None and not self._page_limit_reached(len(seen)):
            seen.add(url)
            response, parsed = await self.fetch_document("GET", url, _parse)
            self._count_skipped(response.url, parsed.skipped)
            yield Page(url=response.url, items=parsed.items, cursor=url)
            url = self.followed(urljoin(response.url, parsed.next_url)) if parsed.next_url else None
            if url in seen:
                # A publisher whose last page links to itself (or back) would loop forever.
                self.log.warning("page_loop_detected", url=url)
                return

    def _page_limit_reached(self, read: int) -> bool:
        return self.options.max_pages is not None and read >= self.options.max_pages

    def _count_skipped(self, url: str, skipped: list[ocds.SkippedRelease]) -> None:
        if not skipped:
            return
        reasons = Tally(s.reason for s in skipped)
        for reason, count in reasons.items():
            SKIPPED.labels(source=self.name, reason=reason).inc(count)
        self.log.info("releases_skipped", url=url, count=len(skipped), reasons=dict(reasons))
