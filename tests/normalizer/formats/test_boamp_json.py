"""BOAMP Opendatasoft records (`RawFormat.BOAMP_JSON`) on the 5 real FNSimple records of 2026."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.boamp_json import map_notice
from scope_normalizer.formats.boamp_xml import map_notice as map_xml
from scope_normalizer.values.boamp_tree import element_to_tree
from scope_shared.documents.boamp import split_records
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    ContractNature,
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RawFormat,
    RelationKind,
)
from tests.support.golden import FIXTURES, assert_matches_golden, map_or_dead_letter, raw_for
from tests.support.mutations import json_paths, replace_at

SAMPLE = FIXTURES / "france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
XML_SAMPLES = sorted((FIXTURES / "france_boamp/dila-xml").glob("*.xml"))
SOURCE = "france_boamp"


def _map_or_dead_letter(payload: bytes) -> Notice | None:
    raw = raw_for(SOURCE, "26-0001", RawFormat.BOAMP_JSON, payload)
    return map_or_dead_letter(map_notice, raw, payload)


def _records() -> dict[str, dict[str, Any]]:
    page = msgspec.json.decode(SAMPLE.read_bytes())
    return {record["idweb"]: record for record in page["results"]}


RECORDS = _records()


def legacy_record(path: Path) -> dict[str, Any]:
    """A legacy (Boamp_v230) record as Opendatasoft builds it, from a real DILA XML notice.

    No real legacy record is stored: `gestion`/`donnees` are the JSON strings of the notice's
    GESTION/DONNEES trees, in the shape Opendatasoft uses (see `values.boamp_tree`).
    """
    tree = element_to_tree(etree.fromstring(path.read_bytes()))
    return {
        "idweb": tree["GESTION"]["REFERENCE"]["IDWEB"],
        "gestion": msgspec.json.encode(tree["GESTION"]).decode(),
        "donnees": msgspec.json.encode(tree["DONNEES"]).decode(),
    }


LEGACY_RECORDS = [legacy_record(path) for path in XML_SAMPLES]


def _map(idweb: str, record: dict[str, Any] | None = None) -> Notice:
    payload = msgspec.json.encode(record if record is not None else RECORDS[idweb])
    return map_notice(raw_for(SOURCE, idweb, RawFormat.BOAMP_JSON, payload), payload)


@pytest.mark.parametrize(
    "item", list(split_records(SAMPLE.read_bytes())), ids=lambda i: i.source_id
)
def test_record_matches_reviewed_golden(item: Any) -> None:
    raw = raw_for(SOURCE, item.source_id, RawFormat.BOAMP_JSON, item.payload)
    assert_matches_golden(map_notice(raw, item.payload), f"boamp_json/{item.source_id}")


def test_boamp_json_is_registered() -> None:
    assert FORMATS[RawFormat.BOAMP_JSON] is map_notice


def test_fnsimple_record_maps_identity_buyer_and_dates_in_utc() -> None:
    notice = _map("26-7298")
    assert notice.id == "france_boamp:26-7298"
    assert notice.source_url == "https://www.boamp.fr/pages/avis/?q=idweb:26-7298"
    assert notice.notice_type is NoticeType.CONTRACT_NOTICE
    assert notice.status is NoticeStatus.ACTIVE
    assert notice.source_notice_type == "APPEL_OFFRE"
    assert notice.published_at == datetime(2026, 1, 20, 23, 0, tzinfo=UTC)
    # gestion and donnees say 12:00+01:00; the record's "12:00+00:00" is local time mislabelled.
    assert notice.submission_deadline == datetime(2026, 2, 16, 11, 0, tzinfo=UTC)
    assert notice.buyer is not None
    assert notice.buyer.siret == "21590368300013"
    assert notice.buyer.siren == "215903683"
    assert (notice.buyer.postal_code, notice.buyer.department, notice.buyer.region) == (
        "59110",
        "59",
        "32",
    )
    assert notice.buyer.email == "service-achats@ville-lamadeleine.fr"
    assert notice.language == "fr"


def test_fnsimple_adapted_procedure_wins_over_the_record_label() -> None:
    notice = _map("26-7298")
    assert notice.procedure_type is ProcedureType.ADAPTED
    assert notice.procedure_label == "Procédure adaptée ouverte"
    assert notice.framework_agreement is True
    assert notice.contract_nature is ContractNature.WORKS
    assert notice.duration is not None and notice.duration.value == 12
    assert notice.documents_url is not None
    assert notice.documents_url.startswith("https://marchespublics596280.fr/")


def test_fnsimple_cpv_is_read_and_descriptors_are_not() -> None:
    notice = _map("26-7298")
    assert notice.cpv_main == "45432111"
    assert notice.cpv_additional == []
    assert "264" not in notice.cpv_additional


def test_deadline_without_offset_is_french_local_time() -> None:
    notice = _map("26-7308")
    assert notice.submission_deadline == datetime(2026, 2, 27, 11, 0, tzinfo=UTC)
    millis = _map("26-7113")
    assert millis.submission_deadline == datetime(2026, 2, 20, 10, 0, tzinfo=UTC)


def test_lots_with_numbered_descriptions_keep_their_numbers() -> None:
    notice = _map("26-7319")
    assert [lot.id for lot in notice.lots] == ["2", "5"]
    assert [lot.cpv_main for lot in notice.lots] == ["45410000", "45421000"]
    assert all(lot.estimated_value is None for lot in notice.lots), "0.00 is not a budget"
    assert notice.lots[0].place is not None
    assert notice.lots[0].place.departments == ["74"]


def test_seven_lots_range_estimate_and_considerations() -> None:
    notice = _map("26-7308")
    assert [lot.id for lot in notice.lots] == ["1", "2", "3", "4", "5", "6", "7"]
    assert notice.estimated_value is not None
    assert notice.estimated_value.amount == Decimal("75000")
    assert notice.considerations == ["sociaux", "environnementaux"]
    assert notice.buyer is not None and notice.buyer.siret == "90209799700016"


def test_unnumbered_lots_are_numbered_in_order_and_profile_url_is_tender_url() -> None:
    notice = _map("26-7113")
    assert [lot.id for lot in notice.lots] == ["1", "2", "3", "4"]
    assert notice.lots[1].title == "TOITURE"
    assert notice.tender_url is not None and "marches-publics.gouv.fr" in notice.tender_url
    assert notice.documents_url is None
    assert notice.place is not None and notice.place.departments == ["52"]


def test_award_record_links_to_its_call_and_reads_titulaire() -> None:
    record = dict(RECORDS["26-7109"], nature="ATTRIBUTION", annonce_lie=["25-99999", "26-100"])
    record["gestion"] = str(record["gestion"]).replace("APPEL_OFFRE", "ATTRIBUTION")
    record["titulaire"] = ["CABINET EXEMPLE"]
    notice = _map("26-7109", record)
    assert notice.notice_type is NoticeType.AWARD
    assert notice.status is NoticeStatus.COMPLETE
    assert [r.relation for r in notice.related] == [RelationKind.AWARDS, RelationKind.AWARDS]
    assert notice.procedure_id == "france_boamp:25-99999"
    assert notice.procedure_match is ProcedureMatch.NOTICE_LINK
    assert [w.name for w in notice.awards[0].winners] == ["CABINET EXEMPLE"]


def test_cancelled_record_cancels_the_linked_notice() -> None:
    record = dict(RECORDS["26-7109"], etat="AVIS_ANNULE", annonce_lie=["26-1"])
    notice = _map("26-7109", record)
    assert (notice.notice_type, notice.status) == (
        NoticeType.CANCELLATION,
        NoticeStatus.CANCELLED,
    )
    assert [(r.relation, r.notice_id) for r in notice.related] == [
        (RelationKind.CANCELS, "france_boamp:26-1")
    ]


def test_contract_folder_is_the_procedure_key() -> None:
    folder = "0A1B2C3D-0000-4000-8000-00000000ABCD"
    record = dict(RECORDS["26-7109"], contractfolderid=folder, annonce_lie=["26-1"])
    notice = _map("26-7109", record)
    assert notice.procedure_id == f"contract_folder:{folder.lower()}"
    assert notice.procedure_match is ProcedureMatch.CONTRACT_FOLDER


def test_eforms_body_maps_the_record_fields_only() -> None:
    record = dict(RECORDS["26-7109"], donnees='{"EFORMS": {"ContractNotice": {}}}')
    notice = _map("26-7109", record)
    assert notice.title.startswith("Marché Public Relatif")
    assert notice.buyer is not None and notice.buyer.name == "Spl Levaparc"
    assert notice.buyer.siret is None
    assert notice.procedure_type is ProcedureType.OPEN
    assert notice.procedure_label == "Procédure Ouverte"
    # gestion's local time (no offset: French time) wins over the record's mislabelled UTC.
    assert notice.submission_deadline == datetime(2026, 3, 6, 11, 0, tzinfo=UTC)
    bare = _map("26-7109", dict(record, gestion=None))
    assert bare.submission_deadline == datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


def test_unreadable_donnees_is_skipped_not_fatal() -> None:
    record = dict(RECORDS["26-7298"], donnees="{not json")
    notice = _map("26-7298", record)
    assert notice.title == "TRAVAUX D'AMENAGEMENTS INTERIEURS ET EXTERIEURS"
    assert notice.cpv_main is None


def test_record_without_title_is_dead_lettered_with_its_path() -> None:
    record = {"idweb": "26-1", "dateparution": "2026-01-21"}
    with pytest.raises(PermanentError) as caught:
        _map("26-1", record)
    assert caught.value.field_path == "$.objet"


def test_non_object_payload_is_dead_lettered() -> None:
    with pytest.raises(PermanentError):
        map_notice(raw_for(SOURCE, "26-1", RawFormat.BOAMP_JSON, b"[]"), b"[]")


@pytest.mark.parametrize("path", XML_SAMPLES, ids=lambda p: p.stem)
def test_legacy_json_record_maps_like_the_same_notice_in_xml(path: Path) -> None:
    """Opendatasoft publishes legacy notices as the XML tree in JSON; both mappers must agree."""
    data = path.read_bytes()
    record = legacy_record(path)
    idweb = record["idweb"]
    from_json = _map(idweb, record)
    from_xml = map_xml(raw_for(SOURCE, idweb, RawFormat.BOAMP_XML, data), data)
    ignored = {"raw_sha256"}
    assert {k: v for k, v in msgspec.to_builtins(from_json).items() if k not in ignored} == {
        k: v for k, v in msgspec.to_builtins(from_xml).items() if k not in ignored
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    """A record (real FNSimple, or legacy built from real XML) with a few values replaced
    anywhere, inside `donnees` and `gestion` too."""
    record = dict(draw(st.sampled_from([*RECORDS.values(), *LEGACY_RECORDS])))
    for key in ("donnees", "gestion"):
        record[key] = msgspec.json.decode(record[key])
    for _ in range(draw(st.integers(1, 4))):
        paths = json_paths(record)
        record = replace_at(record, draw(st.sampled_from(paths)), draw(json_values))
    for key in ("donnees", "gestion"):
        if draw(st.booleans()):
            record[key] = msgspec.json.encode(record[key]).decode()
    return msgspec.json.encode(record)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=mutated_records())
def test_mutated_records_map_or_dead_letter(payload: bytes) -> None:
    notice = _map_or_dead_letter(payload)
    assert notice is None or notice.title


@settings(max_examples=60, deadline=None)
@given(record=st.sampled_from(list(RECORDS.values())), cut=st.integers(0, 4000))
def test_truncated_records_map_or_dead_letter(record: dict[str, Any], cut: int) -> None:
    payload = msgspec.json.encode(record)
    notice = _map_or_dead_letter(payload[:cut])
    assert notice is None or cut >= len(payload)
