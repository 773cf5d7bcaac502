"""A harvester's state as stored in the KV bucket `scope_harvester_state`, one key per source.

The harvester writes it after every run; the search API reads it for `GET /v1/sources`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

RunStatus = Literal["never", "running", "ok", "failed"]


class RunCounts(msgspec.Struct, kw_only=True):
    pages: int = 0
    fetched: int = 0
    published: int = 0
    duplicates: int = 0
    failed: int = 0
    rejected: int = 0
    """Pieces of the documents that named no notice, kept as harvest dead letters."""
    requests: int = 0
    failed_requests: int = 0

    def add(self, other: RunCounts) -> RunCounts:
        return RunCounts(
            **{f: getattr(self, f) + getattr(other, f) for f in self.__struct_fields__}
        )


class SourceState(msgspec.Struct, kw_only=True):
    source: str
    kind: str = ""
    status: RunStatus = "never"
    last_run_id: str | None = None
    last_run_started_at: datetime | None = None
    last_run_finished_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    last_published_at: datetime | None = None
    """The newest publication date harvested: `now - this` is the source's lag."""
    last_run: RunCounts = msgspec.field(default_factory=RunCounts)
    totals: RunCounts = msgspec.field(default_factory=RunCounts)
