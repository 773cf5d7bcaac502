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
from scope_shared.errors import ConfigError

ENTRY_POINT_GROUP = "scope.harvesters"

REGISTRY: dict[str, type[Harvester]] = {
    "europe_ted": EuropeTed,
    "france_boamp": FranceBoamp,
    "france_decp": FranceDecp,
    "ocds_api": OcdsApi,
    "rss_feed": RssFeed,
}


def load_registry() -> dict[str, type[Harvester]]:
    """In-tree harvesters and those installed packages register; in-tree names win. A
    package that cannot be loaded is left out (`find_harvester` says why when it is used)."""
    found = dict(REGISTRY)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in found:
            try:
                found[entry.name] = entry.load()
            except Exception:  # noqa: BLE001, S112 - one broken package must not hide the rest
                continue
    return found


def find_harvester(kind: str) -> type[Harvester] | None:
    """The harvester of `kind`: in-tree, else the installed package registering it, loaded
    only when a configured source needs it.

    Raises:
        ConfigError: the package registering `kind` cannot be imported (its error named).
    """
    if kind in REGISTRY:
        return REGISTRY[kind]
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        try:
            loaded: type[Harvester] = entry.load()
        except Exception as exc:
            raise ConfigError(
                f"harvester kind {kind!r}: its package ({entry.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return loaded
    return None
