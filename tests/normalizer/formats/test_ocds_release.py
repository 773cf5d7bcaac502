"""OCDS release mapper: golden files for every release of every sample, key values, the DECP
conversion checked against its DECP source, rules on derived releases, and bad input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.ocds_release import map_notice
from scope_shared.bus.consumer import PERMANENT_ERRORS
from scope_shared.documents import DocumentItem
from scope_shared.documents.ocds import split_package
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
    RelatedNotice,
    RelationKind,
)
from tests.support.golden import FIXTURES, GOLDEN_DIR, assert_matches_golden, raw_for

OCDS = FIXTURES / "ocds"
SAMPLES = sorted(path for path in OCDS.glob("*.json") if ".source-decp." not in path.name)

SOURCES = {
    "decp-rama_001_marche_simple.expected-ocds.json": "france_decp_ocds",
    "fictional-1.1_ocds-213czf-000-00001-02-tender.json": "ocds_sample",
    "fictional-1.1_record_ocds-213czf-000-00001.json": "ocds_sample",
    "record-package-1.json": "mexico_compranet",
    "release-package-1.json": "mexico_cdmx",
    "release-package_1.1-2.json": "paraguay_dncp",
}
"""A plausible harvester name per publisher, so the goldens read like real notices."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def _items(name: str) -> list[DocumentItem]:
    return list(split_package((OCDS / name).read_bytes()))


def _map(name: str, item: DocumentItem) -> Notice:
    raw = raw_for(
        SOURCES[name], item.source_id, RawFormat.OCDS_RELEASE, item.payload, **item.attributes
    )
    return map_notice(raw, item.payload)


def _one(name: str) -> Notice:
    items = _items(name)
    assert len(items) == 1
    return _map(name, items[0])


def _release_cases() -> list[tuple[str, DocumentItem]]:
    return [(path.name, item) for path in SAMPLES for item in _items(path.name)]


def _release_id(item: DocumentItem) -> str:
    return str(msgspec.json.decode(item.payload)["id"])


def _golden_name(name: str, item: DocumentItem) -> str:
    """`<file-stem>__<release id>`, characters unsafe in file names replaced by `_`."""
    return f"{Path(name).stem}__{_UNSAFE.sub('_', _release_id(item))}"


@pytest.mark.parametrize(
    ("name", "item"),
    _release_cases(),
    ids=[f"{name}:{item.source_id}" for name, item in _release_cases()],
)
def test_release_matches_golden(name: str, item: DocumentItem) -> None:
    assert_matches_golden(_map(name, item), f"ocds_release/{_golden_name(name, item)}")


def test_every_release_of_every_sample_has_its_golden_and_no_other() -> None:
    expected = {f"{_golden_name(name, item)}.json" for name, item in _release_cases()}
    assert len(expected) == 7  # release-package-1.json holds two releases
    assert {path.name for path in (GOLDEN_DIR / "ocds_release").glob("*.json")} == expected


def test_mapper_is_registered() -> None:
    assert FORMATS[RawFormat.OCDS_RELEASE] is map_notice


# --- the DECP conversion, checked against the DECP record it was made from ---------------


def test_decp_conversion_keeps_what_its_decp_source_says() -> None:
    source = msgspec.json.decode(
        (OCDS / "decp-rama_001_marche_simple.source-decp.json").read_bytes()
    )
    marche = source["marches"][0]
    notice = _one("decp-rama_001_marche_simple.expected-ocds.json")
    assert notice.buyer is not None
    assert notice.buyer.siret == marche["acheteur"]["id"] == "20001318300021"
    assert notice.buyer.name == marche["acheteur"]["nom"]
    assert notice.cpv_main == marche["codeCPV"].split("-")[0] == "38950000"
    assert notice.title == marche["objet"]
    [award] = notice.awards
    assert award.value is not None
    assert award.value.amount == Decimal(marche["montant"]) == Decimal(80000)
    assert award.value.currency == "EUR"
    assert award.date is not None
    assert award.date.date() == date.fromisoformat(marche["dateNotification"])
    [titulaire] = marche["titulaires"]
    assert [(w.name, w.siret) for w in award.winners] == [
        (titulaire["denominationSociale"], titulaire["id"])
    ]
    # datePublicationDonnees "2019-04-25+02:00" and the release date are the same instant.
    assert notice.published_at == datetime(2019, 4, 24, 22, 0, tzinfo=UTC)
    assert notice.published_at == datetime.fromisoformat("2019-04-25T00:00:00+02:00")
    # 39 months (dureeMois) became 1189 days in the conversion.
    assert marche["dureeMois"] == 39
    assert notice.duration is not None
    assert (notice.duration.value, notice.duration.unit) == (1189, DurationUnit.DAY)


