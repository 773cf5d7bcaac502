"""Mutating payloads for the splitters' and mappers' tests: decoded JSON, eForms roots."""

from __future__ import annotations

from typing import Any


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `value` (keys and list indexes), the root excluded."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += json_paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += json_paths(inner, (*prefix, index))
    return found


def replace_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of `value` with the value at `path` replaced by `new`."""
    if not path:
        return new
    copy = value.copy()
    copy[path[0]] = replace_at(value[path[0]], path[1:], new)
    return copy


def prefixed_root(data: bytes) -> bytes:
    """The same notice with its root element prefixed (`<urn:ContractNotice xmlns:urn=...>`),
    as some published notices are written."""
    text = data.decode()
    for name in ("ContractNotice", "ContractAwardNotice", "PriorInformationNotice"):
        namespace = f'xmlns="urn:oasis:names:specification:ubl:schema:xsd:{name}-2"'
        if namespace in text:
            text = text.replace(namespace, namespace.replace("xmlns=", "xmlns:urn="), 1)
            text = text.replace(f"<{name} ", f"<urn:{name} ", 1)
            text = text.replace(f"</{name}>", f"</urn:{name}>", 1)
            return text.encode()
    raise AssertionError("no default-namespace root to prefix")
