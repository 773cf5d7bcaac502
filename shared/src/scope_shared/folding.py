"""Accent folding for comparing words typed with or without accents: the CPV label search and
the normalizer's matching of titles and place names share this one definition."""

from __future__ import annotations

import re
import unicodedata

_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")
"""The combining diacritical marks block (less U+034F, which combines nothing): every accent
of French (and most Latin) text."""


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
"""French writes `maîtrise d'œuvre` and `maitrise d'oeuvre` alike; Unicode does not decompose
these two ligatures (`ß` and `ﬁ` are taken care of by case folding and NFKD)."""


def fold_accents(value: str) -> str:
    """Lower case, accents removed, French ligatures spelt out (`Côte-d'Or` -> `cote-d'or`,
    `Œuvre` -> `oeuvre`); other characters kept."""
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_LIGATURES))
    if decomposed.isascii():
        return decomposed
    # One pass of a regular expression for the usual marks; the rare others one by one.
    letters = _LATIN_MARKS.sub("", decomposed)
    if letters.isascii():
        return letters
    return "".join(c for c in letters if not unicodedata.combining(c))
