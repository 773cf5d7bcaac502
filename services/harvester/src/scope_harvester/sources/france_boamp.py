"""BOAMP, the French official bulletin of public procurement notices.

Source: DILA's open data on Opendatasoft, Explore API v2.1, dataset `boamp`:
    GET {base}/api/explore/v2.1/catalog/datasets/boamp/records
Format: JSON records; the notice body is the JSON string `donnees` (RawFormat.BOAMP_JSON).
Editor: DILA (Direction de l'information légale et administrative).
Caveats: `limit` is capped at 100 and `offset + limit` at 10,000, so the harvest walks one
publication day at a time (a day holds far fewer notices) and pages by offset within it, in
`idweb` order. The dataset is refreshed twice a day: the cursor is the last day read
completely, and each run reads that day again (its notices are dropped as duplicates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import msgspec

from scope_harvester.base import Harvester, Page, Window
from scope_harvester.http import Politeness
from scope_shared.documents import DocumentItem, RejectedItem, boamp
from scope_shared.errors import PermanentError

OFFSET_CAP = 10_000
DAY_RETRIES = 2
"""Re-walks of a day whose total changed while it was paged (records inserted meanwhile)."""


class _Total(msgspec.Struct):
    total_count: int


_total_decoder = msgspec.json.Decoder(_Total)


class _RecordsPage(NamedTuple):
    total: int
    items: list[DocumentItem]
    skipped: list[RejectedItem]


def _records_page(body: bytes) -> _RecordsPage:
    """A records page read whole, in one call (`fetch_document` runs a large one off the
    event loop): its total, its notices, the records that name none."""
    total = _total_decoder.decode(body).total_count
    skipped: list[RejectedItem] = []
    items = list(boamp.split_records(body, on_skipped=skipped.append))
    return _RecordsPage(total, items, skipped)


class FranceBoamp(Harvester):
    kind = "france_boamp"
    default_base_url = "https://boamp-datadila.opendatasoft.com"
    interval = 3600.0
    backfill = True
    politeness = Politeness(concurrency=2, rate=2.0)

    class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        """Attributes:
        page_size: Records per request (the API's maximum is 100).
        first_run_days: Days back to start from when there is no cursor and no --since.
        """

        page_size: int = 100
        first_run_days: int = 7

    @property
    def records_url(self) -> str:
        return f"{self.base_url}/api/explore/v2.1/catalog/datasets/boamp/records"

    async def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        today = datetime.now(UTC).date()
        start = window.since or (
            date.fromisoformat(cursor) if cursor else today - timedelta(self.options.first_run_days)
        )
        end = window.until or today
        day = start
        while day <= end:
            async for page in self._day(day):
                yield page
            day += timedelta(days=1)

    async def _day(self, day: date) -> AsyncIterator[Page]:
        for _ in range(DAY_RETRIES + 1):
            first_total: int | None = None
            offset = 0
            while True:
                params = {
                    "where": f"dateparution = date'{day.isoformat()}'",
                    "order_by": "idweb",
                    "limit": str(self.options.page_size),
                    "offset": str(offset),
                }
                response, page = await self.fetch_document(
                    "GET", self.records_url, _records_page, params=params
                )
                if page.total > OFFSET_CAP:
                    raise PermanentError(f"{day}: {page.total} records exceed the API cap")
                first_total = page.total if first_total is None else first_total
                # The API pages over the records it returns, kept or not.
                returned = len(page.items) + len(page.skipped)
                offset += returned
                done = not returned or offset >= page.total
                if not returned and offset < page.total:
                    self.log.warning("page_empty", day=str(day), offset=offset)
                changed = done and page.total != first_total
                cursor = day.isoformat() if done and not changed else None
                yield Page(url=response.url, items=page.items, cursor=cursor, rejected=page.skipped)
                if done:
                    break
            if not changed:
                return
            self.log.warning("day_changed_while_paged", day=str(day))
        raise PermanentError(f"{day}: records kept changing while paged")
