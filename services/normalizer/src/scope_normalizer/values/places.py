"""Places: départements and regions derived from postal codes and NUTS, countries to alpha-2."""

from __future__ import annotations

import re

import msgspec

from scope_normalizer.values.text import fold_words
from scope_shared.reference import department, department_for_nuts, department_for_postal_code
from scope_shared.schema import Organization, Place

ALPHA3_TO_ALPHA2 = {
    "FRA": "FR", "BEL": "BE", "DEU": "DE", "ESP": "ES", "ITA": "IT", "LUX": "LU", "NLD": "NL",
    "CHE": "CH", "MCO": "MC", "AUT": "AT", "PRT": "PT", "IRL": "IE", "POL": "PL", "CZE": "CZ",
    "DNK": "DK", "SWE": "SE", "FIN": "FI", "NOR": "NO", "GRC": "GR", "HUN": "HU", "ROU": "RO",
    "BGR": "BG", "HRV": "HR", "SVN": "SI", "SVK": "SK", "EST": "EE", "LVA": "LV", "LTU": "LT",
    "CYP": "CY", "MLT": "MT", "GBR": "GB", "ISL": "IS", "LIE": "LI",
}  # fmt: skip
"""EU/EEA and neighbours, the countries of TED notices; others keep no country."""

_DEPARTMENT_IN_TEXT = re.compile(
    r"^(?:\((\d{2,3}|2[AB])\)|(\d{2,3}|2[AB])\b[\s:,.\-\u2013]*(.*))", re.DOTALL
)


def country_alpha2(code: object) -> str | None:
    """`FRA` -> `FR`, `FR` -> `FR`, TED's `UK` -> `GB`; None when unknown."""
    if not isinstance(code, str):
        return None
    value = code.strip().upper()
    if value == "UK":
        return "GB"
    if len(value) == 2 and value.isalpha():
        return value
    return ALPHA3_TO_ALPHA2.get(value)


def normalize_department(code: object) -> str | None:
    """`"6"` (BOAMP drops the leading zero), `"06"`, `"2A"`, `"974"` -> the COG code."""
    if isinstance(code, int):
        code = str(code)
    if not isinstance(code, str):
        return None
    value = code.strip().upper()
    if value.isdigit() and len(value) == 1:
        value = value.zfill(2)
    return value if department(value) is not None else None


def department_in_text(text: object) -> str | None:
    """A leading `(59)`, or `59` followed by the département's name (`59 Nord`,
    `2A - Corse-du-Sud`), in free text such as BOAMP's place of performance.

    A leading number followed by anything else is not taken: it is a street number
    (`41 rue Camille Pelletan`) or a foreign postcode (`82-300 Elbląg`, `971 85 Luleå`).
    """
    if not isinstance(text, str):
        return None
    match = _DEPARTMENT_IN_TEXT.match(text.strip())
    if match is None:
        return None
    if match.group(1):
        return normalize_department(match.group(1))
    code = normalize_department(match.group(2))
    entry = department(code) if code else None
    if entry is None or not _folded(match.group(3)).startswith(_folded(entry.name)):
        return None
    return code


_ARTICLES = ("la ", "le ", "les ", "l ")


def _folded(text: str) -> str:
    """`fold_words` without a leading article: `La Réunion` -> `reunion`."""
    folded = fold_words(text)
    for article in _ARTICLES:
        if folded.startswith(article):
            return folded[len(article) :]
    return folded


def region_of(department_code: str | None) -> str | None:
    if department_code is None:
        return None
    entry = department(department_code)
    return entry.region if entry else None


def french_location(
    postal_code: str | None, nuts: str | None = None
) -> tuple[str | None, str | None]:
    """The département and region of a French postal code, else of a NUTS 3 code."""
    dep = department_for_postal_code(postal_code) if postal_code else None
    if dep is None and nuts:
        dep = department_for_nuts(nuts)
    return dep, region_of(dep)


def enrich_organization(org: Organization) -> Organization:
    """Fill département and region from the postal code (French organisations only)."""
    if org.country not in (None, "FR") or org.department:
        dep = org.department
        region = org.region or region_of(dep)
    else:
        dep, region = french_location(org.postal_code, org.nuts)
        region = org.region or region
    country = org.country or ("FR" if dep else None)
    return msgspec.structs.replace(org, department=dep, region=region, country=country)


def build_place(
    *,
    nuts: list[str] | None = None,
    departments: list[str] | None = None,
    country: str | None = None,
    text: str | None = None,
) -> Place | None:
    """A Place with départements derived from French NUTS 3 codes and regions from départements."""
    nuts_codes = sorted({n.strip().upper() for n in nuts or [] if n and n.strip()})
    deps = {d for d in (normalize_department(x) for x in departments or []) if d}
    deps |= {d for d in (department_for_nuts(n) for n in nuts_codes) if d}
    if not deps and text and country in (None, "FR"):
        found = department_in_text(text)
        if found:
            deps.add(found)
    regions = sorted({r for r in (region_of(d) for d in deps) if r})
    if country is None and (deps or any(n.startswith("FR") for n in nuts_codes)):
        country = "FR"
    if not (nuts_codes or deps or country or text):
        return None
    return Place(
        nuts=nuts_codes, departments=sorted(deps), regions=regions, country=country, text=text
    )
