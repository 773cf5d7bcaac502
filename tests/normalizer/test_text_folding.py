"""Accent folding, used to compare titles (procedure linking) and names (places)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scope_normalizer.linking import title_words
from scope_normalizer.values.text import fold_words
from scope_shared.folding import fold_accents


def _by_definition(value: str) -> str:
    """Every combining character of the decomposed, case-folded text removed, one by one;
    the two French ligatures spelt out."""
    folded = value.casefold().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@pytest.mark.parametrize(
    ("value", "folded"),
    [
        ("Côte-d'Or", "cote-d'or"),
        ("RÉHABILITATION énergétique", "rehabilitation energetique"),
        ("Maîtrise d'ŒUVRE", "maitrise d'oeuvre"),
        ("Cæcum", "caecum"),
        ("Straße", "strasse"),
        ("Łódź", "łodz"),
        ("a\u034fb", "a\u034fb"),  # the grapheme joiner has no combining class: kept
        ("x\u20d7", "x"),  # a combining mark outside the Latin block
        ("", ""),
    ],
)
def test_fold_accents(value: str, folded: str) -> None:
    assert fold_accents(value) == folded


@given(st.text())
def test_fold_accents_is_the_definition(value: str) -> None:
    assert fold_accents(value) == _by_definition(value)


def test_fold_words_and_title_words_fold_the_same_way() -> None:
    assert fold_words("Côte-d'Or") == "cote d or"
    assert title_words("Ville de Nîmes : réhabilitation") == {"ville", "nimes", "rehabilitation"}
    # BOAMP writes the ligature, TED often not: the same words either way.
    assert (
        title_words("Maîtrise d'œuvre")
        == title_words("MAITRISE D'OEUVRE")
        == {
            "maitrise",
            "oeuvre",
        }
    )
