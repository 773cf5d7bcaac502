"""Section V of award forms (F03, F06, F15, F18, F21-F25): one AWARD_CONTRACT per contract.

An AWARD_CONTRACT holds either AWARDED_CONTRACT (date of conclusion, tenders received,
contractors, values) or NO_AWARDED_CONTRACT (PROCUREMENT_UNSUCCESSFUL: no tender or all
rejected; PROCUREMENT_DISCONTINUED: the buyer stopped). Only awarded contracts become Awards;
the others decide the notice's status when no contract at all was awarded.
"""

from __future__ import annotations

from lxml import etree

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.ted_xml.parties import winners
from scope_normalizer.formats.ted_xml.tree import (
    amount,
    block,
    count,
    find,
    find_all,
    leaf,
    path,
    text_of,
)
from scope_normalizer.values.amounts import sum_amounts
from scope_shared.dates import parse_datetime
from scope_shared.schema import Amount, Award, NoticeStatus

AWARD_CONTRACT = path("AWARD_CONTRACT")
_AWARDED = path("AWARDED_CONTRACT")
_NOT_AWARDED = path("NO_AWARDED_CONTRACT")
_DISCONTINUED = path("NO_AWARDED_CONTRACT", "PROCUREMENT_DISCONTINUED")
_DATE = path("DATE_CONCLUSION_CONTRACT")
_LOT_NO = path("LOT_NO")
_CONTRACT_NO = path("CONTRACT_NO")
_TITLE = path("TITLE")
_TENDERS = path("TENDERS", "NB_TENDERS_RECEIVED")
_VALUE = path("VALUES", "VAL_TOTAL")
_ESTIMATE = path("VALUES", "VAL_ESTIMATED_TOTAL")


def awards(form: etree._Element) -> list[Award]:
    """Each awarded contract with its lot, date, winners, final value and tenders received."""
    found: list[Award] = []
    for contract in find_all(form, AWARD_CONTRACT):
        parts = Children(contract)
        awarded = parts.first(_AWARDED)
        if awarded is None:
            continue
        found.append(
            Award(
                lot_id=text_of(parts.first(_LOT_NO)),
                date=parse_datetime(leaf(awarded, _DATE)),
                winners=winners(awarded),
                value=amount(awarded, _VALUE),
                offers_received=count(awarded, _TENDERS),
                contract_id=text_of(parts.first(_CONTRACT_NO)),
                title=block(parts.first(_TITLE)),
            )
        )
    return found


def estimated_total(form: etree._Element) -> Amount | None:
    """The sum of the awarded contracts' initial estimates (V.2.4), when they share one
    currency: the procedure's estimate as an award notice states it."""
    return sum_amounts([estimate for _, estimate in _estimates(form)])


def lot_estimates(form: etree._Element) -> dict[str, Amount]:
    """Each lot's initial estimate (V.2.4), as its awarded contracts state it: what an award
    notice gives of a lot's value when its section II has none (summed over the lot's
    contracts, when they share one currency)."""
    by_lot: dict[str, list[Amount]] = {}
    for lot_id, estimate in _estimates(form):
        if lot_id:
            by_lot.setdefault(lot_id, []).append(estimate)
    summed = {lot_id: sum_amounts(found) for lot_id, found in by_lot.items()}
    return {lot_id: total for lot_id, total in summed.items() if total is not None}


def _estimates(form: etree._Element) -> list[tuple[str | None, Amount]]:
    """(lot number, V.2.4 estimate) of each awarded contract that states one."""
    return [
        (text_of(find(contract, _LOT_NO)), estimate)
        for contract in find_all(form, AWARD_CONTRACT)
        if (awarded := find(contract, _AWARDED)) is not None
        and (estimate := amount(awarded, _ESTIMATE)) is not None
    ]


def outcome(form: etree._Element) -> NoticeStatus:
    """`complete` when any contract was awarded; else why none was, as far as the form says."""
    contracts = find_all(form, AWARD_CONTRACT)
    if not contracts or any(find(c, _AWARDED) is not None for c in contracts):
        return NoticeStatus.COMPLETE
    if all(find(c, _DISCONTINUED) is not None for c in contracts):
        return NoticeStatus.CANCELLED
    if all(find(c, _NOT_AWARDED) is not None for c in contracts):
        return NoticeStatus.UNSUCCESSFUL
    return NoticeStatus.UNKNOWN
