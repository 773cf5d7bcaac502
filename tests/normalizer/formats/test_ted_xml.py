"""TED R2.0.9 XML (`RawFormat.TED_XML`) on the 7 real TED_EXPORT documents of the samples."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.ted_xml import map_notice
from scope_normalizer.formats.ted_xml.clock import deadline
from scope_shared.documents.ted import split_ted_export
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Amount,
    ContractNature,
    Duration,
    DurationUnit,
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RawFormat,
    RelatedNotice,
    RelationKind,
)
from tests.support.golden import FIXTURES, assert_matches_golden, map_or_dead_letter, raw_for

SAMPLES = sorted((FIXTURES / "europe_ted/r2.0.9").glob("*.xml"))
SOURCE = "europe_ted"


def _map_or_dead_letter(payload: bytes) -> Notice | None:
    raw = raw_for(SOURCE, "1-2020", RawFormat.TED_XML, payload)
    return map_or_dead_letter(map_notice, raw, payload)


def _map(reception_id: str) -> Notice:
    payload = (FIXTURES / f"europe_ted/r2.0.9/{reception_id}-EXP.xml").read_bytes()
    item = next(split_ted_export(payload))
    return map_notice(raw_for(SOURCE, item.source_id, RawFormat.TED_XML, payload), payload)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_document_matches_reviewed_golden(sample: Path) -> None:
    payload = sample.read_bytes()
    item = next(split_ted_export(payload))
    notice = map_notice(raw_for(SOURCE, item.source_id, RawFormat.TED_XML, payload), payload)
    msgspec.json.decode(msgspec.json.encode(notice), type=Notice)
    assert_matches_golden(notice, f"ted_xml/{sample.stem}")


def test_ted_xml_is_registered() -> None:
    assert FORMATS[RawFormat.TED_XML] is map_notice


def test_f21_contract_notice_maps_identity_deadline_and_reserved_contract() -> None:
    notice = _map("19-090974-001")
    assert notice.id == "europe_ted:91489-2019"
    assert notice.source_url == "https://ted.europa.eu/en/notice/-/detail/91489-2019"
    assert (notice.notice_type, notice.status) == (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE)
    assert notice.source_notice_type == "3"
    assert notice.published_at == datetime(2019, 2, 25, 23, 0, tzinfo=UTC)
    # 22 March 2019 15:00 in Paris (CET, UTC+1).
    assert notice.submission_deadline == datetime(2019, 3, 22, 14, 0, tzinfo=UTC)
    assert notice.procedure_type is ProcedureType.OPEN
    assert notice.contract_nature is ContractNature.SERVICES
    assert notice.cpv_main == "55321000"
    assert notice.duration == Duration(value=36, unit=DurationUnit.MONTH)
    assert notice.considerations == ["sociaux"]
    assert notice.tender_url == notice.documents_url == "http://www.klekoon.com"
    assert notice.lots == []
    assert notice.place is not None and notice.place.departments == ["92"]
    assert notice.buyer is not None
    assert (notice.buyer.name, notice.buyer.department, notice.buyer.siret) == (
        "EPS Paul Guiraud",
        "94",
        None,
    )


def test_f06_award_maps_lots_awards_winner_sirets_and_values() -> None:
    notice = _map("18-412273-001")
    assert notice.notice_type is NoticeType.AWARD
    assert notice.status is NoticeStatus.COMPLETE
    assert [lot.id for lot in notice.lots] == ["1", "2", "3", "4", "5"]
    assert notice.lots[0].cpv_additional == ["45234116", "45233200", "44113320", "45232410"]
    # The awarded contracts' initial estimates (V.2.4: 4.4 M, 530 k, 460 k), not the total
    # awarded (II.1.7, 5,530,658.98), which the awards carry.
    assert notice.estimated_value == Amount(amount=Decimal("5390000"), currency="EUR")
    assert [award.lot_id for award in notice.awards] == ["1", "2", "3"]
    first = notice.awards[0]
    assert first.date == datetime(2018, 8, 22, 22, 0, tzinfo=UTC)
    assert first.offers_received == 5
    assert first.value == Amount(amount=Decimal("4625137.40"), currency="EUR")
    assert [(w.siret, w.siren) for w in first.winners] == [
        ("39876221100298", "398762211"),
        ("40268299100102", "402682991"),
    ]
    assert notice.award_criteria == ["Valeur technique (55 %)", "Price (45 %)"]
    assert notice.procedure_type is ProcedureType.NEGOTIATED_WITH_CALL


def test_f01_prior_information_is_planned_without_procedure() -> None:
    notice = _map("20-155018-001")
    assert (notice.notice_type, notice.status) == (NoticeType.PLANNING, NoticeStatus.PLANNED)
    assert notice.language == "de"
    assert notice.procedure_type is None and notice.procedure_label is None
    assert notice.place is not None and notice.place.country == "DE"


def test_f03_award_in_norway_keeps_foreign_ids_and_currency() -> None:
    notice = _map("20-157399-001")
    assert notice.estimated_value == Amount(amount=Decimal("4500000.00"), currency="NOK")
    assert notice.buyer is not None and notice.buyer.identifier is not None
    assert (notice.buyer.identifier.scheme, notice.buyer.identifier.id) == ("ORG", "940 363 586")
    assert len(notice.awards) == 4
    # NATIONALID holding a company name is not an identifier.
    assert notice.awards[2].winners[0].identifier is None
    assert all(award.value is None and award.offers_received == 6 for award in notice.awards)


def test_f02_contract_notice_reads_framework_conditions_and_amsterdam_deadline() -> None:
    notice = _map("21-064844-001")
    assert notice.framework_agreement is True
    assert notice.submission_deadline == datetime(2021, 3, 18, 11, 0, tzinfo=UTC)
    assert notice.conditions is not None and notice.conditions.startswith("— Uniform Europees")
    assert notice.duration == Duration(value=48, unit=DurationUnit.MONTH)


def test_f15_veat_is_an_award_without_prior_call() -> None:
    notice = _map("21-149886-001")
    assert (notice.notice_type, notice.source_notice_type) == (NoticeType.AWARD, "V")
    assert notice.procedure_type is ProcedureType.NEGOTIATED_WITHOUT_CALL
    assert notice.award_criteria[0] == "Valeur technique: 55 points"
    assert notice.awards[0].date == datetime(2021, 2, 23, 23, 0, tzinfo=UTC)


def test_f14_corrigendum_reads_new_deadline_in_lisbon_time() -> None:
    notice = _map("23-119901-001")
    assert (notice.notice_type, notice.status) == (NoticeType.CORRIGENDUM, NoticeStatus.ACTIVE)
    # 3 March 2023 17:00 local time in Portugal (WET, UTC+0): the CHANGES' new value.
    assert notice.submission_deadline == datetime(2023, 3, 3, 17, 0, tzinfo=UTC)
    assert notice.language == "pt"


@pytest.mark.parametrize(
    ("reception_id", "cited", "relation"),
    [
        ("18-412273-001", "92667-2018", RelationKind.AWARDS),
        ("20-157399-001", "267097-2019", RelationKind.AWARDS),
        ("23-119901-001", "267307-2022", RelationKind.CORRECTS),
    ],
)
def test_ref_notice_joins_the_cited_notices_procedure(
    reception_id: str, cited: str, relation: RelationKind
) -> None:
    # No two samples cite each other, so the link value itself is checked: the cited notice,
    # mapped on its own, would have `europe_ted:<cited>` as both id and procedure_id.
    notice = _map(reception_id)
    assert notice.related == [RelatedNotice(relation=relation, notice_id=f"europe_ted:{cited}")]
    assert notice.procedure_id == f"europe_ted:{cited}"
    assert notice.procedure_match is ProcedureMatch.NOTICE_LINK


@pytest.mark.parametrize(
    ("day", "clock", "country", "expected"),
    [
        ("2023-03-03", "17:00", "PT", datetime(2023, 3, 3, 17, 0, tzinfo=UTC)),
        ("2023-03-03", "17:00", "EL", datetime(2023, 3, 3, 15, 0, tzinfo=UTC)),
        ("2023-03-03", "17:00", "UK", datetime(2023, 3, 3, 17, 0, tzinfo=UTC)),
        ("2023-03-03", "17:00", None, datetime(2023, 3, 3, 16, 0, tzinfo=UTC)),
        ("2023-03-03", "24:00", "FR", datetime(2023, 3, 3, 23, 0, tzinfo=UTC)),
        ("2023-03-03", "noon", "FR", datetime(2023, 3, 2, 23, 0, tzinfo=UTC)),
        ("0001-01-01", "00:30", "FI", None),
        ("2023-02-30", "12:00", "FR", None),
    ],
)
def test_deadline_is_read_in_the_buyers_local_time(
    day: str, clock: str, country: str | None, expected: datetime | None
) -> None:
    assert deadline(day, clock, country) == expected


def test_notice_citing_none_is_its_own_procedure() -> None:
    notice = _map("21-064844-001")
    assert notice.procedure_id == notice.id == "europe_ted:67028-2021"
    assert notice.procedure_match is ProcedureMatch.OWN


def test_lot_durations_and_dates_are_read_per_lot() -> None:
    payload = (FIXTURES / "europe_ted/r2.0.9/18-412273-001-EXP.xml").read_bytes()
    payload = payload.replace(
        b"<NO_OPTIONS/>",
        b"<DATE_START>2019-01-15</DATE_START><DATE_END>2020-06-30</DATE_END><NO_OPTIONS/>",
        1,
    )
    notice = _map_or_dead_letter(payload)
    assert notice is not None
    assert notice.lots[0].duration == Duration(
        start_date=date(2019, 1, 15), end_date=date(2020, 6, 30)
    )


def test_document_without_title_is_dead_lettered_naming_the_title() -> None:
    payload = (FIXTURES / "europe_ted/r2.0.9/20-155018-001-EXP.xml").read_bytes()
    root = etree.fromstring(payload)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.endswith("}TITLE"):
            element.getparent().remove(element)  # type: ignore[union-attr]
    for element in list(root.iter()):
        if isinstance(element.tag, str) and element.tag.endswith("}ML_TITLES"):
            element.getparent().remove(element)  # type: ignore[union-attr]
    stripped = etree.tostring(root)
    with pytest.raises(PermanentError) as caught:
        map_notice(raw_for(SOURCE, "150025-2020", RawFormat.TED_XML, stripped), stripped)
    assert caught.value.field_path is not None and caught.value.field_path.endswith("TITLE")


def test_not_a_ted_export_is_dead_lettered() -> None:
    with pytest.raises(PermanentError):
        map_notice(raw_for(SOURCE, "1-2020", RawFormat.TED_XML, b"<x/>"), b"<x/>")


VALUES = st.one_of(
    st.text(st.characters(max_codepoint=0xD7FF, exclude_categories=["Cc", "Cs"]), max_size=20),
    st.sampled_from(
        [
            *("20191399", "2019-02-30", "24:00", "99:99", "-5", "1e999", "NaN", "UK", "EL"),
            *("ORIGINAL", "2019/S 040-091489", "0", "X", "MONTH", "12 000,50", "FR", " "),
        ]
    ),
)
"""Arbitrary text, and values that look like the codes, dates and numbers the mapper parses."""


def _mutate(payload: bytes, data: st.DataObject) -> bytes:
    """Delete an element, or replace an element's text or an attribute with arbitrary text."""
    root = etree.fromstring(payload)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    for _ in range(data.draw(st.integers(1, 6))):
        element = data.draw(st.sampled_from(elements))
        action = data.draw(st.sampled_from(["delete", "text", "attribute"]))
        text = data.draw(VALUES)
        parent = element.getparent()
        if action == "delete" and parent is not None:
            parent.remove(element)
            elements = [e for e in root.iter() if isinstance(e.tag, str)]
        elif action == "text":
            element.text = text
        elif element.attrib:
            element.set(data.draw(st.sampled_from(sorted(element.attrib))), text)
    return etree.tostring(root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLES), data=st.data())
def test_mutated_documents_map_or_dead_letter(sample: Path, data: st.DataObject) -> None:
    _map_or_dead_letter(_mutate(sample.read_bytes(), data))


@settings(max_examples=40, deadline=None)
@given(sample=st.sampled_from(SAMPLES), cut=st.floats(0, 1), junk=st.binary(max_size=8))
def test_truncated_documents_map_or_dead_letter(sample: Path, cut: float, junk: bytes) -> None:
    payload = sample.read_bytes()
    assert _map_or_dead_letter(payload[: int(len(payload) * cut)] + junk) is None or cut > 0.99
