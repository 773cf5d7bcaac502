"""A release as decoded: the fields the mapper reads, the rest skipped.

Decoding into Structs skips what no reader uses: a contract's `implementation` (its
transactions and milestones) is often most of a release's bytes. Every field stays `Any`, or a
union that takes any JSON value, because publishers put any type anywhere: the readers in
`fields` check types, and a payload of the wrong shape is read as it was before, never refused.
A reader of a field not declared here must declare it (mypy says so for `Release`).
"""

from __future__ import annotations

from typing import Any

import msgspec

NotAnObject = str | int | float | bool | None
"""Any JSON scalar: what may stand where an object or an array is expected."""


class Contract(msgspec.Struct):
    """`contracts[]`, read by `awards`, `items.release_items` and `_texts`.

    Turned back into a dict (`contracts`): contracts are read with awards by the same code.
    """

    id: Any = None
    award_id: Any = msgspec.field(default=None, name="awardID")
    title: Any = None
    description: Any = None
    date_signed: Any = msgspec.field(default=None, name="dateSigned")
    value: Any = None
    suppliers: Any = None
    related_lots: Any = msgspec.field(default=None, name="relatedLots")
    items: Any = None
    documents: Any = None
    period: Any = None
    amendments: Any = None
    amendment: Any = None
    related_processes: Any = msgspec.field(default=None, name="relatedProcesses")


class Release(msgspec.Struct):
    ocid: Any = None
    id: Any = None
    date: Any = None
    tag: Any = None
    language: Any = None
    tender: Any = None
    awards: Any = None
    contracts: list[Contract | list[Any] | NotAnObject] | dict[str, Any] | NotAnObject = None
    parties: Any = None
    buyer: Any = None
    planning: Any = None
    related_processes: Any = msgspec.field(default=None, name="relatedProcesses")


_DECODER = msgspec.json.Decoder(Release)
_UNTYPED = msgspec.json.Decoder(dict[str, Any])


def decode(payload: bytes) -> Release:
    """The release; a payload that is not UTF-8 is refused as the untyped decoder refused it
    (the typed one does not check the strings it skips)."""
    try:
        if not payload.isascii():  # a tenth of the time of a decode
            payload.decode()
    except UnicodeDecodeError:
        _UNTYPED.decode(payload)  # raises msgspec.DecodeError, naming what is wrong
    return _DECODER.decode(payload)


_CONTRACT_NAMES = tuple(field.encode_name for field in msgspec.structs.fields(Contract))


def contracts(release: Release) -> list[dict[str, Any]]:
    """The contracts as dicts under their OCDS names, null and absent fields left out (every
    reader uses `.get`); entries that are not objects are dropped, as `fields.objs` does."""
    if not isinstance(release.contracts, list):
        return []
    return [
        {
            name: value
            for name, value in zip(_CONTRACT_NAMES, msgspec.structs.astuple(entry), strict=True)
            if value is not None
        }
        for entry in release.contracts
        if isinstance(entry, Contract)
    ]
