"""French départements and regions (INSEE COG), their NUTS codes, and postal codes.

A département is derived from a postal code through La Poste's postal-code -> commune table,
because the first two digits are not enough (Corsica's 20xxx is 2A or 2B; some communes take
the postal code of a neighbouring département's sorting office).
"""

from __future__ import annotations

from functools import cache

import msgspec

from scope_shared.reference._files import rows


class Department(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    region: str | None
    """INSEE region code; none for overseas collectivities outside any region."""
    nuts3: str | None


class Region(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    nuts1: str | None


@cache
def _departments() -> dict[str, Department]:
    table = {
        r["dep_code"]: Department(
            code=r["dep_code"], name=r["dep_name"], region=r["reg_code"], nuts3=r["nuts3_code"]
        )
        for r in rows("departements_regions_nuts3.csv")
    }
    for r in rows("collectivites-outremer.csv"):
        table.setdefault(
            r["code_collectivite"],
            Department(
                code=r["code_collectivite"], name=r["nom_collectivite"], region=None, nuts3=None
            ),
        )
    return table


@cache
def _regions() -> dict[str, Region]:
    nuts1 = {r["reg_code"]: r["nuts1_code"] for r in rows("departements_regions_nuts3.csv")}
    return {
        r["REG"]: Region(code=r["REG"], name=r["LIBELLE"], nuts1=nuts1.get(r["REG"]))
        for r in rows("cog_regions.csv")
    }


@cache
def _nuts3_to_department() -> dict[str, str]:
    return {d.nuts3: d.code for d in _departments().values() if d.nuts3}


def department_prefix(code: str) -> str:
    """The département part of a French commune (INSEE) or postal code.

    Args:
        code: a 5-character INSEE commune code (`31555`, `2A004`) or postal code (`97400`).

    Returns:
        Its first three characters overseas (`97x`, `98x`), else its first two; not checked
        against the reference.
    """
    return code[:3] if code.startswith(("97", "98")) else code[:2]


@cache
def _postal_codes() -> dict[str, str]:
    """Postal code -> département, where all communes of the code agree."""
    found: dict[str, set[str]] = {}
    for r in rows("laposte_hexasmal_019HexaSmal.csv", encoding="latin-1", delimiter=";"):
        found.setdefault(r["Code_postal"], set()).add(department_prefix(r["#Code_commune_INSEE"]))
    for r in rows("collectivites-outremer.csv"):
        found.setdefault(r["code_postal"], set()).add(r["code_collectivite"])
    return {cp: next(iter(deps)) for cp, deps in found.items() if len(deps) == 1}


def department(code: str) -> Department | None:
    return _departments().get(code)


def departments() -> list[Department]:
    return sorted(_departments().values(), key=lambda d: d.code)


def region(code: str) -> Region | None:
    return _regions().get(code)


def regions() -> list[Region]:
    return sorted(_regions().values(), key=lambda r: r.code)


def department_for_postal_code(postal_code: str) -> str | None:
    """The département of a French postal code, or None when unknown or ambiguous."""
    code = postal_code.strip().replace(" ", "")
    if len(code) != 5 or not code.isdigit():
        return None
    known = _postal_codes().get(code)
    if known is not None:
        return known
    if code.startswith("20"):
        return None
    prefix = department_prefix(code)
    return prefix if prefix in _departments() else None


def department_for_nuts(nuts: str) -> str | None:
    """The département of a French NUTS 3 code (`FRJ23` -> `31`)."""
    return _nuts3_to_department().get(nuts)
