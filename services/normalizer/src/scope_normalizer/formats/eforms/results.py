"""Results (`efac:NoticeResult`): one canonical Award per lot result.

eForms spreads a result over four cross-referenced lists: `efac:LotResult` (per lot: outcome
BT-142, statistics BT-759, the tenders and contracts it concerns), `efac:LotTender` (a tender:
value BT-720, its tendering party), `efac:SettledContract` (a contract: decision date BT-1451,
conclusion date BT-145, title BT-721, number BT-150, its tenders) and `efac:TenderingParty`
(the organisations behind a tender, OPT-300). They are read once into small records indexed
by id, then joined.

Caveats:
    - The winners of a lot are the tenderers of the tenders its contracts were concluded with,
      kept to that lot (one contract may cover the tenders of several lots); without a
      contract, the tenders the lot result names.
    - A lot result without winner (`clos-nw`, `open-nw`) makes no Award.
    - Only the `tenders` statistic is the number of offers received; the others (`t-sme`,
      `t-esubm`...) count subsets.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.eforms.parties import Parties
from scope_normalizer.formats.eforms.read import (
    Languages,
    amount,
    child_text,
    first_child,
    ref_ids,
    unique,
)
from scope_normalizer.formats.eforms.xpaths import ID, Element
from scope_shared.dates import parse_datetime
from scope_shared.documents.eforms import tag
from scope_shared.schema import Amount, Award, Winner

NO_WINNER = frozenset({"clos-nw", "open-nw"})
"""`winner-selection-status` codes of a lot with no winner (yet)."""

_LOT_RESULT = tag("efac:LotResult")
_LOT_TENDER = tag("efac:LotTender")
_CONTRACT = tag("efac:SettledContract")
_TENDERING_PARTY = tag("efac:TenderingParty")
_TENDERER = tag("efac:Tenderer")  # OPT-300
_TENDER_LOT = tag("efac:TenderLot")  # BT-13713, BT-13714
_RESULT_CODE = tag("cbc:TenderResultCode")  # BT-142
_STATISTICS = tag("efac:ReceivedSubmissionsStatistics")
_STATISTICS_CODE = tag("efbc:StatisticsCode")  # BT-760
_STATISTICS_NUMBER = tag("efbc:StatisticsNumeric")  # BT-759
_FRAMEWORK_VALUES = tag("efac:FrameworkAgreementValues")
_FRAMEWORK_MAXIMUM = tag("cbc:EstimatedMaximumValueAmount")  # BT-709
_MONETARY_TOTAL = tag("cac:LegalMonetaryTotal")
_PAYABLE_AMOUNT = tag("cbc:PayableAmount")  # BT-720
_AWARD_DATE = tag("cbc:AwardDate")  # BT-1451
_ISSUE_DATE = tag("cbc:IssueDate")  # BT-145
_TITLE = tag("cbc:Title")  # BT-721
_CONTRACT_REFERENCE = tag("efac:ContractReference")  # BT-150 in cbc:ID


class _Tender(msgspec.Struct, frozen=True):
    lot_id: str | None
    value: Amount | None
    parties: list[str]


class _Contract(msgspec.Struct, frozen=True):
    tenders: list[str]
    decided: datetime | None
    concluded: datetime | None
    number: str | None
    title: str | None


class Results:
    """The notice's results, indexed by their technical ids."""

    def __init__(self, notice_result: Element | None, parties: Parties, languages: Languages):
        self._parties = parties
        lists = Children(notice_result)
        self._lot_results = [Children(result) for result in lists.all(_LOT_RESULT)]
        tenders = [Children(tender) for tender in lists.all(_LOT_TENDER)]
        self._tenders = {i: _read_tender(t) for t in tenders if (i := t.text(ID))}
        contracts = [Children(contract) for contract in lists.all(_CONTRACT)]
        self._contracts = {i: _read_contract(c, languages) for c in contracts if (i := c.text(ID))}
        parties_lists = [Children(party) for party in lists.all(_TENDERING_PARTY)]
        self._tendering_parties = {
            i: ref_ids(party.all(_TENDERER)) for party in parties_lists if (i := party.text(ID))
        }

    def outcomes(self) -> list[str]:
        """The BT-142 code of every lot result that has one."""
        return [code for r in self._lot_results if (code := r.text(_RESULT_CODE))]

    def awards(self, undivided: frozenset[str]) -> list[Award]:
        awards: list[Award] = []
        for parts in self._lot_results:
            if parts.text(_RESULT_CODE) in NO_WINNER:
                continue
            lot_id = child_text(parts.first(_TENDER_LOT), ID)
            contracts = [
                self._contracts[ref]
                for ref in ref_ids(parts.all(_CONTRACT))
                if ref in self._contracts
            ]
            tenders = self._winning_tenders(parts, lot_id, contracts)
            first = contracts[0] if contracts else None
            awards.append(
                Award(
                    lot_id=None if lot_id in undivided else lot_id,
                    date=_decision_date(contracts),
                    winners=self._winners(tenders),
                    value=self._value(parts, tenders),
                    offers_received=_offers(parts),
                    contract_id=first.number if first else None,
                    title=first.title if first else None,
                )
            )
        return awards

    def contract_winners(self, contract_id: str | None) -> list[Winner]:
        """The winners of the contract `contract_id` (a `CON-*` id)."""
        contract = self._contracts.get(contract_id or "")
        return self._winners(contract.tenders) if contract else []

    def contract_value(self, contract_id: str | None) -> Amount | None:
        """The value of the tender the contract `contract_id` was concluded with, if only one."""
        contract = self._contracts.get(contract_id or "")
        if contract is None or len(contract.tenders) != 1:
            return None
        tender = self._tenders.get(contract.tenders[0])
        return tender.value if tender else None

    def _winning_tenders(
        self, result: Children, lot_id: str | None, contracts: list[_Contract]
    ) -> list[str]:
        from_contracts = [
            tender_id
            for contract in contracts
            for tender_id in contract.tenders
            if lot_id is None or self._tender_lot(tender_id) in (None, lot_id)
        ]
        return unique(from_contracts or ref_ids(result.all(_LOT_TENDER)))

    def _tender_lot(self, tender_id: str) -> str | None:
        tender = self._tenders.get(tender_id)
        return tender.lot_id if tender else None

    def _winners(self, tender_ids: list[str]) -> list[Winner]:
        org_ids = [
            org_id
            for tender_id in tender_ids
            if (tender := self._tenders.get(tender_id))
            for party_id in tender.parties
            for org_id in self._tendering_parties.get(party_id, [])
        ]
        return [w for org_id in unique(org_ids) if (w := self._parties.winner(org_id))]

    def _value(self, result: Children, tender_ids: list[str]) -> Amount | None:
        """The winning tender's value (BT-720); for several winners (a framework agreement
        with several suppliers) their bids are not one value, so BT-709's maximum is used."""
        if len(tender_ids) == 1:
            tender = self._tenders.get(tender_ids[0])
            if tender and tender.value:
                return tender.value
        maximum = first_child(result.first(_FRAMEWORK_VALUES), _FRAMEWORK_MAXIMUM)
        return amount(maximum)


