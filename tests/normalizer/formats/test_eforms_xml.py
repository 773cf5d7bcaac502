"""eForms UBL 2.3 mapper: golden files for every sample, key values, links, bad input."""

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
from scope_normalizer.formats.eforms import map_notice
from scope_shared.bus.consumer import PERMANENT_ERRORS
from scope_shared.documents.eforms import split_eforms
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Amount,
    ContractNature,
    DurationUnit,
    Identifier,
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RawFormat,
    RelatedNotice,
    RelationKind,
)
from tests.support.golden import FIXTURES, assert_matches_golden, raw_for
from tests.support.mutations import prefixed_root

TED = FIXTURES / "europe_ted"
SAMPLES = sorted(TED.glob("eforms-*/*.xml"))
PUBLISHED = TED / "eforms-published"
EXAMPLES = TED / "eforms-sdk-examples"


def map_payload(data: bytes) -> Notice:
    """Split then map, as the harvester and the normalizer do."""
    [item] = split_eforms(data)
    raw = raw_for("europe_ted", item.source_id, RawFormat.EFORMS_XML, data)
    return map_notice(raw, data)


def map_sample(path: Path) -> Notice:
    return map_payload(path.read_bytes())


def assert_maps_or_dead_letters(data: bytes) -> None:
    """The payload maps to a schema-valid Notice, or fails with a dead-letter error."""
    try:
        notice = map_payload(data)
    except PERMANENT_ERRORS:
        return
    assert msgspec.json.decode(msgspec.json.encode(notice), type=Notice) == notice


@pytest.fixture(scope="module")
def notices() -> dict[str, Notice]:
    return {path.stem: map_sample(path) for path in SAMPLES}


def test_the_mapper_is_registered_for_eforms_xml() -> None:
    assert FORMATS[RawFormat.EFORMS_XML] is map_notice


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_sample_matches_its_reviewed_golden_file(path: Path) -> None:
    assert_matches_golden(map_sample(path), f"eforms_xml/{path.stem}")


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_sample_maps_to_a_schema_valid_notice(path: Path) -> None:
    notice = map_sample(path)
    assert msgspec.json.decode(msgspec.json.encode(notice), type=Notice) == notice


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_a_prefixed_root_maps_like_the_default_namespace_one(path: Path) -> None:
    data = path.read_bytes()
    plain, prefixed = map_payload(data), map_payload(prefixed_root(data))
    assert msgspec.structs.replace(prefixed, raw_sha256=plain.raw_sha256) == plain


def test_french_contract_notice_reads_buyer_siret_lots_and_deadline(
    notices: dict[str, Notice],
) -> None:
    notice = notices["2024-OJS017-00047522"]
    assert notice.id == "europe_ted:47522-2024"
    assert notice.source_url == "https://ted.europa.eu/fr/notice/-/detail/47522-2024"
    assert notice.procedure_id == "contract_folder:240d1ad9-b2d8-45ec-bea9-d11e7a75b28e"
    assert notice.procedure_match is ProcedureMatch.CONTRACT_FOLDER
    assert (notice.notice_type, notice.status) == (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE)
    assert notice.source_notice_type == "cn-standard"
    assert notice.language == "fr"
    assert notice.published_at == datetime(2024, 1, 24, tzinfo=UTC)
    buyer = notice.buyer
    assert buyer is not None
    assert (buyer.siret, buyer.siren) == ("20003441100013", "200034411")
    assert buyer.identifier == Identifier(scheme="SIRET", id="20003441100013")
    assert (buyer.postal_code, buyer.city, buyer.department, buyer.region) == (
        "30260",
        "Quissac",
        "30",
        "76",
    )
    assert (notice.cpv_main, notice.cpv_additional) == ("90511100", ["90511400"])
    assert [lot.id for lot in notice.lots] == ["LOT-0001", "LOT-0002"]
    assert [lot.cpv_main for lot in notice.lots] == ["90511100", "90511400"]
    # BT-131 `2024-02-28+02:00` `12:00:00+02:00`.
    assert notice.submission_deadline == datetime(2024, 2, 28, 10, 0, tzinfo=UTC)
    assert notice.framework_agreement is True  # fa-wo-rc on both lots
    assert (notice.procedure_type, notice.procedure_label) == (ProcedureType.OPEN, "Ouverte")
    assert notice.contract_nature is ContractNature.SERVICES
    assert notice.tender_url == notice.documents_url == "https://www.achatpublic.com"
    assert notice.conditions is not None
    assert notice.conditions.startswith("Une lettre de candidature")


