"""Defensive readers for decoded OCDS JSON: real publishers put integers where ids are
strings, objects where lists are expected and nulls everywhere, so every read checks its type
and yields nothing rather than failing."""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_date
from scope_shared.schema import Amount, Duration, DurationUnit

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_URL_TAIL = ".,;:)]}»"


def obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def objs(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def ident(value: object) -> str | None:
    """An OCDS id as text: ids are strings, but publishers also write integers."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def idents(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [text for text in (ident(entry) for entry in value) if text]


text = clean_text
"""An OCDS text field: `clean_text` under the name every reader here uses."""


def amount(value: object) -> Amount | None:
    """An OCDS `Value` as an Amount.

    A value without a valid currency is dropped rather than assumed to be in euros (OCDS
    publishers are worldwide), and so is an amount of zero, which publishers write for
    "unknown" (Mexico's `{"amount": 0}`).
    """
    source = obj(value)
    currency = source.get("currency")
    code = currency.strip() if isinstance(currency, str) else ""
    # Three ASCII letters, as `[A-Za-z]{3}` would say, without a regular expression.
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        return None
    parsed = parse_amount(source.get("amount"), currency)
    return parsed if parsed is not None and parsed.amount > 0 else None


def duration(period: object) -> Duration | None:
    """An OCDS `Period` (`startDate`, `endDate`, `durationInDays`) as a Duration."""
    source = obj(period)
    days = source.get("durationInDays")
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        days = None
    start = parse_date(source.get("startDate"))
    end = parse_date(source.get("endDate"))
    if days is None and start is None and end is None:
        return None
    return Duration(
        value=days,
        unit=DurationUnit.DAY if days is not None else None,
        start_date=start,
        end_date=end,
    )


def first_url(value: object) -> str | None:
    """The first http(s) URL in a text such as `Submit through the portal at https://...`."""
    if not isinstance(value, str):
        return None
    match = _URL.search(value)
    return match.group(0).rstrip(_URL_TAIL) if match else None