def test_decp_conversion_identity_and_type() -> None:
    notice = _one("decp-rama_001_marche_simple.expected-ocds.json")
    assert notice.procedure_id == "ocid:ocds-78apv2-200013183000212018mapa20180500"
    assert notice.procedure_match is ProcedureMatch.OCID
    assert notice.notice_type is NoticeType.CONTRACT_DATA
    assert notice.source_notice_type == "award,contract"
    assert notice.status is NoticeStatus.COMPLETE
    assert notice.language == "fr"
    assert notice.buyer is not None
    assert (notice.buyer.siren, notice.buyer.country) == ("200013183", "FR")
    assert notice.awards[0].contract_id == "ocds-78apv2-200013183000212018MAPA20180500-contract-1"


# --- per-sample key values ----------------------------------------------------------------


def test_fictional_tender_release() -> None:
    notice = _one("fictional-1.1_ocds-213czf-000-00001-02-tender.json")
    assert notice.notice_type is NoticeType.CONTRACT_NOTICE
    assert notice.status is NoticeStatus.ACTIVE
    assert notice.contract_nature is ContractNature.WORKS
    assert notice.procedure_type is ProcedureType.OPEN
    # "45233130.0" (a spreadsheet float in OCP's sample) is repaired; "45233162-2" loses its
    # check digit.
    assert (notice.cpv_main, notice.cpv_additional) == ("45233130", ["45233162"])
    assert notice.submission_deadline == datetime(2010, 4, 1, 18, 0, tzinfo=UTC)
    assert notice.estimated_value is not None
    assert (notice.estimated_value.amount, notice.estimated_value.currency) == (
        Decimal(1100000),
        "GBP",
    )
    assert notice.tender_url == "http://example.com/submissions/ocds-213czf-000-00001-01/"
    assert notice.source_url == "http://example.com/tender-notices/ocds-213czf-000-00001-01.html"
    assert notice.buyer is not None
    assert (notice.buyer.country, notice.buyer.department, notice.buyer.siret) == ("GB", None, None)
    assert notice.buyer.email == "procurement-team@example.com"
    assert notice.awards == []


def test_fictional_compiled_release_is_typed_from_its_content() -> None:
    notice = _one("fictional-1.1_record_ocds-213czf-000-00001.json")
    assert notice.source_notice_type == "compiled"
    assert notice.notice_type is NoticeType.CONTRACT_DATA
    assert notice.status is NoticeStatus.COMPLETE
    assert notice.submission_deadline == datetime(2010, 4, 8, 18, 0, tzinfo=UTC)
    [award] = notice.awards
    assert award.offers_received == 2
    assert award.contract_id == "ocds-213czf-000-00001-contract-01"
    assert [w.name for w in award.winners] == ["AnyCorp Cycle Provision"]
    # Its only related process is a later sub-contract: no RelationKind says "followed by".
    assert notice.related == []


def test_mexico_city_releases_are_ocds_1_0_with_an_inline_buyer() -> None:
    notices = [_map("release-package-1.json", item) for item in _items("release-package-1.json")]
    assert [n.source_id for n in notices] == [
        "OCDS-87SD3T-AD-SF-DRM-063-2015/01",
        "OCDS-87SD3T-AD-SF-DRM-063-2015/02",
    ]
    assert {n.procedure_id for n in notices} == {"ocid:ocds-87sd3t-ad-sf-drm-063-2015"}
    first = notices[0]
    assert first.status is NoticeStatus.PLANNED  # tender.status as published
    assert first.procedure_type is ProcedureType.RESTRICTED  # "selective"
    assert first.buyer is not None
    # A Mexican postal code must not become a French département.
    assert (first.buyer.country, first.buyer.department) == ("MX", None)
    assert first.conditions == "SERVICIO,CONDICIONES,PRECIO"
    [award] = first.awards
    assert award.value is not None
    assert (award.value.amount, award.value.currency) == (Decimal("1311264.0"), "MXN")
    assert award.date == datetime(2015, 12, 30, 6, 0, tzinfo=UTC)
    assert award.offers_received == 2


