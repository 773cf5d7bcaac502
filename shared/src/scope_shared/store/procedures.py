"""The procedure card: one procedure's main notice, as corrected by the notices that followed.

Rules (both stores use this function, so they agree):
- main notice: the latest contract notice; else the latest planning notice; else the latest
  notice of any type;
- status: `cancelled` if any notice is a cancellation; else `complete` if an award or contract
  data exists; else the main notice's status;
- deadline: the latest corrigendum published after the main notice that gives a deadline wins
  over the main notice's.
"""

from __future__ import annotations

import msgspec

from scope_shared.schema import Notice, NoticeStatus, NoticeType
from scope_shared.store.contract import ProcedureCard

_MAIN_PREFERENCE = (NoticeType.CONTRACT_NOTICE, NoticeType.PLANNING)


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
    ordered = sorted(notices, key=lambda n: (n.published_at, n.id))
    main = _main_notice(ordered)
    types = {n.notice_type for n in ordered}
    status = main.status
    if NoticeType.CANCELLATION in types:
        status = NoticeStatus.CANCELLED
    elif types & {NoticeType.AWARD, NoticeType.CONTRACT_DATA}:
        status = NoticeStatus.COMPLETE
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
