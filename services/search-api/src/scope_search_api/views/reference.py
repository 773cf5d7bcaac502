"""GET /v1/reference/*: code lists for filter widgets."""

from __future__ import annotations

import msgspec


class CpvEntry(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """8 digits, without check digit: the form the `cpv` filter takes."""
    code_with_check_digit: str
    level: int
    """1 for a division (`45000000`), up to 7."""
    parent: str | None
    label_fr: str
    label_en: str


class CpvList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CpvEntry]
    """Broadest first (divisions before their classes), then by code."""


class RegionEntry(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """INSEE region code: the value of the `region` filter."""
    name: str
    nuts1: str | None


class RegionList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[RegionEntry]


class DepartmentEntry(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """INSEE code (`01`, `2A`, `974`): the value of the `department` filter."""
    name: str
    region: str | None
    nuts3: str | None


class DepartmentList(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DepartmentEntry]