def test_mexico_record_release_with_two_awards_and_integer_contract_ids() -> None:
    notice = _one("record-package-1.json")
    assert notice.notice_type is NoticeType.AWARD  # tags tender + award
    assert notice.procedure_type is ProcedureType.NEGOTIATED_WITHOUT_CALL  # "direct"
    assert notice.estimated_value is None  # {"amount": 0} without currency
    assert [a.contract_id for a in notice.awards] == ["991324", "1322806"]
    assert [a.value.amount if a.value else None for a in notice.awards] == [
        Decimal(189654),
        Decimal("37930.71"),
    ]
    assert notice.awards[0].offers_received is None  # two awards share one tender count
    assert notice.duration is None  # two awards, two periods
    assert notice.buyer is not None
    assert notice.buyer.name == "Instituto Nacional de Antropología e Historia"


def test_paraguay_contract_release_without_tender_or_award() -> None:
    notice = _one("release-package_1.1-2.json")
    assert notice.notice_type is NoticeType.CONTRACT_DATA
    assert notice.title == "ADQUSICION DE GUANTES Y OTROS INSUMOS MEDICOS"
    assert notice.buyer is None
    assert notice.cpv_main is None  # the DNCP catalogue is not CPV
    [award] = notice.awards
    assert award.contract_id == "246807-11-setiembre-srl-4"
    assert award.date == datetime(2013, 4, 5, 12, 0, tzinfo=UTC)
    assert [w.name for w in award.winners] == ["11 DE SETIEMBRE SRL"]
    assert award.value is not None
    assert (award.value.amount, award.value.currency) == (Decimal(17875000), "PYG")


# --- rules, on releases derived from the fictional tender release ------------------------

_TENDER_NAME = "fictional-1.1_ocds-213czf-000-00001-02-tender.json"


def _tender_release() -> dict[str, Any]:
    release: dict[str, Any] = msgspec.json.decode(_items(_TENDER_NAME)[0].payload)
    return release


def _map_release(release: dict[str, Any], source_id: str = "ocds-213czf-000-00001/x") -> Notice:
    payload = msgspec.json.encode(release)
    return map_notice(raw_for("ocds_sample", source_id, RawFormat.OCDS_RELEASE, payload), payload)


def _french(release: dict[str, Any]) -> dict[str, Any]:
    """The fictional release made French: a SIRET buyer in Tulle, lots with places."""
    release["language"] = "fr-FR"
    buyer = release["parties"][0]
    buyer["identifier"] = {"scheme": "FR-SIRET", "id": "200 013 183 00021"}
    buyer["address"] = {"postalCode": "19000", "locality": "Tulle", "countryName": "France"}
    tender = release["tender"]
    tender["procurementMethodDetails"] = "Procédure adaptée ouverte"
    tender["techniques"] = {"hasFrameworkAgreement": True}
    tender["documents"].append(
        {"id": "9", "documentType": "biddingDocuments", "url": "https://dce.invalid/9"}
    )
    tender["lots"] = [
        {
            "id": "L1",
            "title": "Voirie",
            "value": {"amount": 400000, "currency": "EUR"},
            "tenderPeriod": {"endDate": "2010-03-30T12:00:00+02:00"},
        },
        {"id": "L2", "title": "Signalisation", "contractPeriod": {"durationInDays": 90}},
    ]
    tender["items"][0]["relatedLot"] = "L1"
    tender["items"][0]["deliveryAddress"] = {"postalCode": "19000", "locality": "Tulle"}
    tender["items"].append(
        {
            "id": "2",
            "relatedLot": "L2",
            "classification": {"scheme": "cpv", "id": "34992000-0"},
            "deliveryLocation": {
                "gazetteer": {"scheme": "NUTS", "identifiers": ["FRI21"]},
                "description": "Corrèze",
            },
        }
    )
    return release


def test_french_release_buyer_lots_and_places() -> None:
    notice = _map_release(_french(_tender_release()))
    assert notice.language == "fr"
    assert notice.buyer is not None
    assert notice.buyer.siret == "20001318300021"
    assert (notice.buyer.department, notice.buyer.region, notice.buyer.country) == (
        "19",
        "75",
        "FR",
    )
    assert (notice.procedure_type, notice.procedure_label) == (
        ProcedureType.ADAPTED,
        "Procédure adaptée ouverte",
    )
    assert notice.framework_agreement is True
    assert notice.documents_url == "https://dce.invalid/9"
    assert [lot.id for lot in notice.lots] == ["L1", "L2"]
    lot1, lot2 = notice.lots
    assert (lot1.cpv_main, lot1.cpv_additional) == ("45233130", ["45233162"])
    assert lot1.estimated_value is not None
    assert lot1.estimated_value.amount == Decimal(400000)
    assert lot1.submission_deadline == datetime(2010, 3, 30, 10, 0, tzinfo=UTC)
    assert lot1.place is not None
    assert lot1.place.departments == ["19"]
    assert (lot2.cpv_main, lot2.place.nuts if lot2.place else None) == ("34992000", ["FRI21"])
    assert lot2.duration is not None
    assert lot2.duration.value == 90
    assert notice.place is not None
    assert (notice.place.departments, notice.place.country) == (["19"], "FR")
    assert notice.cpv_main == "45233130"
    assert notice.cpv_additional == ["45233162", "34992000"]


