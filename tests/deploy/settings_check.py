"""Do a deployment's SCOPE_* variables load as the services' own Settings?

Each service validates its environment at start (unknown variables and bad values are
errors naming the variable); running the same `load_settings` on the environment a compose
service or a Kubernetes container gets catches a typo or a wrong value before deployment.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from scope_harvester.settings import HarvesterSettings
from scope_indexer.settings import IndexerSettings
from scope_normalizer.settings import NormalizerSettings
from scope_search_api.settings import ApiSettings
from scope_shared.config import CommonSettings, load_settings

SETTINGS: dict[str, tuple[type[CommonSettings], str]] = {
    "harvester": (HarvesterSettings, "HARVESTER_"),
    "normalizer": (NormalizerSettings, "NORMALIZER_"),
    "indexer": (IndexerSettings, "INDEXER_"),
    "search-api": (ApiSettings, "API_"),
}

PENDING_SETTINGS: frozenset[str] = frozenset()
"""Settings the deployment files would set before Scope has them (none today): set aside
here so the files can lead the code, and checked like any other once they exist."""


def load_service_settings(service: str, env: Mapping[str, str]) -> CommonSettings:
    """The service's Settings from `env` (pending settings set aside); raises ConfigError."""
    cls, prefix = SETTINGS[service]
    fields = {f"SCOPE_{f.name.upper()}" for f in msgspec.structs.fields(cls)}
    # Once a pending setting exists it is checked like any other.
    set_aside = PENDING_SETTINGS - fields
    known = {k: v for k, v in env.items() if k not in set_aside}
    return load_settings(cls, known, service_prefix=prefix)
