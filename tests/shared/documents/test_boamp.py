"""Splitting BOAMP documents: Opendatasoft pages and exports, DILA notice XML files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scope_shared.documents import RejectedItem
from scope_shared.documents.boamp import split_dila_xml, split_records
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "france_boamp"
PAGE = FIXTURES / "ods" / "records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
XML_FILES = sorted((FIXTURES / "dila-xml").glob("*.xml"))
IDWEBS = ["26-7298", "26-7308", "26-7319", "26-7109", "26-7113"]
PUBLISHED = datetime(2026, 1, 20, 23, 0, tzinfo=UTC)
"""2026-01-21 at midnight in Paris (UTC+1 in winter)."""


def _results() -> list[dict[str, object]]:
    results: list[dict[str, object]] = msgspec.json.decode(PAGE.read_bytes())["results"]
    return results


def test_records_page_yields_one_item_per_record() -> None:
    items = list(split_records(PAGE.read_bytes()))
    assert [i.source_id for i in items] == IDWEBS
    assert {i.format for i in items} == {RawFormat.BOAMP_JSON}
    assert {i.published_at for i in items} == {PUBLISHED}


def test_record_payload_is_the_record_as_published() -> None:
    first = next(split_records(PAGE.read_bytes()))
    record = msgspec.json.decode(first.payload)
    assert record == _results()[0]
    assert list(record) == list(_results()[0]), "key order kept"
    assert isinstance(record["donnees"], str), "donnees stays a JSON string"
    assert "é".encode() in first.payload, "non-ASCII kept as UTF-8"


def test_exports_json_array_and_jsonl_give_the_same_items() -> None:
    results = _results()
    as_array = list(split_records(msgspec.json.encode(results)))
    as_lines = list(split_records(b"\n".join(msgspec.json.encode(r) for r in results) + b"\n"))
    assert [i.source_id for i in as_array] == IDWEBS
    assert [i.payload for i in as_lines] == [i.payload for i in as_array]


def test_single_record_and_v1_fields_wrapper() -> None:
    record = _results()[2]
    [single] = split_records(msgspec.json.encode(record))
    [wrapped] = split_records(msgspec.json.encode({"records": [{"fields": record}]}))
    assert single.source_id == wrapped.source_id == "26-7319"
    assert single.payload == wrapped.payload


def test_records_without_idweb_are_skipped_and_reported() -> None:
    page = {"total_count": 2, "results": [{"objet": "x"}, {"idweb": " 26-1 "}, 7]}
    skipped: list[RejectedItem] = []
    items = list(split_records(msgspec.json.encode(page), on_skipped=skipped.append))
    assert [i.source_id for i in items] == ["26-1"]
    assert [(r.field_path, r.reason, r.data) for r in skipped] == [
        ("$.results[0].idweb", "the record has no idweb", b'{"objet":"x"}'),
        ("$.results[2]", "the record is not an object", b"7"),
    ]


def test_record_with_bad_date_has_no_publication_date() -> None:
    [item] = split_records(b'{"idweb": "26-1", "dateparution": "2026-13-01"}')
    assert item.published_at is None


def test_empty_export_yields_nothing() -> None:
    assert list(split_records(b"")) == []
    assert list(split_records(b"[]")) == []


@pytest.mark.parametrize("data", [b"not json", b'{"results": 3}', b"{}\n[", b"12"])
def test_unreadable_documents_are_permanent_errors(data: bytes) -> None:
    with pytest.raises(PermanentError):
        list(split_records(data))


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: p.stem)
def test_dila_xml_yields_its_notice_with_exact_bytes(path: Path) -> None:
    data = path.read_bytes()
    [item] = split_dila_xml(data)
    assert item.source_id == path.stem.split("_", 1)[0]
    assert item.payload is data
    assert item.format is RawFormat.BOAMP_XML
    assert item.published_at is not None and item.published_at.tzinfo is UTC


def test_dila_xml_publication_date_is_french_midnight_in_utc() -> None:
    [item] = split_dila_xml((FIXTURES / "dila-xml" / "17-2599_JOUE_ATTRIBUTION.xml").read_bytes())
    assert item.published_at == datetime(2017, 1, 7, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [b"<ANNONCE>", b"<TED_EXPORT/>", b"<ANNONCE><GESTION><REFERENCE/></GESTION></ANNONCE>"],
)
def test_unusable_xml_is_a_permanent_error(data: bytes) -> None:
    with pytest.raises(PermanentError):
        list(split_dila_xml(data))


@settings(max_examples=60, deadline=None)
@given(cut=st.integers(0, 34000), junk=st.binary(max_size=8))
def test_damaged_pages_split_or_fail_permanently(cut: int, junk: bytes) -> None:
    data = PAGE.read_bytes()[:cut] + junk
    try:
        items = list(split_records(data))
    except PermanentError:
        return
    assert all(i.source_id for i in items)
