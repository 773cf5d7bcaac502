"""CPV 2008: labels in French and English, hierarchy, and a label search for autocompletion."""

from __future__ import annotations

import re
from functools import cache

import msgspec

from scope_shared.folding import fold_accents
from scope_shared.reference._files import rows


class Cpv(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """8 digits, no check digit."""
    code_with_check_digit: str
    level: int
    """1 for a division (`45000000`), up to 7."""
    parent: str | None
    label_fr: str
    label_en: str


@cache
def _table() -> dict[str, Cpv]:
    return {
        r["code"]: Cpv(
            code=r["code"],
            code_with_check_digit=r["code_with_check_digit"],
            level=int(r["level"]),
            parent=r["parent_code"] or None,
            label_fr=r["label_fr"],
            label_en=r["label_en"],
        )
        for r in rows("cpv_2008_fr_en.csv")
    }


def cpv_entry(code: str) -> Cpv | None:
    return _table().get(code)


def cpv_ancestors(code: str) -> list[str]:
    """The code and every ancestor up to its division: `45233140` -> [..., `45000000`].

    An unknown code still yields its prefix ancestors (`45233149` -> `45233100`, ...), so that
    a search on a division finds a notice whose code is not in the 2008 list.
    """
    table = _table()
    chain: list[str] = []
    current: str | None = code
    while current is not None and current in table:
        chain.append(current)
        current = table[current].parent
    if chain:
        return chain
    significant = code.rstrip("0")
    return [significant[:n].ljust(8, "0") for n in range(len(significant), 1, -1)]


_CODE = re.compile(r"(\d{1,8})(?:-\d)?")
"""A code or its start, with or without check digit: `45`, `4523`, `45233140-2`."""


@cache
def _folded_labels() -> list[tuple[str, Cpv]]:
    return [(fold_accents(f"{c.code} {c.label_fr} {c.label_en}"), c) for c in _table().values()]


def search_cpv(query: str, limit: int = 20) -> list[Cpv]:
    """Codes that start with every number of `query` and whose labels contain its other words
    (accents, ligatures and case ignored), broadest first (a division before its classes)."""
    prefixes: list[str] = []
    words: list[str] = []
    for word in fold_accents(query).split():
        code = _CODE.fullmatch(word)
        if code:
            prefixes.append(code.group(1))
        else:
            words.append(word)
    if not (prefixes or words):
        return []
    found = [
        c
        for text, c in _folded_labels()
        if all(c.code.startswith(p) for p in prefixes) and all(w in text for w in words)
    ]
    found.sort(key=lambda c: (c.level, c.code))
    return found[:limit]
