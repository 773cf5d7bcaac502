"""The procedure card: one procedure's main notice, as corrected by the notices that followed.

Rules (both stores use this function, so they agree):
- main notice: the latest contract notice; else the latest planning notice; else the latest
  notice of any type;
- status: `cancelled` if any notice is a cancellation; else, once results are published
  (awards, contract data), `complete` if any result awarded something, else the latest
  result's own status (`unsuccessful`: no tender or none kept; `cancelled`: discontinued);
  else the main notice's status;
- deadline: the latest corrigendum published after the main notice that gives a deadline wins
  over the main notice's.

Notices are ordered by publication date, then by id with its numbers compared as numbers:
BOAMP dates have no time, and its corrigendum `26-10001` follows `26-9999` of the same day.
"""

from __future__ import annotations

import re

import msgspec

from scope_shared.schema import Notice, NoticeStatus, NoticeType
from scope_shared.store.contract import ProcedureCard

_MAIN_PREFERENCE = (NoticeType.CONTRACT_NOTICE, NoticeType.PLANNING)
_RESULTS = frozenset({NoticeType.AWARD, NoticeType.CONTRACT_DATA})
_NOTHING_AWARDED = frozenset({NoticeStatus.UNSUCCESSFUL, NoticeStatus.CANCELLED})
_DIGITS = re.compile(r"(\d+)")


def _natural(notice_id: str) -> list[str | int]:
    """`france_boamp:26-9999` before `france_boamp:26-10001`: numbers compared as numbers
    (the pieces alternate text and number, so two ids compare piece by piece)."""
    return [int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(notice_id))]


def _main_notice(notices: list[Notice]) -> Notice:
    for notice_type in _MAIN_PREFERENCE:
        candidates = [n for n in notices if n.notice_type is notice_type]
        if candidates:
            return candidates[-1]
    return notices[-1]


def procedure_card(notices: list[Notice]) -> ProcedureCard:
    """The card of one procedure from its notices (latest version of each, any order)."""
    if not notices:
        raise ValueError("a procedure has at least one notice")
    ordered = sorted(notices, key=lambda n: (n.published_at, _natural(n.id)))
    main = _main_notice(ordered)
    results = [n for n in ordered if n.notice_type in _RESULTS]
    status = main.status
    if any(n.notice_type is NoticeType.CANCELLATION for n in ordered):
        status = NoticeStatus.CANCELLED
    elif any(n.status not in _NOTHING_AWARDED for n in results):
        status = NoticeStatus.COMPLETE
    elif results:
        status = results[-1].status
    deadline = main.submission_deadline
    for notice in ordered:
        if (
            notice.notice_type is NoticeType.CORRIGENDUM
            and notice.published_at >= main.published_at
            and notice.submission_deadline is not None
        ):
            deadline = notice.submission_deadline
    return ProcedureCard(
        procedure_id=main.procedure_id,
        notice=msgspec.structs.replace(main, status=status, submission_deadline=deadline),
        notice_ids=[n.id for n in ordered],
        notice_types=[n.notice_type.value for n in ordered],
        sources=sorted({n.source for n in ordered}),
        updated_at=ordered[-1].published_at,
    )
