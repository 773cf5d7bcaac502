"""Reference code lists shipped with Scope: CPV 2008, NUTS 2021, French départements and regions.

Used by the normalizer (enrichment), the indexer (CPV ancestors) and the search API (look-ups
for filter widgets). Data files and their provenance are in `data/`. Each table is loaded once,
on first use.
"""

from scope_shared.reference.cpv import Cpv, cpv_ancestors, cpv_entry, search_cpv
from scope_shared.reference.france import (
    Department,
    Region,
    department,
    department_for_nuts,
    department_for_postal_code,
    department_prefix,
    departments,
    region,
    regions,
)
from scope_shared.reference.nuts import nuts_label

__all__ = [
    "Cpv",
    "Department",
    "Region",
    "cpv_ancestors",
    "cpv_entry",
    "department",
    "department_for_nuts",
    "department_for_postal_code",
    "department_prefix",
    "departments",
    "nuts_label",
    "region",
    "regions",
    "search_cpv",
]
