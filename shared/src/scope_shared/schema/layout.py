"""A fingerprint of how a `Notice` is encoded, for stores that keep notices as JSON.

A store that hands back a notice's stored JSON as is (the search path does) must know the
bytes are what encoding the notice today would give. `schema_version` does not say so:
adding a field with a default is not a breaking change (docs/schema/EVOLUTION.md) and keeps
the version, yet a notice stored before lacks that field. The layout covers what the
encoding depends on: field names, order, types and defaults, nested Structs included.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import msgspec

from scope_shared.schema.notice import Notice

_PROSE = frozenset({"title", "description", "examples"})
"""Schema keys that document rather than shape the encoding."""


_NAMED = frozenset({"properties", "$defs"})
"""Schema keys whose own keys are names (of fields, of Structs), kept whatever they are."""


def _shape(schema: Any) -> Any:
    """The schema without its prose: a docstring edit is no new layout."""
    if isinstance(schema, list):
        return [_shape(value) for value in schema]
    if not isinstance(schema, dict):
        return schema
    shaped: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _NAMED:
            shaped[key] = {name: _shape(sub) for name, sub in value.items()}
        elif key not in _PROSE:
            shaped[key] = _shape(value)
    return shaped


@cache
def notice_layout() -> str:
    """16 hex digits naming the current encoding of `Notice`."""
    schema = _shape(msgspec.json.schema(Notice))
    return hashlib.sha256(msgspec.json.encode(schema)).hexdigest()[:16]
