"""Everything a batch's rows need that does not depend on the database: done before writing.

Encoding the JSON body, deriving the filter columns and terms and analysing the text is
pure Python work; it runs in a preparation thread, so that while the writer thread has
SQLite write one batch (SQLite releases the GIL), the next batch is being prepared. The rows
are built here whole, `doc` included (numbers handed out by `DocNumbers` ahead of the write),
so that the writer thread only hands ready lists to `executemany`: Python work in the writer
thread holds the GIL while SQLite waits, work here overlaps with SQLite's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from scope_shared.schema import Notice
from scope_shared.store.contract import IndexOutcome
from scope_shared.store.embedded import fields

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Prepared:
    """One notice ready to write under its row number `doc`: the rows of every table.

    The `notices`, `terms` and `fts` rows are JSON arrays, which the writer joins into one
    array per table and SQLite unpacks (`json_each`): one statement per table and batch.
    With `executemany`, binding each row takes the GIL back from the preparation thread,
    which holds it for up to the interpreter's switch interval each time, so the write of a
    batch and the preparation of the next, meant to overlap, took turns instead.
    """

    notice: Notice
    doc: int
    body: bytes
    row: bytes
    """The `notices` row, `doc` first."""
    terms: bytes
    """`[doc, [[field, value], ...]]`: the notice's `terms` rows."""
    text: bytes
    """The `fts` row: rowid (the doc), title, description, buyer, lots."""

    def renumbered(self, doc: int) -> Prepared:
        """The same rows under another doc (when another writer took this one meanwhile)."""
        return Prepared(
            notice=self.notice,
            doc=doc,
            body=self.body,
            row=_with_doc(self.row, doc),
            terms=_with_doc(self.terms, doc),
            text=_with_doc(self.text, doc),
        )


def _with_doc(row: bytes, doc: int) -> bytes:
    values = msgspec.json.decode(row)
    return _encoder.encode([doc, *values[1:]])


class DocNumbers:
    """Row numbers handed out to notices when their batch is prepared, in call order.

    The store's own writes take numbers only from here; `at_least` moves past numbers found
    taken in the file (read at setup, and checked by the writer before each batch).
    """

    def __init__(self) -> None:
        self._next = 1
        self._lock = threading.Lock()

    def take(self, count: int) -> int:
        """The first of `count` consecutive numbers, reserved."""
        with self._lock:
            first = self._next
            self._next += count
            return first

    def at_least(self, value: int) -> None:
        with self._lock:
            self._next = max(self._next, value)


def _row(notice: Notice, doc: int) -> list[object]:
    c = fields.columns(notice)
    return [
        doc, notice.id, notice.version, c.procedure_id, c.published_at,
        fields.MISSING_DEADLINE if c.deadline is None else c.deadline,
        fields.MISSING_VALUE if c.value is None else c.value,
        c.source, c.notice_type, c.status, c.procedure_type, c.contract_nature,
        c.buyer_siret, c.buyer_siren, c.buyer_name, c.cpv_divisions, c.departments, c.regions,
    ]  # fmt: skip


def prepare(notices: Sequence[Notice], first_doc: int) -> list[Prepared | IndexOutcome]:
    """Each notice prepared under `first_doc`, `first_doc + 1`…, or its `failed` outcome when
    it cannot be (never raises)."""
    prepared: list[Prepared | IndexOutcome] = []
    for doc, notice in enumerate(notices, start=first_doc):
        try:
            prepared.append(
                Prepared(
                    notice=notice,
                    doc=doc,
                    body=_encoder.encode(notice),
                    row=_encoder.encode(_row(notice, doc)),
                    terms=_encoder.encode([doc, fields.terms(notice)]),
                    text=_encoder.encode([doc, *fields.fts_columns(notice)]),
                )
            )
        except (ValueError, TypeError, KeyError, msgspec.EncodeError) as exc:
            reason = f"cannot prepare the notice: {type(exc).__name__}: {exc}"
            prepared.append(IndexOutcome(notice.id, "failed", reason=reason))
    return prepared