def _read_tender(parts: Children) -> _Tender:
    return _Tender(
        lot_id=child_text(parts.first(_TENDER_LOT), ID),
        value=amount(first_child(parts.first(_MONETARY_TOTAL), _PAYABLE_AMOUNT)),
        parties=ref_ids(parts.all(_TENDERING_PARTY)),
    )


def _read_contract(parts: Children, languages: Languages) -> _Contract:
    return _Contract(
        tenders=ref_ids(parts.all(_LOT_TENDER)),
        decided=parse_datetime(parts.text(_AWARD_DATE)),
        concluded=parse_datetime(parts.text(_ISSUE_DATE)),
        number=child_text(parts.first(_CONTRACT_REFERENCE), ID),
        title=languages.text(parts.all(_TITLE)),
    )


def _decision_date(contracts: list[_Contract]) -> datetime | None:
    """The earliest BT-1451 winner decision date, else the earliest BT-145 conclusion date."""
    decided = [c.decided for c in contracts if c.decided]
    if decided:
        return min(decided)
    concluded = [c.concluded for c in contracts if c.concluded]
    return min(concluded) if concluded else None


def _offers(result: Children) -> int | None:
    for statistic in result.all(_STATISTICS):
        if child_text(statistic, _STATISTICS_CODE) == "tenders":
            number = child_text(statistic, _STATISTICS_NUMBER) or ""
            if number.isascii() and number.isdigit() and len(number) < 10:
                return int(number)
    return None
