"""Field-level differences between two versions of a notice (GET /v1/notices/{id}/history).

Objects are compared key by key and lists of objects item by item (`lots[2].title`); a list
of plain values (`cpv_additional`) changes as a whole. A field going from null (or an empty
list) to a value is `added`, from a value to null (or an empty list) `removed`; an amount
written with more decimals (`80000.00`) is the same amount. Envelope fields that change with
every version are left out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from scope_search_api.views import FieldChange
from scope_shared.schema import Notice

ENVELOPE = frozenset({"version", "updated_at", "raw_sha256"})


_NOTHING: tuple[object, ...] = (None, [], {})
"""A field absent, null or empty: one that goes from this to a value is `added`."""


def _change(path: str, before: Any, after: Any) -> FieldChange:
    if before in _NOTHING:
        return FieldChange(path=path, op="added", after=after)
    if after in _NOTHING:
        return FieldChange(path=path, op="removed", before=before)
    return FieldChange(path=path, op="changed", before=before, after=after)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff(before: Any, after: Any, path: str, out: list[FieldChange]) -> None:
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            _diff(before.get(key), after.get(key), _join(path, key), out)
    elif (
        isinstance(before, list)
        and isinstance(after, list)
        and all(isinstance(v, dict) for v in [*before, *after])
        and before
        and after
    ):
        for index in range(max(len(before), len(after))):
            _diff(
                before[index] if index < len(before) else None,
                after[index] if index < len(after) else None,
                f"{path}[{index}]",
                out,
            )
    else:
        out.append(_change(path, before, after))


def notice_changes(before: Notice, after: Notice) -> list[FieldChange]:
    """What changed from `before` to `after`, in field order."""
    # Amounts stay Decimals: `80000` and `80000.00` are one amount (as text they differ).
    old = {k: v for k, v in _builtins(before).items() if k not in ENVELOPE}
    new = {k: v for k, v in _builtins(after).items() if k not in ENVELOPE}
    changes: list[FieldChange] = []
    _diff(old, new, "", changes)
    return changes


def _builtins(notice: Notice) -> dict[str, Any]:
    converted: dict[str, Any] = msgspec.to_builtins(notice, builtin_types=(Decimal,))
    return converted
