"""Golden files: the expected canonical JSON of a real sample, reviewed by hand.

`SCOPE_UPDATE_GOLDEN=1 pytest ...` rewrites them; review the diff before committing.
Volatile envelope fields (`updated_at`, `raw_sha256`) are part of the file: the tests build
their RawNotice with a fixed `fetched_at`, so the output is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from scope_shared.bus.consumer import PERMANENT_ERRORS
from scope_shared.schema import Notice, RawFormat, RawNotice, make_raw_notice

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "normalizer" / "golden"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FETCHED_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def raw_for(
    source: str, source_id: str, fmt: RawFormat, payload: bytes, **attributes: str
) -> RawNotice:
    return make_raw_notice(
        source=source,
        source_id=source_id,
        format=fmt,
        payload=payload,
        url=f"https://replay.invalid/{source}/{source_id}",
        content_type="application/xml" if payload.lstrip()[:1] == b"<" else "application/json",
        run_id="golden",
        fetched_at=FETCHED_AT,
        attributes=attributes,
    )


def map_or_dead_letter(
    mapper: Callable[[RawNotice, bytes], Notice], raw: RawNotice, payload: bytes
) -> Notice | None:
    """Map `payload`, or None when the mapper refuses it the way the consumer runner expects
    (`PERMANENT_ERRORS`, dead-lettered).

    Any other exception fails the test; a Notice must also pass the schema's constraints
    (msgspec checks `Meta` constraints on decode only, so the Notice is round-tripped).
    """
    try:
        notice = mapper(raw, payload)
    except PERMANENT_ERRORS:
        return None
    return msgspec.json.decode(msgspec.json.encode(notice), type=Notice)


def render(notice: Notice) -> bytes:
    return msgspec.json.format(msgspec.json.encode(notice), indent=2) + b"\n"


def assert_matches_golden(notice: Notice, name: str) -> None:
    """Compare with `golden/<name>.json`; write it when SCOPE_UPDATE_GOLDEN=1."""
    path = GOLDEN_DIR / f"{name}.json"
    actual = render(notice)
    if os.environ.get("SCOPE_UPDATE_GOLDEN") == "1":
        # Rewriting then comparing would pass anything: never where results count.
        assert os.environ.get("CI") != "true", "SCOPE_UPDATE_GOLDEN=1 is refused under CI=true"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    expected = path.read_bytes()
    assert msgspec.json.decode(actual) == msgspec.json.decode(expected), (
        f"{path.name} differs from the mapper output; if the change is right, "
        "regenerate with SCOPE_UPDATE_GOLDEN=1 and review the diff"
    )
