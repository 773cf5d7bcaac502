"""Every replay on one local server, for `scope demo`: BOAMP, TED, DECP files, OCDS pages.

BOAMP, TED and the OCDS publisher answer at their real paths from the server root; DECP files
are served under `/decp/<path>` (file hosting answers any path, so it gets its own prefix).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from scope_shared.devservices.replay.boamp import RECORDS_PATH, BoampReplay, load_recorded_records
from scope_shared.devservices.replay.decp import DecpReplay
from scope_shared.devservices.replay.ocds import PACKAGES_PATH, OcdsReplay, load_package
from scope_shared.devservices.replay.ted import SEARCH_PATH, TedReplay, load_notices

DEFAULT_SAMPLES = Path(__file__).resolve().parents[5] / "tests" / "fixtures"
"""The real recorded documents of the repository (with their PROVENANCE.md)."""

BOAMP_RECORDS = "france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
DECP_FILES = (
    "/real-2019/e-marchespublics.json",
    "/real-2019/marches-publics.info_extract.json",
    "/v2-2024/marches_concessions.json",
)
OCDS_PACKAGES = ("release-package_1.1-2.json", "release-package-1.json")
OCDS_PER_PAGE = 2


def build_replay(samples: Path = DEFAULT_SAMPLES) -> tuple[web.Application, list[str]]:
    """The replay app and the DECP file paths it serves (relative to `/decp`)."""
    boamp = BoampReplay(load_recorded_records(samples / BOAMP_RECORDS))
    ted = TedReplay(load_notices(samples / "europe_ted"))
    ocds = OcdsReplay(
        [load_package(samples / "ocds" / name) for name in OCDS_PACKAGES], OCDS_PER_PAGE
    )
    decp = DecpReplay.of_folder(samples / "france_decp")
    app = web.Application()
    app.router.add_get(RECORDS_PATH, boamp.records_handler)
    app.router.add_post(SEARCH_PATH, ted.search)
    app.router.add_get("/en/notice/{number}/xml", ted.xml)
    app.router.add_get(PACKAGES_PATH, ocds.handler)
    app.add_subapp("/decp", decp.app())
    return app, [p for p in DECP_FILES if p in decp.files]


__all__ = ["build_replay"]
