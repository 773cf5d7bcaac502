"""Procedure cards: recomputed with `procedure_card` when one of their notices is indexed.

A card row keeps its main notice by reference (`main_doc`) and the rest of the card as a small
JSON (`CardMeta`), so the main notice's body is stored once; reading a card rebuilds the
`ProcedureCard` from both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

import msgspec

from scope_shared.schema import Notice
from scope_shared.store.contract import ProcedureCard
from scope_shared.store.embedded import fields
from scope_shared.store.embedded.schema import chunks
from scope_shared.store.procedures import procedure_card

_notice_decoder = msgspec.json.Decoder(Notice)


class CardMeta(msgspec.Struct, frozen=True, kw_only=True):
    """The card minus its main notice, which is read from `bodies` by `main_doc`."""

    notice_ids: list[str]
    notice_types: list[str]
    sources: list[str]
    updated_at: datetime
    status: str
    deadline: datetime | None


_meta_encoder = msgspec.json.Encoder()
_meta_decoder = msgspec.json.Decoder(CardMeta)


def build_card(procedure_id: str, meta_json: bytes, main_body: bytes) -> ProcedureCard:
    """The `ProcedureCard` of a stored card row and its main notice's body."""
    meta = _meta_decoder.decode(meta_json)
    main = _notice_decoder.decode(main_body)
    notice = msgspec.structs.replace(
        main, status=type(main.status)(meta.status), submission_deadline=meta.deadline
    )
    return ProcedureCard(
        procedure_id=procedure_id,
        notice=notice,
        notice_ids=meta.notice_ids,
        notice_types=meta.notice_types,
        sources=meta.sources,
        updated_at=meta.updated_at,
    )


def _members(
    connection: sqlite3.Connection, procedure_ids: list[str], fresh: dict[str, Notice]
) -> dict[str, list[tuple[int, Notice]]]:
    """Each procedure's notices (latest versions) with their doc; decodes only what the batch
    did not bring."""
    marks = ",".join("?" * len(procedure_ids))
    rows = connection.execute(
        f"SELECT doc, id, procedure_id FROM notices WHERE procedure_id IN ({marks})",  # noqa: S608 - placeholders only
        procedure_ids,
    ).fetchall()
    missing = [doc for doc, notice_id, _ in rows if notice_id not in fresh]
    bodies: dict[int, bytes] = {}
    if missing:
        doc_marks = ",".join("?" * len(missing))
        bodies = dict(
            connection.execute(
                f"SELECT doc, body FROM bodies WHERE doc IN ({doc_marks})",  # noqa: S608 - placeholders only
                missing,
            ).fetchall()
        )
    members: dict[str, list[tuple[int, Notice]]] = {}
    for doc, notice_id, procedure_id in rows:
        notice = fresh.get(notice_id) or _notice_decoder.decode(bodies[doc])
        members.setdefault(procedure_id, []).append((doc, notice))
    return members


def _card_row(procedure_id: str, members: list[tuple[int, Notice]]) -> tuple[object, ...]:
    card = procedure_card([notice for _, notice in members])
    main = card.notice
    main_doc = next(doc for doc, notice in members if notice.id == main.id)
    meta = CardMeta(
        notice_ids=card.notice_ids,
        notice_types=card.notice_types,
        sources=card.sources,
        updated_at=card.updated_at,
        status=main.status.value,
        deadline=main.submission_deadline,
    )
    return (
        procedure_id,
        main_doc,
        main.id,
        main.status.value,
        *fields.sort_keys(main),
        _meta_encoder.encode(meta),
    )


def refresh_procedures(
    connection: sqlite3.Connection, procedure_ids: Iterable[str], fresh: dict[str, Notice]
) -> None:
    """Recompute the cards of these procedures; drop the ones left without notices."""
    for chunk in chunks(sorted(procedure_ids)):
        members = _members(connection, chunk, fresh)
        connection.executemany(
            "INSERT OR REPLACE INTO procedures (procedure_id, main_doc, main_id, status,"
            " deadline_key, published_at, value_key, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [_card_row(pid, notices) for pid, notices in members.items()],
        )
        connection.executemany(
            "DELETE FROM procedures WHERE procedure_id = ?",
            [(pid,) for pid in chunk if pid not in members],
        )
