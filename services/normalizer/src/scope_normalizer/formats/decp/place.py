"""`lieuExecution {code, typeCode, nom}` to a Place.

Each `typeCode` names an INSEE or La Poste code from which the département is derived:
- `Code postal`: La Poste's table (Corsica's 20xxx and cedex codes need it);
- `Code commune`: the INSEE commune code starts with its département (2 characters, 3
  overseas). Real exports often put a postal code there (`59850` NIEPPE): same prefix, except
  a numeric `20xxx`, which cannot be an INSEE code (Corsica's are 2A/2B) and is read as postal;
- `Code arrondissement`: département + 1 digit (`544`, Toul); `Code canton`: département +
  2 digits;
- `Code département`, `Code région` (INSEE, validated against the reference), `Code pays`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from scope_normalizer.formats.decp.codes import fold
from scope_normalizer.formats.decp.record import mapping, text
from scope_normalizer.values.caches import file_cache
from scope_normalizer.values.places import build_place, country_alpha2, normalize_department
from scope_normalizer.values.text import clean_text
from scope_shared.reference import department_for_postal_code, department_prefix, region
from scope_shared.schema import Place


def place(value: object) -> Place | None:
    location: dict[str, Any] = mapping(value)
    name = clean_text(location.get("nom"))
    found = _coded_place(text(location.get("code")), text(location.get("typeCode")))
    if found is None:
        return Place(text=name) if name else None
    # A copy, lists included: the cached Place is shared by every contract of the place.
    return Place(
        nuts=[*found.nuts],
        departments=[*found.departments],
        regions=[*found.regions],
        country=found.country,
        text=name,
    )


@file_cache
def _coded_place(code: str | None, type_code: str | None) -> Place | None:
    """The place a code names, without its free text. Cached: a file's contracts are
    executed in a few hundred places."""
    kind = fold(type_code or "")
    department = _department(kind, code.upper()) if code else None
    regions: list[str] = []
    country = None
    if code and kind == "code region" and region(code) is not None:
        regions = [code]
    elif code and kind == "code pays":
        country = country_alpha2(code)
    # The free text is not passed to build_place: it would read a leading number of an
    # address (`2 rue ...`) as a département.
    found = build_place(departments=[department] if department else [], country=country)
    if regions:
        found = msgspec.structs.replace(
            found or Place(), regions=regions, country=(found.country if found else None) or "FR"
        )
    return found


_DEPARTMENT_PREFIXES: dict[str, Callable[[str], str]] = {
    "code commune": department_prefix,
    "code arrondissement": lambda code: code[:-1],
    "code canton": lambda code: code[:-2],
    "code departement": lambda code: code,
}
"""Folded `typeCode` -> the département part of its code."""


def _department(kind: str, code: str) -> str | None:
    postal = kind == "code postal" or (
        kind == "code commune" and code.startswith("20") and code.isdigit()
    )
    if postal:
        return department_for_postal_code(code)
    prefix = _DEPARTMENT_PREFIXES.get(kind)
    return normalize_department(prefix(code)) if prefix else None