def test_deadline_falls_back_to_the_earliest_lot_deadline() -> None:
    release = _french(_tender_release())
    del release["tender"]["tenderPeriod"]
    notice = _map_release(release)
    assert notice.submission_deadline == datetime(2010, 3, 30, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["planning"], NoticeType.PLANNING),
        (["planningUpdate"], NoticeType.PLANNING),
        (["tender"], NoticeType.CONTRACT_NOTICE),
        (["tenderAmendment"], NoticeType.CORRIGENDUM),
        (["tenderUpdate"], NoticeType.CORRIGENDUM),
        (["tenderCancellation"], NoticeType.CANCELLATION),
        (["award"], NoticeType.AWARD),
        (["awardUpdate"], NoticeType.AWARD),
        (["contract"], NoticeType.CONTRACT_DATA),
        (["contractUpdate"], NoticeType.CONTRACT_DATA),
        (["contractAmendment"], NoticeType.MODIFICATION),
        (["implementation"], NoticeType.MODIFICATION),
        (["tender", "award"], NoticeType.AWARD),
        (["award", "contract"], NoticeType.CONTRACT_DATA),
        (["somethingElse"], NoticeType.CONTRACT_NOTICE),  # typed from content: a tender
        (["compiled"], NoticeType.CONTRACT_NOTICE),
    ],
)
def test_notice_type_from_tags(tags: list[str], expected: NoticeType) -> None:
    release = _tender_release()
    release["tag"] = tags
    assert _map_release(release).notice_type is expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("planning", NoticeStatus.PLANNED),
        ("tender", NoticeStatus.ACTIVE),
        ("tenderCancellation", NoticeStatus.CANCELLED),
        ("award", NoticeStatus.COMPLETE),
    ],
)
def test_status_without_tender_status_follows_the_notice_type(
    tag: str, expected: NoticeStatus
) -> None:
    release = _tender_release()
    release["tag"] = [tag]
    del release["tender"]["status"]
    assert _map_release(release).status is expected


def test_tender_amendment_release_corrects_the_release_it_amends() -> None:
    release = _tender_release()
    release["id"] = "ocds-213czf-000-00001-03-tenderAmendment"
    release["tag"] = ["tenderAmendment"]
    release["tender"]["amendments"] = [
        {
            "id": "1",
            "date": "2010-03-20T09:45:00Z",
            "amendsReleaseID": "ocds-213czf-000-00001-02-tender",
            "releaseID": "ocds-213czf-000-00001-03-tenderAmendment",
        }
    ]
    notice = _map_release(release)
    assert notice.notice_type is NoticeType.CORRIGENDUM
    assert notice.related == [
        RelatedNotice(
            relation=RelationKind.CORRECTS,
            notice_id="ocds_sample:ocds-213czf-000-00001/ocds-213czf-000-00001-02-tender",
        )
    ]


def test_contract_amendments_become_modifications_and_link_the_amended_release() -> None:
    release = _tender_release()
    release["id"] = "r-7"
    release["tag"] = ["contractAmendment"]
    release["contracts"] = [
        {
            "id": "c1",
            "amendments": [
                {
                    "date": "2011-02-01T00:00:00Z",
                    "rationale": "Extension de délai",
                    "amendsReleaseID": "r-5",
                }
            ],
        }
    ]
    notice = _map_release(release)
    assert notice.notice_type is NoticeType.MODIFICATION
    assert [(m.date, m.description) for m in notice.modifications] == [
        (datetime(2011, 2, 1, tzinfo=UTC), "Extension de délai")
    ]
    assert notice.related == [
        RelatedNotice(
            relation=RelationKind.MODIFIES, notice_id="ocds_sample:ocds-213czf-000-00001/r-5"
        )
    ]


def test_related_processes_keep_only_earlier_processes() -> None:
    release = _tender_release()
    release["relatedProcesses"] = [
        {
            "id": "1",
            "relationship": ["planning"],
            "scheme": "ocid",
            "identifier": "OCDS-213CZF-000-00000",
        },
        {
            "id": "2",
            "relationship": ["subContract"],
            "scheme": "ocid",
            "identifier": "ocds-213czf-000-00002",
        },
        {"id": "3", "relationship": ["prior"], "scheme": "url", "identifier": "https://x"},
    ]
    assert _map_release(release).related == [
        RelatedNotice(relation=RelationKind.FOLLOWS, notice_id="ocid:ocds-213czf-000-00000")
    ]


