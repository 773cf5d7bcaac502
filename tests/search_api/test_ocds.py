"""GET /v1/notices/{id}/ocds: every corpus notice is a valid OCDS 1.1.5 release, and the
fields land where the mapping says."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import msgspec
import pytest

from scope_search_api.ocds import encode_release
from scope_shared.schema import Notice, NoticeType
from tests.search_api.conftest import Client, get_json

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "fixtures/reference/ocds/release-schema.json"
PREFIX = "ocds-sc0pe0"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    """jsonschema checks `date-time` only with an optional package: check it here."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return isinstance(value, str) and bool(urlsplit(value).scheme)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = msgspec.json.decode(SCHEMA_FILE.read_bytes())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def _release(notice: Notice) -> dict[str, Any]:
    release: dict[str, Any] = msgspec.json.decode(encode_release(notice, PREFIX))
    return release


def test_every_corpus_notice_is_a_valid_ocds_release(
    validator: jsonschema.Draft4Validator, corpus: list[Notice]
) -> None:
    failures = {}
    for notice in corpus:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(_release(notice))
        ]
        if errors:
            failures[f"{notice.id}#{notice.version}"] = errors[:3]
    assert failures == {}
    assert len(corpus) > 500


def test_format_checker_rejects_what_ocds_forbids(validator: jsonschema.Draft4Validator) -> None:
    bad = {"ocid": "x", "id": "1", "date": "2026-01-01", "tag": ["tender"],
           "initiationType": "tender"}  # fmt: skip
    assert [e.validator for e in validator.iter_errors(bad)] == ["format"]


def test_release_maps_a_contract_notice(corpus: list[Notice]) -> None:
    notice = next(n for n in corpus if n.id == "france_boamp:26-7113")
    release = _release(notice)
    assert release["ocid"] == f"{PREFIX}-{notice.procedure_id}"
    assert release["id"] == f"{notice.id}-{notice.version}"
    assert release["tag"] == ["tender"]
    assert release["date"] == "2026-01-20T23:00:00Z"
    assert release["language"] == "fr"
    assert notice.buyer is not None and notice.buyer.siret is not None
    [buyer] = release["parties"]
    assert buyer["roles"] == ["buyer"]
    assert buyer["identifier"] == {"scheme": "FR-RCS", "id": notice.buyer.siret,
                                   "legalName": notice.buyer.name}  # fmt: skip
    assert release["buyer"] == {"id": buyer["id"], "name": notice.buyer.name}
    tender = release["tender"]
    assert tender["title"] == notice.title
    assert tender["status"] == "active"
    assert tender["mainProcurementCategory"] == "works"
    assert tender["procurementMethodDetails"] == notice.procedure_label
    assert tender["tenderPeriod"] == {"endDate": "2026-02-20T10:00:00Z"}
    assert tender["items"][0]["classification"]["scheme"] == "CPV"
    assert tender["items"][0]["classification"]["id"] == "45443000-4"
    assert [lot["id"] for lot in tender["lots"]] == [lot.id for lot in notice.lots]
    assert {d["documentType"] for d in tender["documents"]} >= {"tenderNotice"}
    assert "awards" not in release


def test_release_maps_awards_and_contracts_of_contract_data(corpus: list[Notice]) -> None:
    notice = next(
        n for n in corpus
        if n.notice_type is NoticeType.CONTRACT_DATA and n.modifications and n.awards
    )  # fmt: skip
    release = _release(notice)
    assert release["tag"] == ["award", "contract"]
    award = notice.awards[0]
    assert release["awards"][0]["suppliers"][0]["name"] == award.winners[0].name
    if award.value is not None:
        assert Decimal(str(release["awards"][0]["value"]["amount"])) == award.value.amount
    suppliers = [p for p in release["parties"] if "supplier" in p["roles"]]
    assert {s["id"] for s in suppliers} >= {s["id"] for s in release["awards"][0]["suppliers"]}
    [contract, *_] = release["contracts"]
    assert contract["awardID"] == release["awards"][0]["id"]
    assert len(contract["amendments"]) == len(notice.modifications)


def test_release_uses_the_source_ocid_for_ocds_procedures(corpus: list[Notice]) -> None:
    notice = next(n for n in corpus if n.procedure_id.startswith("ocid:"))
    assert _release(notice)["ocid"].lower() == notice.procedure_id.removeprefix("ocid:")


def test_release_keeps_the_publishers_case_of_its_ocid(corpus: list[Notice]) -> None:
    """The procedure key is lower-cased (publishers differ in case); the release gives the
    ocid as its publisher wrote it, so that it joins back to the publisher's data."""
    notice = next(n for n in corpus if n.source_id.startswith("OCDS-87SD3T"))
    assert notice.procedure_id == "ocid:ocds-87sd3t-ad-sf-drm-063-2015"
    assert _release(notice)["ocid"] == "OCDS-87SD3T-AD-SF-DRM-063-2015"


async def test_ocds_endpoint_serves_the_release_with_numeric_amounts(
    api: Client, validator: jsonschema.Draft4Validator, notices: list[Notice]
) -> None:
    notice = next(n for n in notices if n.estimated_value is not None)
    body = await get_json(api, f"/v1/notices/{quote(notice.id, safe=':')}/ocds")
    assert body == _release(notice)
    assert isinstance(body["tender"]["value"]["amount"], int | float)
    assert list(validator.iter_errors(body)) == []
