"""DECP mappers (2019 and 2024, JSON and XML): goldens, key values, all real contracts, fuzz."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.decp import (
    map_decp_2019_json,
    map_decp_2019_xml,
    map_decp_2024_json,
    map_decp_2024_xml,
)
from scope_normalizer.formats.decp.record import from_xml
from scope_shared.bus.consumer import PERMANENT_ERRORS
from scope_shared.documents import DocumentItem
from scope_shared.documents.decp import iter_decp_json, iter_decp_xml
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
from tests.support.golden import FIXTURES, assert_matches_golden, raw_for
from tests.support.mutations import json_paths, replace_at

DECP = FIXTURES / "france_decp"
SOURCE = "france_decp"
MAPPERS = {
    RawFormat.DECP_2019_JSON: map_decp_2019_json,
    RawFormat.DECP_2019_XML: map_decp_2019_xml,
    RawFormat.DECP_2024_JSON: map_decp_2024_json,
    RawFormat.DECP_2024_XML: map_decp_2024_xml,
}


@cache
def items(relative: str) -> tuple[DocumentItem, ...]:
    split = iter_decp_xml if relative.endswith(".xml") else iter_decp_json
    with (DECP / relative).open("rb") as stream:
        return tuple(split(stream))


def map_item(item: DocumentItem) -> Notice:
    notice = MAPPERS[item.format](
        raw_for(SOURCE, item.source_id, item.format, item.payload), item.payload
    )
    # What the normalizer publishes must decode under the schema's constraints.
    return msgspec.json.decode(msgspec.json.encode(notice), type=Notice)


def mapped(relative: str, index: int = 0) -> Notice:
    return map_item(items(relative)[index])


OFFICIAL = [
    ("v1.5-2019/cc-basique.json", 1),
    ("v1.5-2019/mar-avec-modifications.json", 1),
    ("v1.5-2019/mar-basique-avec-uid.json", 1),
    ("v1.5-2019/paquet.json", 2),
    ("v1.5-2019/mar-avec-modifications.xml", 1),
    ("v1.5-2019/paquet.xml", 4),
    ("v2-2024/concessions_avec_modifications.json", 2),
    ("v2-2024/marches_avec_modifications.json", 2),
    ("v2-2024/marches_concessions.json", 4),
    ("v2-2024/Contrat-concession-modification.xml", 2),
    ("v2-2024/Marche.xml", 2),
]
E_MARCHES = "real-2019/e-marchespublics.json"
MPI = "real-2019/marches-publics.info_extract.json"
REAL = [
    (E_MARCHES, [0, 11, 20, 56, 94, 95, 132, 150, 304, 339, 404]),
    (MPI, [0, 3, 6, 15, 19, 30, 37, 50, 55, 58]),
]


def _golden_cases() -> list[tuple[str, int, str]]:
    cases = []
    for relative, count in OFFICIAL:
        stem = relative.rsplit("/", 1)[1].rsplit(".", 1)[0]
        cases += [(relative, i, stem if count == 1 else f"{stem}_{i + 1}") for i in range(count)]
    for relative, indexes in REAL:
        stem = relative.rsplit("/", 1)[1].rsplit(".", 1)[0].removesuffix("_extract")
        cases += [(relative, i, f"{stem}_{i:03d}") for i in indexes]
    return cases


@pytest.mark.parametrize(("relative", "index", "name"), _golden_cases())
def test_contract_matches_its_reviewed_golden(relative: str, index: int, name: str) -> None:
    item = items(relative)[index]
    assert_matches_golden(map_item(item), f"{item.format.value}/{name}")


def test_every_decp_format_is_registered() -> None:
    assert {fmt: FORMATS[fmt] for fmt in MAPPERS} == MAPPERS


# --- key values, official examples -----------------------------------------------------------


def test_2019_marche_with_modifications_maps_award_and_changes() -> None:
    notice = mapped("v1.5-2019/mar-avec-modifications.json")
    assert notice.id == "france_decp:213502388000192010345211201"
    assert notice.notice_type is NoticeType.CONTRACT_DATA
    assert notice.status is NoticeStatus.COMPLETE
    assert notice.procedure_id == "buyer_contract_id:21350238800019:2010345211201"
    assert notice.procedure_match is ProcedureMatch.BUYER_CONTRACT_ID
    assert notice.framework_agreement is True
    assert notice.procedure_type is ProcedureType.NEGOTIATED_WITHOUT_CALL
    assert notice.contract_nature is ContractNature.SERVICES  # CPV 77313000, division 77
    assert notice.published_at == datetime(2007, 8, 18, 22, 0, tzinfo=UTC)
    (award,) = notice.awards
    assert award.date == datetime(2007, 8, 12, 22, 0, tzinfo=UTC)
    assert award.value is not None and award.value.amount == Decimal(127000)
    assert [(w.siret, w.identifier.scheme if w.identifier else None) for w in award.winners] == [
        ("81223113200026", "SIRET"),
        (None, "TVA"),
    ]
    assert award.winners[1].country == "DE"
    (change,) = notice.modifications
    assert change.date == datetime(2008, 7, 19, 22, 0, tzinfo=UTC)
    assert [w.name for w in change.winners] == ["Garami SARL", "Amandier SA"]
    assert notice.place is not None and notice.place.departments == ["35"]


def test_2019_xml_maps_like_the_same_contract_in_json() -> None:
    from_json = mapped("v1.5-2019/paquet.json", 0)
    from_xml_ = mapped("v1.5-2019/paquet.xml", 2)
    assert msgspec.structs.replace(from_xml_, raw_sha256=from_json.raw_sha256) == from_json


def test_2019_xml_modifications_carry_duration_and_winners() -> None:
    notice = mapped("v1.5-2019/mar-avec-modifications.xml")
    assert len(notice.modifications) == 3
    assert notice.modifications[1].duration is not None
    assert notice.modifications[1].duration.value == 30
    jullie = notice.modifications[2].winners[1]
    assert jullie.identifier is not None and jullie.identifier.id == "87845484200015"
    assert jullie.siret is None  # the example's number fails the Luhn check


def test_2019_concession_maps_signature_value_and_start() -> None:
    notice = mapped("v1.5-2019/cc-basique.json")
    assert notice.source_notice_type == "contrat-concession"
    assert notice.procedure_type is ProcedureType.CONCESSION
    assert notice.procedure_label == "Procédure négociée restreinte"
    assert notice.contract_nature is ContractNature.WORKS
    assert notice.published_at == datetime(2001, 2, 20, 22, 0, tzinfo=UTC)
    assert notice.duration is not None
    assert (notice.duration.value, notice.duration.start_date) == (360, date(2001, 2, 21))
    (award,) = notice.awards
    assert award.value is not None and award.value.amount == Decimal(27860000)
    assert award.winners[0].name == "Atlas SAS"
    assert notice.place is not None and notice.place.departments == ["12"]


def test_2024_marche_reads_wrapped_lists_offers_and_considerations() -> None:
    notice = mapped("v2-2024/marches_avec_modifications.json")
    # The example's buyer number fails the Luhn check: kept as its identifier, no SIRET.
    assert notice.buyer is not None and notice.buyer.siret is None
    assert notice.buyer.name == "21750001630066"
    assert notice.framework_agreement is True  # techniques: Accord-cadre
    assert notice.procedure_type is ProcedureType.OPEN
    assert notice.cpv_main == "45000000"
    assert notice.contract_nature is ContractNature.WORKS
    assert notice.considerations == ["sociaux", "environnementaux"]
    (award,) = notice.awards
    assert award.offers_received == 4
    assert award.winners[0].siret == "55204599900869"
    assert award.winners[0].name is None
    (change,) = notice.modifications
    assert change.value is not None and change.value.amount == Decimal("123457.87")
    assert change.winners[0].siret is None  # `868768687576575`: 15 digits
    assert change.winners[0].identifier is not None
    assert change.winners[0].identifier.id == "868768687576575"
    assert notice.related[0].relation is RelationKind.FOLLOWS
    assert notice.related[0].notice_id == "france_decp:217500016300661234567890"


def test_2024_concession_keeps_exact_decimals() -> None:
    notice = mapped("v2-2024/concessions_avec_modifications.json")
    assert notice.awards[0].value is not None
    assert notice.awards[0].value.amount == Decimal("10.3")
    assert notice.modifications[0].value is not None
    assert notice.modifications[0].value.amount == Decimal("25.0")
    assert notice.modifications[0].date == datetime(2023, 4, 18, 22, 0, tzinfo=UTC)
    assert notice.buyer is not None and notice.buyer.siret is None  # fictitious SIRET
    assert notice.buyer.identifier is not None
    assert notice.buyer.identifier.id == "12345678901250"


def test_2024_xml_is_read_into_the_2024_json_shape() -> None:
    contract = from_xml(items("v2-2024/Marche.xml")[0].payload, wrapped=True)
    assert contract.record.titulaires == [
        {"titulaire": {"id": "55204599900869", "typeIdentifiant": "SIRET"}}
    ]
    assert contract.record.considerations_sociales == {
        "considerationSociale": ["Clause sociale", "Critère social"]
    }


def test_2024_xml_marche_maps_booleans_and_counts() -> None:
    notice = mapped("v2-2024/Marche.xml")
    assert notice.framework_agreement is True
    assert notice.awards[0].offers_received == 4
    assert notice.place is not None and notice.place.departments == ["75"]
    assert notice.considerations == ["sociaux", "environnementaux"]


# --- key values, real exports ----------------------------------------------------------------


def test_real_dates_with_offsets_and_cpv_check_digit() -> None:
    notice = mapped(MPI, 15)
    assert notice.source_id == "2174013480001620180001-0200"
    assert notice.cpv_main == "90620000"
    assert notice.published_at == datetime(2019, 2, 3, 23, 0, tzinfo=UTC)
    assert notice.awards[0].date == datetime(2018, 11, 26, 23, 0, tzinfo=UTC)
    assert notice.procedure_id == "buyer_contract_id:21740134800016:20180001-0200"


def test_real_zero_amount_is_not_a_value() -> None:
    notice = mapped(MPI, 0)
    assert notice.awards[0].value is None
    # 20000 is Ajaccio's postal code: Corse-du-Sud, found through La Poste's table.
    assert notice.place is not None and notice.place.departments == ["2A"]


def test_real_concession_with_three_concessionnaires() -> None:
    notice = mapped(MPI, 55)
    assert notice.contract_nature is ContractNature.WORKS
    # SBTPC's published number fails the Luhn check: no SIRET, the number kept as identifier.
    assert [w.siret for w in notice.awards[0].winners] == ["32307800600018", None, "41033585500012"]
    assert notice.awards[0].winners[1].identifier is not None
    assert notice.awards[0].winners[1].identifier.id == "81085034200026"
    assert notice.place is not None and notice.place.departments == ["974"]


def test_real_place_codes_region_arrondissement_commune() -> None:
    region = mapped(E_MARCHES, 11).place
    assert region is not None and (region.regions, region.departments) == (["94"], [])
    arrondissement = mapped(E_MARCHES, 95).place
    assert arrondissement is not None and arrondissement.departments == ["54"]
    commune = mapped(E_MARCHES, 150).place  # a postal code written as Code commune
    assert commune is not None and commune.departments == ["76"]


def test_real_vat_winner_country_from_its_prefix() -> None:
    (winner,) = mapped(E_MARCHES, 94).awards[0].winners
    assert winner.country == "ES"
    assert winner.identifier is not None and winner.identifier.id == "ES B66484189"


@cache
def all_real() -> list[Notice]:
    return [map_item(item) for item in items(E_MARCHES)]


def test_all_real_e_marchespublics_contracts_map() -> None:
    notices = all_real()
    assert len(notices) == 470
    assert sum(1 for n in notices if n.modifications) == 8
    assert sum(len(n.modifications) for n in notices) == 8
    assert sum(1 for n in notices if n.buyer and n.buyer.siret) == 470
    assert sum(1 for n in notices if n.cpv_main) == 470
    assert sum(1 for n in notices if n.awards[0].value) == 470
    assert all(n.place and (n.place.departments or n.place.regions) for n in notices)
    assert all(n.procedure_match is ProcedureMatch.BUYER_CONTRACT_ID for n in notices)
    assert Counter(n.procedure_type for n in notices) == {
        ProcedureType.ADAPTED: 370,
        ProcedureType.OPEN: 79,
        ProcedureType.NEGOTIATED_WITHOUT_CALL: 17,
        ProcedureType.COMPETITIVE_DIALOGUE: 3,
        ProcedureType.RESTRICTED: 1,
    }
    assert Counter(n.framework_agreement for n in notices) == {False: 407, True: 63}


def test_all_real_winners_have_a_valid_siret_or_their_vat() -> None:
    winners = [w for n in all_real() for w in n.awards[0].winners]
    assert len(winners) == 569
    schemes = Counter(w.identifier.scheme for w in winners if w.identifier)
    assert schemes == {"SIRET": 568, "TVA": 1}
    assert sum(1 for w in winners if w.siret) == 568


# --- bad input: map or dead-letter, never crash ----------------------------------------------


def maps_or_dead_letters(fmt: RawFormat, payload: bytes) -> None:
    """A mutated payload maps to a valid notice or raises one of the dead-letter errors."""
    with contextlib.suppress(*PERMANENT_ERRORS):
        map_item(DocumentItem(source_id="fuzz", format=fmt, payload=payload))


FUZZ_SAMPLES = [
    items(E_MARCHES)[304],
    items(MPI)[55],
    items("v2-2024/marches_avec_modifications.json")[0],
    items("v1.5-2019/mar-avec-modifications.xml")[0],
    items("v2-2024/Contrat-concession-modification.xml")[0],
]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("sample", FUZZ_SAMPLES, ids=lambda s: s.format.value)
@FUZZ
@given(data=st.data())
def test_truncated_or_flipped_payload_never_crashes(sample: DocumentItem, data: Any) -> None:
    payload = sample.payload
    cut = data.draw(st.integers(0, len(payload)))
    at = data.draw(st.integers(0, max(len(payload) - 1, 0)))
    byte = data.draw(st.integers(0, 255))
    maps_or_dead_letters(sample.format, payload[:cut])
    maps_or_dead_letters(sample.format, payload[:at] + bytes([byte]) + payload[at + 1 :])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@pytest.mark.parametrize("sample", [s for s in FUZZ_SAMPLES if s.format.value.endswith("json")])
@FUZZ
@given(data=st.data())
def test_json_field_of_any_type_never_crashes(sample: DocumentItem, data: Any) -> None:
    record = msgspec.json.decode(sample.payload)
    path = data.draw(st.sampled_from(json_paths(record)))
    mutated = replace_at(record, path, data.draw(JSON_VALUES))
    maps_or_dead_letters(sample.format, msgspec.json.encode(mutated))


@pytest.mark.parametrize(
    "text",
    ["2018-13-45", "0001-01-01", "2018-10-12+99:00", "20191345", "", "  "],
)
def test_impossible_dates_are_left_out_or_dead_lettered(text: str) -> None:
    record = msgspec.json.decode(items(E_MARCHES)[0].payload)
    record["dateNotification"] = text
    record["modifications"] = [{"dateNotificationModification": text, "montant": 1}]
    notice = map_item(
        DocumentItem(
            source_id="x", format=RawFormat.DECP_2019_JSON, payload=msgspec.json.encode(record)
        )
    )
    assert notice.awards[0].date is None
    assert notice.modifications[0].date is None
    record["datePublicationDonnees"] = text
    with pytest.raises(PermanentError) as caught:
        map_item(
            DocumentItem(
                source_id="x", format=RawFormat.DECP_2019_JSON, payload=msgspec.json.encode(record)
            )
        )
    assert caught.value.field_path == "$.datePublicationDonnees"


def test_contract_without_title_is_dead_lettered() -> None:
    record = msgspec.json.decode(items(E_MARCHES)[0].payload)
    del record["objet"]
    with pytest.raises(PermanentError) as caught:
        map_item(
            DocumentItem(
                source_id="x", format=RawFormat.DECP_2019_JSON, payload=msgspec.json.encode(record)
            )
        )
    assert caught.value.field_path == "$.objet"


def test_xml_that_is_not_a_contract_is_dead_lettered() -> None:
    with pytest.raises(PermanentError):
        map_item(DocumentItem(source_id="x", format=RawFormat.DECP_2019_XML, payload=b"<marches/>"))


def test_mojibake_is_kept_as_published() -> None:
    record = msgspec.json.decode(items(E_MARCHES)[0].payload)
    record["objet"] = "Fourniture de mat\ufffdriel \ufffdlectrique"
    record["titulaires"][0]["denominationSociale"] = "SOCI\ufffdT\ufffd"
    payload = msgspec.json.encode(record)
    notice = map_item(DocumentItem(source_id="x", format=RawFormat.DECP_2019_JSON, payload=payload))
    assert notice.title == "Fourniture de mat\ufffdriel \ufffdlectrique"
    assert notice.awards[0].winners[0].name == "SOCI\ufffdT\ufffd"


def test_type_says_marche_even_with_null_concession_fields() -> None:
    """A real marché of e-marchespublics, with the concession keys an export may write null:
    `_type` decides, so its winners, amount and award date are kept."""
    item = items(E_MARCHES)[0]
    record = msgspec.json.decode(item.payload)
    record |= {"concessionnaires": None, "autoriteConcedante": None}
    changed = msgspec.json.encode(record)
    notice = map_decp_2019_json(raw_for(SOURCE, item.source_id, item.format, changed), changed)
    same = msgspec.structs.replace(mapped(E_MARCHES, 0), raw_sha256=notice.raw_sha256)
    assert notice == same
    assert notice.source_notice_type == "marche"
    assert notice.awards[0].winners and notice.awards[0].value is not None


@pytest.mark.parametrize(("commune", "department"), [("98411", "984"), ("98912", "989")])
def test_overseas_collectivities_outside_any_region_are_valid_notices(
    commune: str, department: str
) -> None:
    item = items(E_MARCHES)[0]
    record = msgspec.json.decode(item.payload)
    record["lieuExecution"] = {"code": commune, "typeCode": "Code commune", "nom": "TAAF"}
    changed = msgspec.json.encode(record)
    notice = map_decp_2019_json(raw_for(SOURCE, item.source_id, item.format, changed), changed)
    # Decoded as the indexer and the API decode it: the schema accepts the code.
    decoded = msgspec.json.decode(msgspec.json.encode(notice), type=Notice)
    assert decoded.place is not None
    assert (decoded.place.departments, decoded.place.regions) == ([department], [])