def test_release_date_falls_back_to_the_package_published_date() -> None:
    item = _items(_TENDER_NAME)[0]
    release = msgspec.json.decode(item.payload)
    del release["date"]
    payload = msgspec.json.encode(release)
    raw = raw_for("ocds_sample", item.source_id, RawFormat.OCDS_RELEASE, payload, **item.attributes)
    assert map_notice(raw, payload).published_at == datetime(2011, 1, 10, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "path"),
    [("ocid", "$.ocid"), ("id", "$.id"), ("date", "$.date")],
)
def test_release_without_identity_or_date_is_dead_lettered(field: str, path: str) -> None:
    release = _tender_release()
    del release[field]
    with pytest.raises(PermanentError) as caught:
        _map_release(release)
    assert caught.value.field_path == path


def test_release_without_any_title_is_dead_lettered() -> None:
    release = {"ocid": "ocds-x-1", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"]}
    with pytest.raises(PermanentError) as caught:
        _map_release(release)
    assert caught.value.field_path == "$.tender.title"


def test_odd_types_in_typed_positions_are_skipped() -> None:
    release = _tender_release()
    release["tender"]["value"] = {"amount": "n/a", "currency": "GBP"}
    release["tender"]["items"] = "none"
    release["tender"]["tenderPeriod"] = ["2010-04-01"]
    release["parties"] = {"id": "x"}
    release["awards"] = [
        {"id": 1, "suppliers": [None, 3], "value": {"amount": -5, "currency": "GBP"}}
    ]
    notice = _map_release(release)
    assert (notice.estimated_value, notice.cpv_main, notice.submission_deadline) == (
        None,
        None,
        None,
    )
    assert notice.buyer is not None
    assert notice.buyer.name == "London Borough of Barnet"  # from the buyer reference itself
    assert [(a.winners, a.value) for a in notice.awards] == [([], None)]


@pytest.mark.parametrize("bad", ["2026-13-45T00:00:00Z", "20261345", "9999-12-31T23:59:59-05:00"])
def test_impossible_instants_in_optional_fields_are_skipped(bad: str) -> None:
    release = _tender_release()
    release["tender"]["tenderPeriod"]["endDate"] = bad
    release["awards"] = [{"id": "a", "date": bad, "title": "Lot unique"}]
    notice = _map_release(release)
    assert notice.submission_deadline is None
    assert [a.date for a in notice.awards] == [None]


@pytest.mark.parametrize("bad", ["2026-13-45", "20261345"])
def test_impossible_calendar_dates_are_skipped(bad: str) -> None:
    release = _tender_release()
    release["tender"]["contractPeriod"] = {"startDate": bad, "endDate": bad}
    assert _map_release(release).duration is None


# --- mutated real payloads: map or dead-letter, never crash ------------------------------

_PAYLOADS = [item.payload for _, item in _release_cases()]


def _map_or_dead_letter(payload: bytes) -> Notice | None:
    """A mapped Notice, or None when the mapper rejected the payload the allowed way."""
    raw = raw_for("ocds_sample", "ocds-x/1", RawFormat.OCDS_RELEASE, payload)
    try:
        notice = map_notice(raw, payload)
    except PERMANENT_ERRORS:
        return None
    # What the mapper builds must pass the schema's constraints when read back downstream.
    assert msgspec.json.decode(msgspec.json.encode(notice), type=Notice) == notice
    return notice


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, len(_PAYLOADS) - 1),
    cut=st.integers(0, 30000),
    junk=st.binary(max_size=6),
)
def test_truncated_payloads_map_or_dead_letter(index: int, cut: int, junk: bytes) -> None:
    payload = _PAYLOADS[index]
    notice = _map_or_dead_letter(payload[: cut % (len(payload) + 1)] + junk)
    assert notice is None or notice.title


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10**9)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = ("tender", "awards", "contracts", "parties", "buyer", "tag", "language", "relatedProcesses")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(_PAYLOADS) - 1), key=st.sampled_from(_KEYS), value=_JSON)
def test_sections_replaced_by_any_json_map_or_dead_letter(
    index: int, key: str, value: object
) -> None:
    release = msgspec.json.decode(_PAYLOADS[index])
    release[key] = value
    notice = _map_or_dead_letter(msgspec.json.encode(release))
    assert notice is None or notice.procedure_id.startswith("ocid:")