def test_estonian_notice_keeps_its_language_value_and_duration(
    notices: dict[str, Notice],
) -> None:
    notice = notices["2023-OJS153-00486429"]
    assert notice.source_id == "486429-2023"
    assert notice.language == "et"
    assert notice.title == "IT- ja andmeteadustööd"
    assert notice.estimated_value == Amount(amount=Decimal("20000000.00"), currency="EUR")
    assert notice.duration is not None
    assert (notice.duration.value, notice.duration.unit) == (48, DurationUnit.MONTH)
    # `2023-09-12+03:00` `13:00:00.000+03:00`.
    assert notice.submission_deadline == datetime(2023, 9, 12, 10, 0, tzinfo=UTC)
    assert notice.lots == []  # LOT-0000: not divided into lots
    assert notice.award_criteria == ["Prix (100 pts)"]
    assert notice.buyer is not None
    assert (notice.buyer.country, notice.buyer.siret) == ("EE", None)
    assert notice.buyer.identifier == Identifier(scheme="ORG", id="70006317")


def test_pin_used_as_call_for_competition_is_a_contract_notice_with_interest_deadline(
    notices: dict[str, Notice],
) -> None:
    notice = notices["2024-OJS074-00219998"]
    assert notice.source_notice_type == "pin-cfc-standard"
    assert (notice.notice_type, notice.status) == (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE)
    # BT-630, expressions of interest: `2024-05-13+02:00` `12:00:00+02:00`.
    assert notice.submission_deadline == datetime(2024, 5, 13, 10, 0, tzinfo=UTC)
    assert notice.buyer is not None
    assert (notice.buyer.siret, notice.buyer.department, notice.buyer.region) == (
        "20001865300051",
        "971",
        "01",
    )
    # The title ends in blank lines in the source.
    assert notice.title == (
        "Gestion et Exploitation de la déchetterie intercommunale de Trioncelle Baie-Mahault"
    )


def test_dutch_award_names_winner_value_and_awarded_call(notices: dict[str, Notice]) -> None:
    notice = notices["2024-OJS065-00191536"]
    assert (notice.notice_type, notice.status) == (NoticeType.AWARD, NoticeStatus.COMPLETE)
    assert notice.related == [
        RelatedNotice(relation=RelationKind.AWARDS, notice_id="europe_ted:629133-2023")
    ]
    [award] = notice.awards
    assert award.lot_id is None  # LOT-0000
    assert [w.name for w in award.winners] == ["Hegeman Bouw & Infra B.V."]
    assert award.winners[0].identifier == Identifier(scheme="002", id="70248311")
    assert award.value == Amount(amount=Decimal("3887000.00"), currency="EUR")
    assert award.date == datetime(2024, 2, 13, 23, 0, tzinfo=UTC)  # 2024-02-14+01:00
    assert award.contract_id == "219964"
    assert award.offers_received is None  # only `t-esubm` (3) is given, a subset
    assert notice.estimated_value == Amount(amount=Decimal("7000000"), currency="EUR")


def test_polish_award_splits_one_contract_over_six_lots(notices: dict[str, Notice]) -> None:
    notice = notices["2024-OJS072-00215550"]
    assert len(notice.lots) == 6
    assert [award.lot_id for award in notice.awards] == [f"LOT-000{n}" for n in range(1, 7)]
    assert {w.name for award in notice.awards for w in award.winners} == {"Astrazeneca Kft."}
    values = [award.value.amount for award in notice.awards if award.value]
    assert sum(values) == Decimal("14543415.48")  # BT-161, the notice's total
    assert {award.value.currency for award in notice.awards if award.value} == {"PLN"}
    assert {award.contract_id for award in notice.awards} == {"umowa nr 39/XXII/2023"}
    assert notice.awards[0].winners[0].country == "HU"
    assert len(notice.cpv_additional) == 43  # every BT-263 of the procedure
    assert notice.language == "pl"


def test_french_award_reads_winner_sirens_and_offers(notices: dict[str, Notice]) -> None:
    notice = notices["can_24_FRA_comments"]
    assert [(a.lot_id, a.offers_received) for a in notice.awards] == [
        ("LOT-0001", 3),
        ("LOT-0002", 2),
    ]
    winners = [award.winners[0] for award in notice.awards]
    assert [(w.name, w.siren, w.siret) for w in winners] == [
        ("Espaces Verts Lemire", "326912557", None),
        ("ID Verde SASU", "339609661", None),
    ]
    assert [a.value for a in notice.awards] == [
        Amount(amount=Decimal("95414"), currency="EUR"),
        Amount(amount=Decimal("26500"), currency="EUR"),
    ]
    assert [a.title for a in notice.awards] == ["Agence Centre", "Agence Hauts de Rouen"]
    assert notice.buyer is not None
    assert notice.buyer.siret is None  # `123 456 789` is no SIRET nor SIREN
    assert notice.buyer.identifier == Identifier(scheme="ORG", id="123 456 789")


