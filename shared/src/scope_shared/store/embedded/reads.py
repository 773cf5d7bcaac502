"""Look-ups by id: a notice, its history, a procedure's card and notices (reader threads)."""

from __future__ import annotations

import sqlite3

import msgspec

from scope_shared.schema import Notice
from scope_shared.store.contract import ProcedureCard
from scope_shared.store.embedded.cards import build_card

_decoder = msgspec.json.Decoder(Notice)


def get(connection: sqlite3.Connection, notice_id: str) -> Notice | None:
    row = connection.execute(
        "SELECT b.body FROM notices n JOIN bodies b ON b.doc = n.doc WHERE n.id = ?", (notice_id,)
    ).fetchone()
    return None if row is None else _decoder.decode(row[0])


def history(connection: sqlite3.Connection, notice_id: str) -> list[Notice]:
    """Older versions (table `history`) and the current one, version 1 first."""
    connection.execute("BEGIN")
    try:
        rows = connection.execute(
            "SELECT version, body FROM history WHERE id = ?", (notice_id,)
        ).fetchall()
        current = connection.execute(
            "SELECT n.version, b.body FROM notices n JOIN bodies b ON b.doc = n.doc WHERE n.id = ?",
            (notice_id,),
        ).fetchone()
    finally:
        connection.execute("COMMIT")
    versions = dict(rows)
    if current is not None:
        versions[current[0]] = current[1]
    return [_decoder.decode(versions[v]) for v in sorted(versions)]


def procedure(connection: sqlite3.Connection, procedure_id: str) -> ProcedureCard | None:
    row = connection.execute(
        "SELECT p.meta, b.body FROM procedures p JOIN bodies b ON b.doc = p.main_doc"
        " WHERE p.procedure_id = ?",
        (procedure_id,),
    ).fetchone()
    return None if row is None else build_card(procedure_id, row[0], row[1])


def procedure_notices(connection: sqlite3.Connection, procedure_id: str) -> list[Notice]:
    """Latest version of each notice of the procedure, oldest publication first (then id)."""
    rows = connection.execute(
        "SELECT b.body FROM notices n JOIN bodies b ON b.doc = n.doc WHERE n.procedure_id = ?",
        (procedure_id,),
    ).fetchall()
    notices = [_decoder.decode(body) for (body,) in rows]
    return sorted(notices, key=lambda n: (n.published_at, n.id))
