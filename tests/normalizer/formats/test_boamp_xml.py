"""DILA BOAMP notice XML (`RawFormat.BOAMP_XML`) on the 5 real notices of 2016-2017."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.boamp_xml import map_notice
from scope_normalizer.values.boamp_tree import element_to_tree
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    ContractNature,
    DurationUnit,
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RawFormat,
    RelationKind,
)
from tests.support.golden import FIXTURES, assert_matches_golden, map_or_dead_letter, raw_for

SAMPLES = {p.stem: p for p in sorted((FIXTURES / "france_boamp/dila-xml").glob("*.xml"))}


def _map(stem: str, data: bytes | None = None) -> Notice:
    payload = data if data is not None else SAMPLES[stem].read_bytes()
    idweb = stem.split("_", 1)[0]
    return map_notice(raw_for("france_boamp", idweb, RawFormat.BOAMP_XML, payload), payload)


def _map_or_dead_letter(payload: bytes) -> Notice | None:
    raw = raw_for("france_boamp", "26-0001", RawFormat.BOAMP_XML, payload)
    return map_or_dead_letter(map_notice, raw, payload)


@pytest.mark.parametrize("path", SAMPLES.values(), ids=lambda p: p.stem)
def test_notice_matches_reviewed_golden(path: Path) -> None:
    assert_matches_golden(_map(path.stem), f"boamp_xml/{path.stem}")


def test_boamp_xml_is_registered() -> None:
    assert FORMATS[RawFormat.BOAMP_XML] is map_notice


def test_mapa_award_awards_its_call_with_value_and_date() -> None:
    notice = _map("16-138580_MAPA_ATTRIBUTION")
    assert (notice.notice_type, notice.status) == (NoticeType.AWARD, NoticeStatus.COMPLETE)
    assert notice.source_notice_type == "ATTRIBUTION"
    assert [(r.relation, r.notice_id) for r in notice.related] == [
        (RelationKind.AWARDS, "france_boamp:16-119846")
    ]
    assert notice.procedure_id == "france_boamp:16-119846"
    assert notice.procedure_match is ProcedureMatch.NOTICE_LINK
    assert notice.procedure_type is ProcedureType.ADAPTED
    [award] = notice.awards
    assert award.value is not None and award.value.amount == Decimal("38820")
    assert award.date == datetime(2017, 2, 5, 23, 0, tzinfo=UTC)
    assert [w.name for w in award.winners] == ["SARL ENVIRONNEMENT & SOLUTIONS"]
    assert notice.published_at == datetime(2017, 2, 13, 23, 0, tzinfo=UTC)
    assert notice.award_criteria[0] == (
        "valeur technique et qualitative de l'étude (pondération 60)"
    )


def test_joue_call_with_two_lots_framework_and_deadline() -> None:
    notice = _map("16-186394_JOUE_APPEL_OFFRE")
    assert (notice.notice_type, notice.status) == (
        NoticeType.CONTRACT_NOTICE,
        NoticeStatus.ACTIVE,
    )
    assert notice.source_notice_type == "APPEL_OFFRE/STANDARD"
    assert notice.procedure_type is ProcedureType.OPEN
    assert notice.framework_agreement is True
    assert notice.cpv_main == "50118110"
    assert [lot.id for lot in notice.lots] == ["1", "2"]
    assert notice.lots[0].duration is not None
    assert (notice.lots[0].duration.value, notice.lots[0].duration.unit) == (12, DurationUnit.MONTH)
    assert notice.duration == notice.lots[0].duration
    assert notice.submission_deadline == datetime(2017, 2, 7, 11, 0, tzinfo=UTC)
    assert notice.buyer is not None and notice.buyer.nuts == "FR101"
    assert notice.considerations == ["environnementaux"]
    assert notice.tender_url == "https://marches.maximilien.fr"


def test_fns_call_reads_place_duration_and_documents_address() -> None:
    notice = _map("16-652_FNS_APPEL_OFFRE")
    assert notice.cpv_main == "79625000"
    assert notice.place is not None
    assert (notice.place.nuts, notice.place.departments) == (["FR715"], ["42"])
    assert notice.duration is not None and notice.duration.value == 34
    assert notice.documents_url is not None and "PCSLID=CSL_2016_lXSMZ9P7PH" in notice.documents_url
    assert notice.framework_agreement is False
    assert notice.conditions is not None and notice.conditions.count("\n") == 12
    assert notice.submission_deadline == datetime(2016, 1, 25, 15, 0, tzinfo=UTC)


def test_dsp_call_is_a_concession_and_its_single_lot_is_lifted() -> None:
    notice = _map("17-22464_DSP_APPEL_OFFRE")
    assert notice.procedure_type is ProcedureType.CONCESSION
    assert notice.contract_nature is ContractNature.SERVICES
    assert notice.lots == []
    assert notice.estimated_value is not None
    assert notice.estimated_value.amount == Decimal("3113000")
    assert notice.duration is not None and notice.duration.value == 84
    assert notice.cpv_main == "09000000"
    assert notice.award_criteria == [
        "conditions financières proposées",
        "qualité du service",
        "risques supportés et garanties apportées",
    ]
    assert notice.place is not None and notice.place.departments == ["11"]


def test_joue_award_has_one_award_per_awarded_lot() -> None:
    notice = _map("17-2599_JOUE_ATTRIBUTION")
    assert len(notice.lots) == 21
    assert len(notice.awards) == 18
    assert {"9", "13", "19"}.isdisjoint(a.lot_id for a in notice.awards)
    first = notice.awards[0]
    assert (first.lot_id, first.offers_received, first.title) == (
        "1",
        3,
        "surgelés viande poisson légumes",
    )
    assert first.value is not None and first.value.amount == Decimal("130000")
    assert first.winners[0].name == "Brake France Service"
    assert first.winners[0].country == "FR"
    assert notice.buyer is not None and notice.buyer.siret == "26830066200015"
    assert notice.estimated_value is None, "VALEUR_MIN/MAX of an award are offers, not estimates"
    assert notice.related[0].relation is RelationKind.AWARDS
    assert notice.procedure_id == "france_boamp:16-107438"


def test_award_whose_every_lot_failed_is_unsuccessful() -> None:
    data = SAMPLES["17-2599_JOUE_ATTRIBUTION"].read_bytes()
    root = etree.fromstring(data)
    for decision in root.iter("DECISION"):
        for child in list(decision):
            if child.tag in ("ATTRIBUE", "TITULAIRE", "RENSEIGNEMENT"):
                decision.remove(child)
        decision.insert(0, etree.Element("INFRUCTUEUX"))
    notice = _map("17-2599_JOUE_ATTRIBUTION", etree.tostring(root))
    assert (notice.notice_type, notice.status) == (NoticeType.AWARD, NoticeStatus.UNSUCCESSFUL)
    assert notice.awards == []


def test_rectificatif_statut_makes_a_corrigendum_that_corrects() -> None:
    data = SAMPLES["17-2599_JOUE_ATTRIBUTION"].read_bytes()
    data = data.replace(
        b"<STATUT>\n          <INITIAL/>", b"<STATUT>\n          <RECTIFICATIF/>", 1
    )
    notice = _map("17-2599_JOUE_ATTRIBUTION", data)
    assert notice.notice_type is NoticeType.CORRIGENDUM
    assert notice.source_notice_type == "RECTIFICATIF:ATTRIBUTION/STANDARD"
    assert notice.related[0].relation is RelationKind.CORRECTS


def test_corrigendum_body_names_the_notice_it_corrects() -> None:
    data = SAMPLES["16-186394_JOUE_APPEL_OFFRE"].read_bytes()
    data = data.replace(b"<INITIAL/>", b"<RECTIFICATIF/>", 1).replace(
        b"</DONNEES>",
        b"<RECTIFICATIF><ANNONCE_ANTERIEUR><REFERENCE><IDWEB>16-170001</IDWEB></REFERENCE>"
        b"</ANNONCE_ANTERIEUR><INFO_COMPLEMENTAIRE>Report de la date limite.</INFO_COMPLEMENTAIRE>"
        b"</RECTIFICATIF></DONNEES>",
    )
    notice = _map("16-186394_JOUE_APPEL_OFFRE", data)
    assert notice.notice_type is NoticeType.CORRIGENDUM
    assert notice.status is NoticeStatus.ACTIVE
    assert [(r.relation, r.notice_id) for r in notice.related] == [
        (RelationKind.CORRECTS, "france_boamp:16-170001")
    ]
    assert notice.procedure_id == "france_boamp:16-170001"


def test_xml_tree_has_the_opendatasoft_json_shape() -> None:
    root = etree.fromstring(
        b'<A><CODE><OUVERT/></CODE><V DEVISE="EUR">12</V><L>1</L><L>2</L><E></E></A>'
    )
    assert element_to_tree(root) == {
        "CODE": {"OUVERT": ""},
        "V": {"@DEVISE": "EUR", "#text": "12"},
        "L": ["1", "2"],
        "E": "",
    }


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (b"<ANNONCE><GESTION>", "/"),
        (b"<OTHER/>", "/"),
        (b"<ANNONCE><GESTION/></ANNONCE>", "/ANNONCE/DONNEES/OBJET/TITRE_MARCHE"),
    ],
)
def test_unusable_xml_is_dead_lettered_with_a_path(payload: bytes, path: str) -> None:
    with pytest.raises(PermanentError) as caught:
        _map("16-1_X", payload)
    assert caught.value.field_path == path


def test_external_entities_are_not_resolved() -> None:
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE ANNONCE [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b"<ANNONCE><GESTION><INDEXATION><DATE_PUBLICATION>2017-01-01</DATE_PUBLICATION>"
        b"<RESUME_OBJET>a&x;</RESUME_OBJET></INDEXATION></GESTION></ANNONCE>"
    )
    notice = _map_or_dead_letter(payload)
    assert notice is None or notice.title == "a"


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str) and e is not root]


@st.composite
def mutated_notices(draw: st.DrawFn) -> bytes:
    """A real notice with elements dropped, texts replaced or elements duplicated."""
    root = etree.fromstring(draw(st.sampled_from(list(SAMPLES.values()))).read_bytes())
    for _ in range(draw(st.integers(1, 5))):
        elements = _elements(root)
        if not elements:
            break
        target = draw(st.sampled_from(elements))
        action = draw(st.sampled_from(["drop", "text", "duplicate"]))
        parent = target.getparent()
        if action == "drop" and parent is not None:
            parent.remove(target)
        elif action == "text":
            target.text = draw(
                st.text(max_size=20).filter(lambda t: all(c.isprintable() for c in t))
            )
        elif parent is not None:
            parent.append(etree.fromstring(etree.tostring(target)))
    return etree.tostring(root)


@settings(max_examples=60, deadline=None)
@given(payload=mutated_notices())
def test_mutated_notices_map_or_dead_letter(payload: bytes) -> None:
    notice = _map_or_dead_letter(payload)
    assert notice is None or notice.title


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(list(SAMPLES.values())), cut=st.integers(0, 40000))
def test_truncated_notices_map_or_dead_letter(path: Path, cut: int) -> None:
    data = path.read_bytes()
    notice = _map_or_dead_letter(data[:cut])
    assert notice is None or cut >= len(data.rstrip())
