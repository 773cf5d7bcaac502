"""CPV codes and French company identifiers (SIRET, SIREN)."""

from __future__ import annotations

import re
from functools import lru_cache

from scope_normalizer.values.caches import file_cache

_CPV = re.compile(r"^(\d{7,8})(?:-\d)?$")
_NON_DIGITS = re.compile(r"\D")


def normalize_cpv(text: object) -> str | None:
    """`45316110-9`, `45314000` and `3311000` (a lost leading zero) -> 8 digits; else None."""
    if not isinstance(text, str | int):
        return None
    return _normalize_cpv(str(text))


@file_cache
def _normalize_cpv(text: str) -> str | None:
    """Cached: a file's contracts share a few hundred codes."""
    value = text.strip().split(" ", 1)[0]
    match = _CPV.match(value)
    if match is None:
        return None
    return match.group(1).zfill(8)


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
"""Luhn's doubled digit, digits of the product summed (7 -> 14 -> 5)."""
_DOUBLE_ASCII = str.maketrans("0123456789", "".join(str(d) for d in _DOUBLED))


def luhn_valid(digits: str) -> bool:
    odd = digits[-1::-2]
    even = digits[-2::-2]
    if digits.isascii():
        # The sum of ASCII digits straight from their bytes: a third of the time of int().
        doubled = (odd + even.translate(_DOUBLE_ASCII)).encode()
        total = sum(doubled) - len(doubled) * ord("0")
    else:
        # Other decimal digits (`\d` is any Unicode digit), read by int().
        total = sum(map(int, odd)) + sum(_DOUBLED[int(c)] for c in even)
    return total % 10 == 0


LA_POSTE_SIREN = "356000000"
"""La Poste's establishments break the Luhn rule; INSEE validates them by digit sum instead."""


def valid_siret(text: object) -> str | None:
    """A SIRET (14 digits, Luhn-valid; spaces and dots removed), or None."""
    if not isinstance(text, str | int):
        return None
    return _valid_siret(str(text))


@lru_cache(maxsize=65_536)
def _valid_siret(text: str) -> str | None:
    """Cached: a file's contracts repeat the same buyers and suppliers."""
    # `isdecimal` is true when `\D` matches nothing: most ids are digits only.
    digits = text if text.isdecimal() else _NON_DIGITS.sub("", text)
    if len(digits) != 14:
        return None
    if digits.startswith(LA_POSTE_SIREN):
        return digits if sum(int(c) for c in digits) % 5 == 0 else None
    return digits if luhn_valid(digits) else None


def clear_cache() -> None:
    """Forget cached SIRETs (benchmarks measure each round from a cold cache)."""
    _valid_siret.cache_clear()


def valid_siren(text: object) -> str | None:
    if not isinstance(text, str | int):
        return None
    digits = _NON_DIGITS.sub("", str(text))
    return digits if len(digits) == 9 and luhn_valid(digits) else None


def siren_of(siret: str | None) -> str | None:
    return siret[:9] if siret else None