def test_lots_with_different_criteria_keep_each_lot_s(notices: dict[str, Notice]) -> None:
    notice = notices["cn_24_FRA_comments"]
    assert notice.award_criteria == [
        "LOT-0001: Prix (60 %): Le prix contribue for 60 % …",
        "LOT-0001: Qualité (40 %): La valeur technique participle pour 40 % …",
        "LOT-0002: Prix (60 %): Le prix contribue for 40 % …",
        "LOT-0002: Qualité (40 %): La valeur technique participle pour 60 % …",
    ]
    lot = notice.lots[0]
    assert lot.duration is not None
    assert (lot.duration.start_date, lot.duration.end_date) == (
        date(2019, 9, 1),
        date(2020, 12, 31),
    )
    assert lot.place is not None
    assert (lot.place.nuts, lot.place.departments) == (["FRD22"], ["76"])
    assert notice.submission_deadline == datetime(2019, 6, 24, 16, 0, tzinfo=UTC)


def test_change_notice_is_a_corrigendum_of_the_changed_notice(notices: dict[str, Notice]) -> None:
    notice = notices["change-cn_24_open_dates"]
    assert (notice.notice_type, notice.status) == (NoticeType.CORRIGENDUM, NoticeStatus.ACTIVE)
    assert notice.source_notice_type == "cn-standard"
    # The changed notice is named by UUID (`...-01` is its version): the link resolves
    # through the contract folder, not through this id.
    assert notice.related == [
        RelatedNotice(
            relation=RelationKind.CORRECTS,
            notice_id="europe_ted:c4c415ee-ac08-4465-8fa6-57568cf69462",
        )
    ]
    assert notice.cpv_additional == ["71314100", "50300000", "31600000"]
    assert notice.estimated_value == Amount(amount=Decimal("500000"), currency="EUR")
    assert notice.submission_deadline == datetime(2020, 6, 12, 11, 0, tzinfo=UTC)


def test_contract_modification_modifies_the_published_notice(notices: dict[str, Notice]) -> None:
    notice = notices["can-modif_24_value"]
    assert (notice.notice_type, notice.status) == (NoticeType.MODIFICATION, NoticeStatus.COMPLETE)
    assert notice.related == [
        RelatedNotice(relation=RelationKind.MODIFIES, notice_id="europe_ted:342558-2018")
    ]
    [modification] = notice.modifications
    assert modification.description is not None
    assert modification.description.startswith("Increase in framework value\n")
    assert modification.value == Amount(amount=Decimal("6430000"), currency="GBP")
    assert [w.name for w in modification.winners] == ["PwC UK LLP"]


def test_planning_notice_without_folder_is_its_own_procedure(notices: dict[str, Notice]) -> None:
    notice = notices["pin-only_24"]
    assert (notice.notice_type, notice.status) == (NoticeType.PLANNING, NoticeStatus.PLANNED)
    assert notice.procedure_match is ProcedureMatch.OWN
    assert notice.procedure_id == notice.id
    # PAR-0000 is the undivided part: its CPV joins the procedure's, it makes no lot.
    assert (notice.cpv_main, notice.cpv_additional, notice.lots) == ("72000000", ["50000000"], [])
    assert notice.place is not None
    assert (notice.place.nuts, notice.place.country) == (["DE123"], "DE")


def test_minimal_notice_reads_place_and_framework(notices: dict[str, Notice]) -> None:
    notice = notices["cn_24_minimal"]
    assert notice.framework_agreement is True
    assert notice.place is not None
    assert (notice.place.nuts, notice.place.departments, notice.place.country) == (
        ["FRD22"],
        ["76"],
        "FR",
    )
    assert notice.buyer is not None
    assert (notice.buyer.country, notice.buyer.nuts) == ("LU", "LU000")


def test_notices_of_one_procedure_share_its_contract_folder(notices: dict[str, Notice]) -> None:
    """What the samples hold: the French call and its award share a folder; the change
    notice's folder is its own (the notice it changes is not among the samples)."""
    call, award = notices["cn_24_FRA_comments"], notices["can_24_FRA_comments"]
    assert call.procedure_id == award.procedure_id
    assert call.procedure_id == "contract_folder:e3cdabf1-e057-47a5-9210-b1f6fc757228"
    change = notices["change-cn_24_open_dates"]
    assert change.procedure_id == "contract_folder:31f258b6-5eb2-4875-8997-affa3cdce27c"
    others = {n.procedure_id for stem, n in notices.items() if stem != "change-cn_24_open_dates"}
    assert change.procedure_id not in others


