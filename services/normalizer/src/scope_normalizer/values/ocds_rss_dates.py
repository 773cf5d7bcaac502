"""Dates of OCDS releases and feed entries, never raising.

`values.dates.parse_datetime` and `parse_date` return None for text they cannot read, but
raise on text that has the shape of a date and impossible values (`2026-13-45Z` or
`20261345` raise ValueError, `9999-12-31T23:59:59-05:00` OverflowError). A mapper must not
crash on a bad date in an optional field, so the OCDS and feed mappers call these instead.
"""

from __future__ import annotations

from datetime import date, datetime

from scope_normalizer.values.dates import parse_date, parse_datetime


def safe_datetime(value: object) -> datetime | None:
    """`parse_datetime`, with None for impossible dates."""
    try:
        return parse_datetime(value)
    except (ValueError, OverflowError):
        return None


def safe_date(value: object) -> date | None:
    """`parse_date`, with None for impossible dates."""
    try:
        return parse_date(value)
    except (ValueError, OverflowError):
        return None
