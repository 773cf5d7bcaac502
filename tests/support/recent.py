"""Recorded data moved to recent days, for the tests that run a harvester's live lane."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def boamp_records_of_yesterday(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recorded BOAMP records, published yesterday (UTC) as far as the API's paging by
    day is concerned: a live run with `first_run_days = 1` reaches them in two day requests,
    whatever today is. (Reaching back to their real day cost one request per day since, more
    every day, and a run crossing midnight missed them.)"""
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    return [{**record, "dateparution": yesterday} for record in records]
