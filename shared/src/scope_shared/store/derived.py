"""The values both stores derive from a notice to filter and facet on it, so that they agree.

- CPV: the main code, the additional codes and every lot's codes, each with all its ancestors
  (`cpv_ancestors`), so a division, group or class filter finds the finer codes below it;
  the division facet is the two-digit division of each code.
- Département, region, NUTS: the place of performance (notice and lots); for each of the
  three the place leaves empty, the buyer's own. A company looking for work in a département
  wants the work there, and most notices that omit a place are performed where the buyer is.
  NUTS codes match with every prefix of two characters or more (`FRK26`, `FRK2`, `FRK`, `FR`).
- Buyer identifiers: SIRET and SIREN (given, else the SIRET's first nine digits).
"""

from __future__ import annotations

from functools import lru_cache

from scope_shared.reference import cpv_ancestors
from scope_shared.schema import Notice


def notice_cpvs(notice: Notice) -> list[str]:
    """Main, additional and lot CPV codes, in order, without repeats."""
    codes = [notice.cpv_main, *notice.cpv_additional]
    for lot in notice.lots:
        codes.extend([lot.cpv_main, *lot.cpv_additional])
    return list(dict.fromkeys(code for code in codes if code))


@lru_cache(maxsize=65_536)
def cpv_chain(code: str) -> tuple[str, ...]:
    """The code and its ancestors (cached: a corpus holds a few thousand distinct codes)."""
    return tuple(cpv_ancestors(code))


def cpv_terms(notice: Notice) -> list[str]:
    """Every CPV code a filter on this notice may match, sorted."""
    return sorted({a for code in notice_cpvs(notice) for a in (code, *cpv_chain(code))})


def cpv_divisions(notice: Notice) -> list[str]:
    return sorted({code[:2] for code in notice_cpvs(notice)})


def normalize_cpv_filter(code: str) -> str:
    """`45` -> `45000000`, `4523` -> `45230000`, `45233140-2` -> `45233140`: a shorter CPV
    prefix means that code and everything below it (both stores filter on this)."""
    return code.split("-", 1)[0].strip().ljust(8, "0")[:8]


def locations(notice: Notice) -> tuple[set[str], set[str], set[str]]:
    """Départements, regions and NUTS codes of the notice (see the module docstring)."""
    places = [p for p in (notice.place, *(lot.place for lot in notice.lots)) if p is not None]
    departments = {d for p in places for d in p.departments}
    regions = {r for p in places for r in p.regions}
    nuts = {n for p in places for n in p.nuts}
    buyer = notice.buyer
    if buyer is not None:
        if not departments and buyer.department:
            departments.add(buyer.department)
        if not regions and buyer.region:
            regions.add(buyer.region)
        if not nuts and buyer.nuts:
            nuts.add(buyer.nuts)
    return departments, regions, nuts


def nuts_prefixes(code: str) -> list[str]:
    return [code[:n] for n in range(2, len(code) + 1)]


def buyer_ids(notice: Notice) -> set[str]:
    buyer = notice.buyer
    if buyer is None:
        return set()
    ids = {i for i in (buyer.siret, buyer.siren) if i}
    if buyer.siret and not buyer.siren:
        ids.add(buyer.siret[:9])
    return ids
