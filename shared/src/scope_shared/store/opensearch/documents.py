"""Notice -> document body and back.

A notice document is the notice's own JSON (so `_source` returns it exactly: amounts keep
their decimal text, dates their instant) plus one `derived` object of values computed for
filters and facets. Bodies are built as bytes with msgspec and spliced, never through dicts,
because this runs once per notice per batch on the indexing hot path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from scope_shared.schema import Notice, NoticeStatus, NoticeType, notice_layout
from scope_shared.store.contract import CardSummary, ProcedureCard
from scope_shared.store.derived import (
    buyer_ids,
    cpv_divisions,
    cpv_terms,
    locations,
    nuts_prefixes,
)


class Derived(msgspec.Struct, frozen=True, kw_only=True):
    """Values the queries filter and facet on (mapped in template.DERIVED_PROPERTIES)."""

    cpv: list[str]
    """Every CPV code of the notice and of its lots, with all their ancestors."""
    cpv_division: list[str]
    """The two-digit divisions of those codes (`45`)."""
    department: list[str]
    region: list[str]
    nuts: list[str]
    """Every NUTS code of the place of performance with its shorter prefixes (`FR1`, `FR10`)."""
    buyer_id: list[str]
    """The buyer's SIRET and SIREN (the SIRET's first nine digits when no SIREN is given)."""
    indexed_at: datetime
    """When this store wrote the document; `reindex` uses it to catch up concurrent writes."""
    layout: str
    """`notice_layout()` when the document was written: its notice's JSON is passed on as is
    only while that is still the encoding of a Notice (`split_document`)."""


class Member(msgspec.Struct, frozen=True, array_like=True):
    """What a card keeps of each of its notices: what `procedure_card` reads from a notice
    that is not the main one, so the next card needs no other notice read (cards.py)."""

    id: str
    version: int
    notice_type: NoticeType
    status: NoticeStatus
    published_at: datetime
    submission_deadline: datetime | None
    source: str

    @classmethod
    def of(cls, n: Notice) -> Member:
        return cls(n.id, n.version, n.notice_type, n.status, n.published_at,
                   n.submission_deadline, n.source)  # fmt: skip


class CardBody(CardSummary, frozen=True, kw_only=True):
    """What a procedure document keeps besides its main notice (the `card` object)."""

    members: list[Member] = msgspec.field(default_factory=list)
    """Every notice of the card as it was when the card was made (the main one included,
    with its own status and deadline: the card's notice shows the corrected ones)."""


class HistoryBody(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: str
    version: int
    indexed_at: datetime
    notice: Notice


_encoder = msgspec.json.Encoder()


def derived_fields(notice: Notice, indexed_at: datetime) -> Derived:
    """The filter and facet values of a notice.

    The semantics are the contract's, shared with the embedded store (`store/derived.py`).
    """
    departments, regions, nuts = locations(notice)
    return Derived(
        cpv=cpv_terms(notice),
        cpv_division=cpv_divisions(notice),
        department=sorted(departments),
        region=sorted(regions),
        nuts=sorted({p for code in nuts for p in nuts_prefixes(code)}),
        buyer_id=sorted(buyer_ids(notice)),
        indexed_at=indexed_at,
        layout=notice_layout(),
    )


def _splice(base: bytes, extra: bytes) -> bytes:
    """`{...base}` + `,extra}`: adds top-level keys to an encoded object without re-parsing."""
    return base[:-1] + b"," + extra + b"}"


def encoded_derived(notice: Notice, indexed_at: datetime) -> bytes:
    return _encoder.encode(derived_fields(notice, indexed_at))


def notice_document(notice: Notice, indexed_at: datetime, derived: bytes | None = None) -> bytes:
    """The JSON body of a notices-index document; `derived`: its `encoded_derived`, when the
    caller already has it (a card's main notice has the derived fields of its own document:
    they do not depend on the status and deadline the card corrects)."""
    if derived is None:
        derived = encoded_derived(notice, indexed_at)
    return _splice(_encoder.encode(notice), b'"derived":' + derived)


class _Layout(msgspec.Struct):
    layout: str | None = None


class _Tail(msgspec.Struct, forbid_unknown_fields=True):
    """What `notice_document` and `card_document` splice after the notice, and nothing else
    (the other derived fields and a card's members are skipped)."""

    derived: _Layout
    card: CardSummary | None = None


_tail = msgspec.json.Decoder(_Tail)
_DERIVED_KEY = b',"derived":'


def split_document(document: bytes) -> tuple[bytes, CardSummary | None] | None:
    """A notices- or procedures-index document (`_source` as stored) cut where `derived` was
    spliced in: the notice's own JSON, and the card's summary on a procedures document.

    None when the document does not end with those keys alone, or was written under another
    `notice_layout()` (a Notice field added since, say): the caller then decodes it. Cheaper
    for the node than excluding `derived` from `_source`, which makes it parse and rewrite
    every hit, and for the API than decoding every notice.
    """
    at = document.rfind(_DERIVED_KEY)
    if at < 0:
        return None
    try:
        tail = _tail.decode(b"{" + document[at + 1 :])
    except msgspec.MsgspecError:
        return None
    if tail.derived.layout != notice_layout():
        return None
    return document[:at] + b"}", tail.card


def card_document(
    card: ProcedureCard, members: list[Notice], indexed_at: datetime, derived: bytes | None = None
) -> bytes:
    """The JSON body of a procedures-index document: the main notice, searchable as a
    notice, and the card's other fields with a summary of each member under `card`."""
    body = CardBody(
        procedure_id=card.procedure_id,
        notice_ids=card.notice_ids,
        notice_types=card.notice_types,
        sources=card.sources,
        updated_at=card.updated_at,
        members=[Member.of(n) for n in members],
    )
    document = notice_document(card.notice, indexed_at, derived)
    return _splice(document, b'"card":' + _encoder.encode(body))


def history_document(notice: Notice, indexed_at: datetime) -> bytes:
    body = HistoryBody(
        notice_id=notice.id, version=notice.version, indexed_at=indexed_at, notice=notice
    )
    return _encoder.encode(body)


def history_id(notice_id: str, version: int) -> str:
    return f"{notice_id}#{version}"


def decode_notice(source: dict[str, Any]) -> Notice:
    """The notice of a notices or procedures document (extra keys are ignored by `Notice`)."""
    return msgspec.convert(source, Notice)


def decode_card_body(source: dict[str, Any]) -> CardBody:
    return msgspec.convert(source["card"], CardBody)


def decode_card(source: dict[str, Any]) -> ProcedureCard:
    return decode_card_body(source).with_notice(decode_notice(source))


def decode_history(source: dict[str, Any]) -> Notice:
    return msgspec.convert(source["notice"], Notice)
