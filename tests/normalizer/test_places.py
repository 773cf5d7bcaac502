"""Départements read from free place text: BOAMP's `(59) Nord`, never a street number or a
foreign postcode."""

from __future__ import annotations

import pytest

from scope_normalizer.values.places import build_place, department_in_text


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("(59) Nord", "59"),
        ("59 Nord", "59"),
        ("59 - Nord", "59"),
        ("2A Corse-du-Sud", "2A"),
        ("21 Côte-d'Or", "21"),
        ("974 Réunion", "974"),
        ("(971)", "971"),
        # A street number, foreign postcodes, a number that is no département's.
        ("41 rue Camille Pelletan - LEVALLOIS", None),
        ("82-300 Elbląg", None),
        ("971 85 Luleå", None),
        ("10 Downing Street", None),
        ("99 Nord", None),
    ],
)
def test_department_in_text(text: str, department: str | None) -> None:
    assert department_in_text(text) == department


def test_place_abroad_takes_no_department_from_its_text() -> None:
    # Written as BOAMP writes a French one, but the place is in Poland.
    place = build_place(country="PL", text="(82) Elbląg")
    assert place is not None
    assert (place.departments, place.regions, place.country) == ([], [], "PL")
    french = build_place(text="(82) Tarn-et-Garonne")
    assert french is not None
    assert (french.departments, french.regions, french.country) == (["82"], ["76"], "FR")
