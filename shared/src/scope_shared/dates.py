"""Dates and times as sources write them, to timezone-aware UTC.

Shared by the document splitters (publication dates for cursors) and the normalizer's mappers,
so both read a date the same way.

Seen in real data: `2026-02-16T12:00:00.000+01:00`, `2026-02-27T12:00:00` (no offset: French
local time), `2015-04-20T11:00:00+00:00`, `2018-10-12+02:00` (a date with an offset, DECP and
eForms), `2023-08-10Z`, `20190301` and `20190301 12:00` (TED R2.0.9), eForms date and time in
two fields (`2020-04-17+01:00` and `12:34:56+01:00`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
"""Scope's sources are French or EU; a time without an offset is French local time."""
BRUSSELS = ZoneInfo("Europe/Brussels")
"""The Official Journal's (OJ S, TED) local time."""

_DATE_WITH_OFFSET = re.compile(r"^(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s+(\d{2}):(\d{2}))?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _fixed_offset(offset: str) -> timezone:
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


_OFFSETS = {
    f"{sign}{hours:02d}:{minutes:02d}": _fixed_offset(f"{sign}{hours:02d}:{minutes:02d}")
    for sign in "+-"
    for hours in range(15)
    for minutes in (0, 15, 30, 45)
} | {"Z": UTC}
"""The offsets in use in the world, built once: building a timezone takes longer than
reading the rest of a date."""


def _tz(offset: str | None, default: ZoneInfo = PARIS) -> timezone | ZoneInfo:
    if offset is None:
        return default
    return _OFFSETS.get(offset) or _fixed_offset(offset)


def parse_datetime(text: object, default_zone: ZoneInfo = PARIS) -> datetime | None:
    """Any source date or date-time as UTC; a bare date is midnight that day.

    A value without an offset is read in `default_zone` (French time unless the source says
    otherwise, e.g. TED's Brussels time). Returns None for empty, unparseable or impossible
    input (`2026-13-45`, a year out of range): a missing or broken date is not an error.
    """
    if not isinstance(text, str):
        return None
    return _cached_datetime(text, default_zone)


@lru_cache(maxsize=65_536)
def _cached_datetime(text: str, default_zone: ZoneInfo) -> datetime | None:
    """Cached: the dates of one source repeat (publication days, deadlines at noon)."""
    try:
        return _parse_datetime(text, default_zone)
    except (ValueError, OverflowError):
        return None


def clear_cache() -> None:
    """Forget cached dates (benchmarks measure each round from a cold cache)."""
    _cached_datetime.cache_clear()


def _parse_datetime(text: object, default_zone: ZoneInfo) -> datetime | None:
    if not isinstance(text, str):
        return None
    value = text.strip()
    if not value:
        return None
    # Each pattern is tried only where it can match: most values are ISO dates or date-times.
    if len(value) > 10 and value[10] != "T" and (match := _DATE_WITH_OFFSET.match(value)):
        day = date.fromisoformat(match.group(1))
        return datetime.combine(day, time(), _tz(match.group(2), default_zone)).astimezone(UTC)
    if value[4:5] != "-" and (match := _COMPACT.match(value)):
        year, month, day_, hour, minute = match.groups()
        local = datetime(
            int(year), int(month), int(day_), int(hour or 0), int(minute or 0),
            tzinfo=default_zone,
        )  # fmt: skip
        return local.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)
    return parsed.astimezone(UTC)


def combine_date_time(day_text: object, time_text: object) -> datetime | None:
    """eForms gives a deadline as a date and a time, each possibly with its own offset."""
    try:
        return _combine_date_time(day_text, time_text)
    except (ValueError, OverflowError):
        return None


def _combine_date_time(day_text: object, time_text: object) -> datetime | None:
    if not isinstance(day_text, str) or not day_text.strip():
        return None
    day_value = day_text.strip()
    offset_match = _OFFSET.search(day_value)
    day = date.fromisoformat(_OFFSET.sub("", day_value))
    if not isinstance(time_text, str) or not time_text.strip():
        return parse_datetime(day_value)
    time_value = time_text.strip()
    time_offset = _OFFSET.search(time_value)
    clock = time.fromisoformat(_OFFSET.sub("", time_value))
    offset_source = time_offset or offset_match
    offset = offset_source.group(1) if offset_source else None
    return datetime.combine(day, clock, _tz(offset)).astimezone(UTC)


def parse_date(text: object) -> date | None:
    """A calendar date (contract start or end), its own day whatever the offset."""
    try:
        return _parse_date(text)
    except (ValueError, OverflowError):
        return None


def _parse_date(text: object) -> date | None:
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    # The search is skipped where it cannot change the day: no offset at the end, or a
    # date-time's, which comes after the `T`.
    if value[10:11] != "T" and (value[-1] == "Z" or value[-3:-2] == ":"):
        value = _OFFSET.sub("", value)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        match = _COMPACT.match(value)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return None
