"""The real-sample corpus: every recorded document that maps, as canonical notices.

Used by the store contract suite, the search API and indexer tests, and the benchmarks
(which shape their generated notices on it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from scope_normalizer.detect import split_file
from scope_normalizer.pipeline import Normalizer
from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, make_raw_notice
from tests.support.golden import FETCHED_AT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES_BY_FOLDER = {
    "france_boamp": "france_boamp",
    "europe_ted": "europe_ted",
    "france_decp": "france_decp",
    "ocds": "ocds_api",
}


async def normalize_fixtures() -> list[Notice]:
    normalizer = Normalizer.in_memory()
    notices: list[Notice] = []
    for folder, source in SOURCES_BY_FOLDER.items():
        for path in sorted((FIXTURES / folder).rglob("*")):
            if path.suffix not in {".json", ".xml"} or "schema" in path.name or ".xsd" in path.name:
                continue
            try:
                items = split_file(path.read_bytes(), path.as_uri())
            except (PermanentError, ValueError):
                continue
            for item in items:
                raw = make_raw_notice(
                    source=source, source_id=item.source_id, format=item.format,
                    payload=item.payload, url=path.as_uri(), content_type="application/json",
                    run_id="corpus", fetched_at=FETCHED_AT, attributes=item.attributes,
                )  # fmt: skip
                try:
                    notices.append((await normalizer.normalize(raw, item.payload)).notice)
                except PermanentError:
                    continue
    return notices


def copy_as(notice: Notice, source_id: str, **changes: Any) -> Notice:
    """`notice` as another notice of its source, `source_id`, in a procedure of its own."""
    return msgspec.structs.replace(
        notice, id=f"{notice.source}:{source_id}", source_id=source_id,
        procedure_id=f"own:{source_id}", **changes,
    )  # fmt: skip
