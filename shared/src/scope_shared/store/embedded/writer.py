"""Indexing a batch: version resolution, then every table written in one transaction.

Runs in the store's single writer thread (synchronous code). A batch is one `BEGIN IMMEDIATE`
transaction: readers see all of it or none of it. Rows are written with `executemany`, one
statement per table, which is what makes bulk loading fast in SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scope_shared.store.contract import IndexOutcome
from scope_shared.store.embedded.cards import refresh_procedures
from scope_shared.store.embedded.prepare import Prepared
from scope_shared.store.embedded.schema import chunks


@dataclass
class _Current:
    doc: int
    version: int
    procedure_id: str


@dataclass
class _Plan:
    """What one batch does, decided before anything is written."""

    accepted: dict[str, Prepared] = field(default_factory=dict)
    history: dict[tuple[str, int], bytes] = field(default_factory=dict)
    move_to_history: set[str] = field(default_factory=set)
    outcomes: list[IndexOutcome] = field(default_factory=list)


def _current(connection: sqlite3.Connection, ids: Iterable[str]) -> dict[str, _Current]:
    found: dict[str, _Current] = {}
    for chunk in chunks(ids):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, doc, version, procedure_id FROM notices WHERE id IN ({marks})"  # noqa: S608 - placeholders only
        for notice_id, doc, version, procedure_id in connection.execute(sql, chunk):
            found[notice_id] = _Current(doc, version, procedure_id)
    return found


def _plan(batch: Sequence[Prepared | IndexOutcome], current: dict[str, _Current]) -> _Plan:
    """Apply the versioning rule in batch order: highest version wins, same replaces."""
    plan = _Plan()
    versions = {notice_id: c.version for notice_id, c in current.items()}
    for item in batch:
        if isinstance(item, IndexOutcome):
            plan.outcomes.append(item)
            continue
        notice = item.notice
        known = versions.get(notice.id)
        if known is not None and notice.version < known:
            plan.history[(notice.id, notice.version)] = item.body
            plan.outcomes.append(IndexOutcome(notice.id, "stale"))
            continue
        if known is not None and notice.version > known:
            previous = plan.accepted.get(notice.id)
            if previous is not None:
                plan.history[(notice.id, previous.notice.version)] = previous.body
            else:
                plan.move_to_history.add(notice.id)
        plan.accepted[notice.id] = item
        versions[notice.id] = notice.version
        plan.outcomes.append(IndexOutcome(notice.id, "indexed"))
    return plan


_INSERT_NOTICE = """INSERT OR REPLACE INTO notices (doc, id, version, procedure_id,
    published_at, deadline_key, value_key, source, notice_type, status, procedure_type,
    contract_nature, buyer_siret, buyer_siren, buyer_name, cpv_divisions, departments, regions)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_MOVE_TO_HISTORY = """INSERT OR REPLACE INTO history (id, version, body)
    SELECT n.id, n.version, b.body FROM notices n JOIN bodies b ON b.doc = n.doc WHERE n.id = ?"""


def _write(connection: sqlite3.Connection, plan: _Plan, current: dict[str, _Current]) -> set[str]:
    """Write the plan; returns the procedures whose card must be recomputed."""
    connection.executemany(_MOVE_TO_HISTORY, [(i,) for i in plan.move_to_history])
    connection.executemany(
        "INSERT OR REPLACE INTO history (id, version, body) VALUES (?, ?, ?)",
        [(i, v, body) for (i, v), body in plan.history.items()],
    )
    replaced = [(current[i].doc,) for i in plan.accepted if i in current]
    connection.executemany("DELETE FROM terms WHERE doc = ?", replaced)
    connection.executemany("DELETE FROM fts WHERE rowid = ?", replaced)
    next_doc = connection.execute("SELECT coalesce(max(doc), 0) + 1 FROM notices").fetchone()[0]
    docs: list[tuple[int, Prepared]] = []
    for notice_id, item in plan.accepted.items():
        known = current.get(notice_id)
        if known is None:
            docs.append((next_doc, item))
            next_doc += 1
        else:
            docs.append((known.doc, item))
    connection.executemany(_INSERT_NOTICE, [(doc, *item.row) for doc, item in docs])
    connection.executemany(
        "INSERT OR REPLACE INTO bodies (doc, body) VALUES (?, ?)",
        [(doc, item.body) for doc, item in docs],
    )
    connection.executemany(
        "INSERT INTO terms (doc, field, value) VALUES (?, ?, ?)",
        [(doc, f, value) for doc, item in docs for f, value in item.terms],
    )
    connection.executemany(
        "INSERT INTO fts (rowid, title, description, buyer, lots) VALUES (?, ?, ?, ?, ?)",
        [(doc, *item.text) for doc, item in docs],
    )
    procedures = {item.notice.procedure_id for _, item in docs}
    procedures.update(current[i].procedure_id for i in plan.accepted if i in current)
    return procedures


def _index_in_transaction(
    connection: sqlite3.Connection, batch: Sequence[Prepared | IndexOutcome]
) -> list[IndexOutcome]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        ids = [item.notice.id for item in batch if isinstance(item, Prepared)]
        current = _current(connection, dict.fromkeys(ids))
        plan = _plan(batch, current)
        procedures = _write(connection, plan, current)
        fresh = {i: item.notice for i, item in plan.accepted.items()}
        refresh_procedures(connection, procedures, fresh)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return plan.outcomes


def index_batch(
    connection: sqlite3.Connection, batch: Sequence[Prepared | IndexOutcome]
) -> list[IndexOutcome]:
    """Index a prepared batch in one transaction; one outcome per notice, in order, never
    raising.

    A busy or full database (`OperationalError`) fails the batch as retryable. Any other
    database error is isolated by indexing the notices one by one, so that one document the
    database refuses fails alone.
    """
    try:
        return _index_in_transaction(connection, batch)
    except sqlite3.OperationalError as exc:
        return [_failed(item, str(exc), retryable=True) for item in batch]
    except (sqlite3.Error, ValueError) as exc:
        if len(batch) == 1:
            return [_failed(batch[0], f"{type(exc).__name__}: {exc}", retryable=False)]
    return [outcome for item in batch for outcome in index_batch(connection, [item])]


def _failed(item: Prepared | IndexOutcome, reason: str, *, retryable: bool) -> IndexOutcome:
    if isinstance(item, IndexOutcome):
        return item
    return IndexOutcome(item.notice.id, "failed", reason=reason, retryable=retryable)
