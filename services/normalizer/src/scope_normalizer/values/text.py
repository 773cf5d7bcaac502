"""Text fields: markup removed, whitespace folded, nothing else changed.

Encoding defects of the sources (C1 control characters from Windows-1252 mis-decoding) are
kept as published: guessing them back would alter real text.
"""

from __future__ import annotations

import html
import re

from scope_shared.folding import fold_accents

_TAG = re.compile(r"<[^>]{0,2000}>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\b[^<>]{0,2000}>", re.IGNORECASE)
"""Bounded like `_TAG`: with `[^>]*`, a text of `<br` repeated without `>` was quadratic (a
600 KB description took 33 s)."""
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_LAYOUT = re.compile(r"[\n\r\t\f\v\u00a0\x1c\x1d\x1e\x85\u2028\u2029]")
"""What the line and space steps change: line breaks (as `str.splitlines` sees them) and
the spaces `_SPACES` folds."""


_NEEDS_CLEANING = re.compile(r"[<&\n\r\t\f\v\u00a0]")
"""Most source strings are one clean line: this search and one for a double space spare them
the full treatment. (One pattern with ` {2}` as an alternative is three times slower: the
alternation defeats the character-set scan.)"""


def clean_text(value: object) -> str | None:
    """Plain text from a source string that may hold HTML; None when empty."""
    if not isinstance(value, str):
        return None
    if _NEEDS_CLEANING.search(value) is None and "  " not in value:
        return value.strip() or None
    text = value
    if "<" in text:  # both patterns start with it
        text = _BREAK.sub("\n", text)
        text = _TAG.sub(" ", text)
    text = html.unescape(text)
    if _LAYOUT.search(text) is None and "  " not in text:
        # One line, single spaces (`SARL A & B` once unescaped): the steps below keep it.
        return text.strip() or None
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return text or None


def first_text(*values: object) -> str | None:
    """The first value that cleans to non-empty text."""
    for value in values:
        text = clean_text(value)
        if text:
            return text
    return None


_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold_words(value: str) -> str:
    """For comparing names: lower case, no accents, words of letters and digits separated by
    one space (`Côte-d'Or` -> `cote d or`)."""
    return " ".join(_NON_WORD.sub(" ", fold_accents(value)).split())
