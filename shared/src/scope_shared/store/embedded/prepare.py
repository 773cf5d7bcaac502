"""Everything a batch's rows need that does not depend on the database: done before writing.

Encoding the JSON body, deriving the filter columns and terms and analysing the text is
pure Python work; it runs in a preparation thread, so that while the writer thread has
SQLite write one batch (SQLite releases the GIL), the next batch is being prepared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from scope_shared.schema import Notice
from scope_shared.store.contract import IndexOutcome
from scope_shared.store.embedded import fields

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Prepared:
    """One notice ready to write: its body, its `notices` row (after `doc`), terms, text."""

    notice: Notice
    body: bytes
    row: tuple[object, ...]
    terms: list[tuple[int, str]]
    text: tuple[str, str, str, str]


def _row(notice: Notice) -> tuple[object, ...]:
    c = fields.columns(notice)
    return (
        notice.id, notice.version, c.procedure_id, c.published_at,
        fields.MISSING_DEADLINE if c.deadline is None else c.deadline,
        fields.MISSING_VALUE if c.value is None else c.value,
        c.source, c.notice_type, c.status, c.procedure_type, c.contract_nature,
        c.buyer_siret, c.buyer_siren, c.buyer_name, c.cpv_divisions, c.departments, c.regions,
    )  # fmt: skip


def prepare(notices: Sequence[Notice]) -> list[Prepared | IndexOutcome]:
    """Each notice prepared, or its `failed` outcome when it cannot be (never raises)."""
    prepared: list[Prepared | IndexOutcome] = []
    for notice in notices:
        try:
            prepared.append(
                Prepared(
                    notice=notice,
                    body=_encoder.encode(notice),
                    row=_row(notice),
                    terms=fields.terms(notice),
                    text=fields.fts_columns(notice),
                )
            )
        except (ValueError, TypeError, KeyError, msgspec.EncodeError) as exc:
            reason = f"cannot prepare the notice: {type(exc).__name__}: {exc}"
            prepared.append(IndexOutcome(notice.id, "failed", reason=reason))
    return prepared