def test_cancelling_change_is_a_cancellation() -> None:
    data = (EXAMPLES / "change-cn_24_open_dates.xml").read_bytes()
    data = data.replace(b">update-add<", b">cancel<")
    notice = map_payload(data)
    assert (notice.notice_type, notice.status) == (NoticeType.CANCELLATION, NoticeStatus.CANCELLED)
    assert [r.relation for r in notice.related] == [RelationKind.CANCELS]


def test_result_without_any_winner_is_unsuccessful() -> None:
    data = (EXAMPLES / "can_24_FRA_comments.xml").read_bytes()
    data = data.replace(b">selec-w<", b">clos-nw<")
    notice = map_payload(data)
    assert (notice.notice_type, notice.status) == (NoticeType.AWARD, NoticeStatus.UNSUCCESSFUL)
    assert notice.awards == []


def test_subtype_decides_the_form_when_the_type_code_has_no_list_name() -> None:
    data = (PUBLISHED / "2023-OJS153-00486429.xml").read_bytes()
    data = data.replace(b'listName="competition">cn-standard<', b">unknown-type<")
    notice = map_payload(data)
    assert notice.notice_type is NoticeType.CONTRACT_NOTICE  # subtype 16
    assert notice.source_notice_type == "unknown-type"


def test_business_registration_notice_is_dead_lettered() -> None:
    data = (EXAMPLES / "cn_24_minimal.xml").read_bytes()
    data = data.replace(b'listName="competition">cn-standard<', b'listName="bri">brin-ecs<')
    with pytest.raises(PermanentError) as raised:
        map_payload(data)
    assert raised.value.field_path == "/cbc:NoticeTypeCode"


def test_notice_without_any_title_is_dead_lettered() -> None:
    root = etree.fromstring((EXAMPLES / "cn_24_minimal.xml").read_bytes())
    cbc = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
    for name in root.iter(f"{cbc}Name"):
        if name.get("languageID"):
            name.text = " "
    with pytest.raises(PermanentError) as raised:
        map_payload(etree.tostring(root))
    assert raised.value.field_path == "/cac:ProcurementProject/cbc:Name"


def test_not_xml_is_dead_lettered() -> None:
    raw = raw_for("europe_ted", "x-01", RawFormat.EFORMS_XML, b"<ContractNotice>")
    with pytest.raises(PermanentError):
        map_notice(raw, b"<ContractNotice>")


ODD_VALUES = st.sampled_from(
    [
        "",
        " ",
        "2023-13-45Z",
        "2023-02-30+01:00",
        "0001-01-01-14:00",
        "9999-12-31+14:00",
        "25:61:00+99:00",
        "-5",
        "1e999999",
        "NaN",
        "12.5",
        "LOT-0000",
        "ORG-0001",
        "TEN-0001",
        "CON-0001",
        "fr",
        "ÀÉ",
        "frd22",
        "FRA",
        "XX",
        "cancel",
        "clos-nw",
        "<b>x</b>",
        "&amp;",
        "٣",
        "²",
    ]
) | st.text(max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLES), pick=st.integers(min_value=0), value=ODD_VALUES)
def test_odd_values_anywhere_map_or_dead_letter(sample: Path, pick: int, value: str) -> None:
    root = etree.fromstring(sample.read_bytes())
    nodes = [node for node in root.iter() if isinstance(node.tag, str)]
    node = nodes[pick % len(nodes)]
    clean = "".join(ch for ch in value if ch.isprintable() and ch not in "\x00\ufffe\uffff")
    node.text = clean
    for attribute in ("currencyID", "unitCode", "listName", "schemeName", "languageID"):
        if node.get(attribute) is not None:
            node.set(attribute, clean)
    assert_maps_or_dead_letters(etree.tostring(root))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLES), pick=st.integers(min_value=0))
def test_removed_elements_map_or_dead_letter(sample: Path, pick: int) -> None:
    root = etree.fromstring(sample.read_bytes())
    nodes = [node for node in root.iter() if isinstance(node.tag, str) and node is not root]
    node = nodes[pick % len(nodes)]
    parent = node.getparent()
    assert parent is not None
    parent.remove(node)
    assert_maps_or_dead_letters(etree.tostring(root))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.floats(min_value=0, max_value=1),
    junk=st.binary(max_size=6),
)
def test_damaged_bytes_map_or_dead_letter(sample: Path, cut: float, junk: bytes) -> None:
    data = sample.read_bytes()
    position = int(len(data) * cut)
    assert_maps_or_dead_letters(data[:position] + junk + data[position + len(junk) :])
