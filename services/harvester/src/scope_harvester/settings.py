"""The harvester's settings: `SCOPE_HARVESTER_*` variables, and the sources file.

Sources are configured in a TOML file (`SCOPE_HARVESTER_SOURCES_FILE`), one table per source
instance, because an editor's feed or an OCDS publisher is one configured instance of a
generic harvester:

    [sources.france_boamp]                      # the instance name: subject, `source` field
    interval = 600

    [sources.france_megalis]
    kind = "rss_feed"                           # the harvester, when not the instance name
    base_url = "https://marches.megalis.bretagne.bzh/rss"

Without a file, the sources that need no URL of their own run with their defaults.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from scope_shared.config import CommonSettings
from scope_shared.errors import ConfigError

DEFAULT_SOURCES = ("france_boamp", "europe_ted", "france_decp")


class SourceConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One source instance.

    Attributes:
        kind: Registry name of the harvester; the instance name when empty.
        enabled: A disabled source is kept in the file but not run.
        base_url: Overrides the harvester's default (tests and the demo use a local replay).
        interval: Seconds between live runs; the harvester's default when None.
        concurrency / rate / timeout: Politeness overrides for this source's host.
        backfill_since: First publication date of the history back-fill, when one is wanted.
        options: Harvester-specific options, validated by the harvester's `Options` Struct.
    """

    kind: str = ""
    enabled: bool = True
    base_url: str | None = None
    interval: float | None = None
    concurrency: int | None = None
    rate: float | None = None
    timeout: float | None = None
    backfill_since: date | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)


class SourcesFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sources: dict[str, SourceConfig] = msgspec.field(default_factory=dict)


class HarvesterSettings(CommonSettings, frozen=True, kw_only=True):
    """Attributes:
    harvester_sources_file: The TOML file of sources; empty for the defaults.
    harvester_only: Run only these source instances (comma-separated); all when empty.
    harvester_failure_ratio: A run whose failed requests exceed this share of its requests
        is reported failed, even if it got through.
    harvester_metrics_port: Port of /metrics (0: none).
    """

    harvester_sources_file: str = ""
    harvester_only: list[str] = msgspec.field(default_factory=list)
    harvester_failure_ratio: float = 0.2
    harvester_metrics_port: int = 9101


def load_sources(settings: HarvesterSettings) -> dict[str, SourceConfig]:
    """The configured source instances (name -> config), enabled or not."""
    if not settings.harvester_sources_file:
        return {name: SourceConfig() for name in DEFAULT_SOURCES}
    path = Path(settings.harvester_sources_file)
    try:
        parsed = msgspec.toml.decode(path.read_bytes(), type=SourcesFile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"SCOPE_HARVESTER_SOURCES_FILE ({path}): {exc}") from exc
    return parsed.sources
