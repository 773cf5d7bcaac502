"""The demo's sources file: every harvester pointed at the local replay (or at the real APIs)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_WINDOWS: dict[str, str] = {
    "france_boamp": "2026-01-21",
    "europe_ted": "2018-01-01",
}
"""Where the shipped samples start: the demo harvests from there (the replay serves nothing
before). DECP files and OCDS pages have no date window."""

OFFLINE_TOML = """\
# Written by `scope demo`: the harvesters read the local replay of the source APIs.
[sources.france_boamp]
base_url = "{replay}"
rate = 500.0

[sources.europe_ted]
base_url = "{replay}"
rate = 500.0
options = {{ fetch_xml = true }}

[sources.france_decp]
base_url = "{replay}/decp"
options = {{ urls = [{decp_urls}] }}

[sources.ocds_api]
base_url = "{replay}/api/packages"
rate = 500.0
"""

LIVE_TOML = """\
# Written by `scope demo --live`: the harvesters read the real public APIs.
[sources.france_boamp]
[sources.europe_ted]
"""


def write_sources_file(directory: Path, replay_url: str | None, decp_paths: list[str]) -> Path:
    """The TOML file for SCOPE_HARVESTER_SOURCES_FILE; live when `replay_url` is None."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sources.toml"
    if replay_url is None:
        path.write_text(LIVE_TOML)
    else:
        urls = ", ".join(f'"{replay_url}/decp{p}"' for p in decp_paths)
        path.write_text(OFFLINE_TOML.format(replay=replay_url, decp_urls=urls))
    return path
