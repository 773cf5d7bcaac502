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

import msgspec

from scope_harvester.base import Harvester, Page, Window
from scope_harvester.http import Politeness
from scope_shared.documents import RejectedItem, boamp
from scope_shared.errors import PermanentError

OFFSET_CAP = 10_000
DAY_RETRIES = 2
"""Re-walks of a day whose total changed while it was paged (records inserted meanwhile)."""


class _Total(msgspec.Struct):
    total_count: int


_total_decoder = msgspec.json.Decoder(_Total)


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
                response, total = await self.fetch_document(
                    "GET", self.records_url, _total_decoder.decode, params=params
                )
                if total.total_count > OFFSET_CAP:
                    raise PermanentError(f"{day}: {total.total_count} records exceed the API cap")
                first_total = total.total_count if first_total is None else first_total
                skipped: list[RejectedItem] = []
                items = list(boamp.split_records(response.body, on_skipped=skipped.append))
                # The API pages over the records it returns, kept or not.
                returned = len(items) + len(skipped)
                offset += returned
                done = not returned or offset >= total.total_count
                if not returned and offset < total.total_count:
                    self.log.warning("page_empty", day=str(day), offset=offset)
                changed = done and total.total_count != first_total
                cursor = day.isoformat() if done and not changed else None
                yield Page(url=response.url, items=items, cursor=cursor, rejected=skipped)
                if done:
                    break
            if not changed:
                return
            self.log.warning("day_changed_while_paged", day=str(day))
        raise PermanentError(f"{day}: records kept changing while paged")
