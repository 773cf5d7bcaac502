"""Indexing a batch: version resolution, then every table written in one transaction.

Runs in the store's single writer thread (synchronous code). A batch is one `BEGIN IMMEDIATE`
transaction: readers see all of it or none of it. Each table's rows are written by one
statement per batch (the `notices`, `terms` and `fts` rows as one bound JSON array, unpacked
by `json_each`; see prepare.py for why), which is what makes bulk loading fast in SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scope_shared.store.contract import IndexOutcome
from scope_shared.store.embedded.cards import refresh_procedures
from scope_shared.store.embedded.prepare import DocNumbers, Prepared
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


_NOTICE_COLUMNS = """doc, id, version, procedure_id, published_at, deadline_key, value_key,
    source, notice_type, status, procedure_type, contract_nature, buyer_siret, buyer_siren,
    buyer_name, cpv_divisions, departments, regions"""


def _from_json(count: int) -> str:
    """The columns of each row of a JSON array of rows (`json_each` over the bound array)."""
    return ", ".join(f"json_extract(value, '$[{i}]')" for i in range(count))


_INSERT_NOTICES = f"""INSERT OR REPLACE INTO notices ({_NOTICE_COLUMNS})
    SELECT {_from_json(18)} FROM json_each(?)"""  # noqa: S608 - constants only
_INSERT_TERMS = """INSERT INTO terms (doc, field, value)
    SELECT json_extract(n.value, '$[0]'), json_extract(t.value, '$[0]'),
        json_extract(t.value, '$[1]')
    FROM json_each(?) AS n, json_each(n.value, '$[1]') AS t"""
_INSERT_FTS = f"""INSERT INTO fts (rowid, title, description, buyer, lots)
    SELECT {_from_json(5)} FROM json_each(?)"""  # noqa: S608 - constants only
_MOVE_TO_HISTORY = """INSERT OR REPLACE INTO history (id, version, body)
    SELECT n.id, n.version, b.body FROM notices n JOIN bodies b ON b.doc = n.doc WHERE n.id = ?"""


def _json_array(rows: list[bytes]) -> str:
    """One JSON array of encoded rows, as text (SQLite reads a BLOB as binary JSON)."""
    return (b"[" + b",".join(rows) + b"]").decode()


def _numbered(connection: sqlite3.Connection, items: list[Prepared]) -> list[Prepared]:
    """The items, renumbered after the file's last doc if another writer took their docs
    (another process writing the same file; never this store's own batches)."""
    last = connection.execute("SELECT max(doc) FROM notices").fetchone()[0]
    if last is None or not items or last < min(item.doc for item in items):
        return items
    return [item.renumbered(doc) for doc, item in enumerate(items, start=last + 1)]


def _write(
    connection: sqlite3.Connection, plan: _Plan, current: dict[str, _Current], docs: DocNumbers
) -> set[str]:
    """Write the plan; returns the procedures whose card must be recomputed.

    A new version of a stored notice gets its new doc (prepared with it): the old doc's rows
    go, its `notices` row through INSERT OR REPLACE on the notice id.
    """
    connection.executemany(_MOVE_TO_HISTORY, [(i,) for i in plan.move_to_history])
    connection.executemany(
        "INSERT OR REPLACE INTO history (id, version, body) VALUES (?, ?, ?)",
        [(i, v, body) for (i, v), body in plan.history.items()],
    )
    replaced = [(current[i].doc,) for i in plan.accepted if i in current]
    for table in ("terms", "bodies"):
        connection.executemany(f"DELETE FROM {table} WHERE doc = ?", replaced)  # noqa: S608 - constants only
    connection.executemany("DELETE FROM fts WHERE rowid = ?", replaced)
    items = _numbered(connection, list(plan.accepted.values()))
    if items:
        docs.at_least(max(item.doc for item in items) + 1)
    connection.execute(_INSERT_NOTICES, (_json_array([item.row for item in items]),))
    connection.executemany(
        "INSERT INTO bodies (doc, body) VALUES (?, ?)", [(item.doc, item.body) for item in items]
    )
    connection.execute(_INSERT_TERMS, (_json_array([item.terms for item in items]),))
    connection.execute(_INSERT_FTS, (_json_array([item.text for item in items]),))
    procedures = {item.notice.procedure_id for item in items}
    procedures.update(current[i].procedure_id for i in plan.accepted if i in current)
    return procedures


def _index_in_transaction(
    connection: sqlite3.Connection, batch: Sequence[Prepared | IndexOutcome], docs: DocNumbers
) -> list[IndexOutcome]:
    connection.execute("BEGIN IMMEDIATE")
    try:
        ids = [item.notice.id for item in batch if isinstance(item, Prepared)]
        current = _current(connection, dict.fromkeys(ids))
        plan = _plan(batch, current)
        procedures = _write(connection, plan, current, docs)
        fresh = {i: item.notice for i, item in plan.accepted.items()}
        refresh_procedures(connection, procedures, fresh)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return plan.outcomes


def index_batch(
    connection: sqlite3.Connection, batch: Sequence[Prepared | IndexOutcome], docs: DocNumbers
) -> list[IndexOutcome]:
    """Index a prepared batch in one transaction; one outcome per notice, in order, never
    raising.

    A busy or full database (`OperationalError`) fails the batch as retryable. Any other
    database error is isolated by indexing the notices one by one, so that one document the
    database refuses fails alone.
    """
    try:
        return _index_in_transaction(connection, batch, docs)
    except sqlite3.OperationalError as exc:
        return [_failed(item, str(exc), retryable=True) for item in batch]
    except (sqlite3.Error, ValueError) as exc:
        if len(batch) == 1:
            return [_failed(batch[0], f"{type(exc).__name__}: {exc}", retryable=False)]
    return [outcome for item in batch for outcome in index_batch(connection, [item], docs)]


def _failed(item: Prepared | IndexOutcome, reason: str, *, retryable: bool) -> IndexOutcome:
    if isinstance(item, IndexOutcome):
        return item
    return IndexOutcome(item.notice.id, "failed", reason=reason, retryable=retryable)
