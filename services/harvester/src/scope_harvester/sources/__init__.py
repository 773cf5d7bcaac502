"""The harvester registry: one line per in-tree source, plus editors' packages.

An out-of-tree harvester registers through the entry-point group `scope.harvesters`: the entry
point's name is the harvester's `kind`, its value the `Harvester` subclass.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from scope_harvester.base import Harvester
from scope_harvester.sources.europe_ted import EuropeTed
from scope_harvester.sources.france_boamp import FranceBoamp
from scope_harvester.sources.france_decp import FranceDecp
from scope_harvester.sources.ocds_api import OcdsApi
from scope_harvester.sources.rss_feed import RssFeed

ENTRY_POINT_GROUP = "scope.harvesters"

REGISTRY: dict[str, type[Harvester]] = {
    "europe_ted": EuropeTed,
    "france_boamp": FranceBoamp,
    "france_decp": FranceDecp,
    "ocds_api": OcdsApi,
    "rss_feed": RssFeed,
}


def load_registry() -> dict[str, type[Harvester]]:
    """In-tree harvesters and those installed packages register; in-tree names win."""
    found = dict(REGISTRY)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in found:
            found[entry.name] = entry.load()
    return found
