"""JSON Schema of the canonical types, as committed under docs/schema/.

Editors' harvesters in any language validate their RawNotices against `raw-notice.schema.json`.
`python -m scope_shared.schema.jsonschema DIR` rewrites the files; a test fails when the
committed files drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec

from scope_shared.schema.notice import Notice
from scope_shared.schema.raw import RawNotice

SCHEMA_FILES: dict[str, type[msgspec.Struct]] = {
    "raw-notice.schema.json": RawNotice,
    "notice.schema.json": Notice,
}


def render(tp: type[msgspec.Struct]) -> bytes:
    schema = msgspec.json.schema(tp)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    return msgspec.json.format(msgspec.json.encode(schema), indent=2) + b"\n"


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, tp in SCHEMA_FILES.items():
        path = directory / name
        path.write_bytes(render(tp))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")):
        print(path)  # noqa: T201
