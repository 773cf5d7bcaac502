"""The committed JSON Schema files are exactly what the code generates."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import msgspec
import pytest

from scope_shared.schema import RawFormat, make_raw_notice
from scope_shared.schema.jsonschema import SCHEMA_FILES, render

DOCS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "schema"


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_json_schema_matches_code(name: str) -> None:
    committed = (DOCS_SCHEMA / name).read_bytes()
    assert committed == render(SCHEMA_FILES[name]), (
        f"docs/schema/{name} drifted from the code: run `make schema` and review the diff"
    )


def test_raw_notice_schema_validates_what_the_code_encodes() -> None:
    schema = msgspec.json.decode((DOCS_SCHEMA / "raw-notice.schema.json").read_bytes())
    raw = make_raw_notice(
        source="ocds_api",
        source_id="ocds-213czf-000-00001-01-planning",
        format=RawFormat.OCDS_RELEASE,
        payload=b'{"ocid": "x"}',
        url="https://example.invalid/releases",
        content_type="application/json",
        run_id="run",
    )
    instance = msgspec.json.decode(msgspec.json.encode(raw))
    jsonschema.Draft202012Validator(schema).validate(instance)
    bad = instance | {"sha256": "xyz"}
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.Draft202012Validator(schema).validate(bad)
