"""Dates of R2.0.9 notices: deadlines in the buyer's local time, other dates as days.

The standard forms ask for the time limit of section IV.2.2 as "Date / Local time", and the
coded copy (`CODIF_DATA/DT_DATE_FOR_SUBMISSION`, `YYYYMMDD HH:MM`) repeats the same figures
(the Portuguese sample's corrigendum shows 17:00 in both). So a deadline is read in the time
zone of the buyer's country; a country missing from the table falls back to French time, the
rule of `scope_shared.dates` for a time without an offset. Countries spanning several zones (PT with
the Azores, ES with the Canaries) use their mainland zone, where nearly all buyers are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scope_normalizer.values.places import country_alpha2
from scope_shared.dates import PARIS, parse_date

COUNTRY_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia", "CH": "Europe/Zurich",
    "CY": "Asia/Nicosia", "CZ": "Europe/Prague", "DE": "Europe/Berlin", "DK": "Europe/Copenhagen",
    "EE": "Europe/Tallinn", "ES": "Europe/Madrid", "FI": "Europe/Helsinki", "FR": "Europe/Paris",
    "GB": "Europe/London", "GR": "Europe/Athens", "HR": "Europe/Zagreb", "HU": "Europe/Budapest",
    "IE": "Europe/Dublin", "IS": "Atlantic/Reykjavik", "IT": "Europe/Rome", "LI": "Europe/Vaduz",
    "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg", "LV": "Europe/Riga", "MK": "Europe/Skopje",
    "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "RS": "Europe/Belgrade",
    "SE": "Europe/Stockholm", "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava",
}  # fmt: skip
"""TED countries (alpha-2; Greece appears as `EL` in TED and is looked up as `GR`)."""

_ZONES = {country: ZoneInfo(name) for country, name in COUNTRY_ZONES.items()}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_COMPACT = re.compile(r"^(\d{8})\s+(\d{1,2}:\d{2})$")


def zone_of(country: str | None) -> ZoneInfo:
    alpha2 = country_alpha2(country)
    if alpha2 == "EL":
        alpha2 = "GR"
    return _ZONES.get(alpha2 or "", PARIS)


def deadline(day_text: str | None, time_text: str | None, country: str | None) -> datetime | None:
    """`2019-03-22` and `15:00`, local time of `country`, in UTC; midnight when no time."""
    day = parse_date(day_text)
    if day is None:
        return None
    match = _CLOCK.match(time_text.strip()) if time_text else None
    clock = time()
    try:
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour == 24 and minute == 0:
                # "24:00" closes the day: the same instant as the next day's 00:00.
                day, hour = day + timedelta(days=1), 0
            if hour < 24 and minute < 60:
                clock = time(hour, minute)
        return datetime.combine(day, clock, zone_of(country)).astimezone(UTC)
    except OverflowError:
        # Only at the ends of the calendar (year 1 or 9999): not a real deadline.
        return None


def compact_deadline(text: str | None, country: str | None) -> datetime | None:
    """`20190322 15:00` (CODIF_DATA) in the local time of `country`, in UTC."""
    match = _COMPACT.match(text.strip()) if text else None
    if match is None:
        return deadline(text, None, country) if text else None
    return deadline(match.group(1), match.group(2), country)
