"""GET /v1/sources: each harvester's state, as the harvester records it in NATS KV."""

from __future__ import annotations

from datetime import datetime

import msgspec

from scope_shared.schema.harvest import RunCounts, RunStatus


class SourceStatus(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    kind: str
    """The harvester the source runs (`rss_feed` for an editor's feed)."""
    status: RunStatus
    """The last run's outcome (`running` while one is under way)."""
    last_run_started_at: datetime | None
    last_run_finished_at: datetime | None
    last_success_at: datetime | None
    last_published_at: datetime | None
    """Newest publication date harvested."""
    lag_seconds: float | None
    """Seconds between `last_published_at` and now: how far behind the source Scope is
    (sources publishing in batches show a lag of up to a day when healthy)."""
    last_error: str | None
    last_error_at: datetime | None
    last_run: RunCounts
    totals: RunCounts


class SourceList(msgspec.Struct, frozen=True, kw_only=True):
    sources: list[SourceStatus]
    """By source name."""
    checked_at: datetime
