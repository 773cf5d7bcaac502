"""TED Search API v3 notices (`RawFormat.TED_API_JSON`) on the stored real search response.

The stored response asked for `ND`, `PD` and `RN` only, so its notices carry no title and are
dead-lettered: their goldens record that outcome. The mapping of the documented fields is
tested on the same real notice with test values added for `notice-title`, `notice-type`,
`buyer-name` and `publication-date`, marked as such (never presented as real data).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_normalizer.formats import FORMATS
from scope_normalizer.formats.ted_api_json import map_notice
from scope_shared.documents.ted import split_search_response
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Notice,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    RawFormat,
    RelatedNotice,
    RelationKind,
)
from tests.support.golden import FIXTURES, GOLDEN_DIR, map_or_dead_letter, raw_for

SAMPLE = FIXTURES / "europe_ted/api/ted_api_v3_search_response_fixture.json"
SOURCE = "europe_ted"
ITEMS = list(split_search_response(SAMPLE.read_bytes()))
REAL_NOTICE: dict[str, Any] = msgspec.json.decode(ITEMS[0].payload)
TEST_FIELDS: dict[str, Any] = {
    "notice-title": {"eng": "Test title (added by the test)", "fra": "Titre d'essai (ajouté)"},
    "notice-type": "can-standard",
    "buyer-name": {"fra": ["Acheteur d'essai (ajouté)"]},
    "publication-date": "2022-02-07+01:00",
}
"""Documented fields the stored response lacks, with values written for the test."""


def _map(notice: dict[str, Any], source_id: str = "67623-2022") -> Notice:
    payload = msgspec.json.encode(notice)
    return map_notice(raw_for(SOURCE, source_id, RawFormat.TED_API_JSON, payload), payload)


def _map_or_dead_letter(payload: bytes) -> Notice | None:
    raw = raw_for(SOURCE, "67623-2022", RawFormat.TED_API_JSON, payload)
    return map_or_dead_letter(map_notice, raw, payload)


def assert_matches_dead_letter_golden(error: PermanentError, name: str) -> None:
    """Like `assert_matches_golden`, for a notice whose reviewed outcome is a dead letter."""
    path = GOLDEN_DIR / f"{name}.json"
    actual = {"error": type(error).__name__, "message": str(error), "field_path": error.field_path}
    if os.environ.get("SCOPE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.format(msgspec.json.encode(actual), indent=2) + b"\n")
    assert msgspec.json.decode(path.read_bytes()) == actual


@pytest.mark.parametrize("index", range(len(ITEMS)))
def test_stored_notice_matches_reviewed_dead_letter_golden(index: int) -> None:
    item = ITEMS[index]
    raw = raw_for(SOURCE, item.source_id, RawFormat.TED_API_JSON, item.payload)
    with pytest.raises(PermanentError) as caught:
        map_notice(raw, item.payload)
    # Both notices of the stored response are the same notice 67623-2022: one golden.
    assert_matches_dead_letter_golden(caught.value, f"ted_api_json/{item.source_id}")


def test_ted_api_json_is_registered() -> None:
    assert FORMATS[RawFormat.TED_API_JSON] is map_notice


def test_documented_fields_map_title_type_buyer_dates_and_link() -> None:
    notice = _map(REAL_NOTICE | TEST_FIELDS)
    assert notice.id == "europe_ted:67623-2022"
    assert (notice.title, notice.language) == ("Titre d'essai (ajouté)", "fr")
    assert (notice.notice_type, notice.status) == (NoticeType.AWARD, NoticeStatus.COMPLETE)
    assert notice.source_notice_type == "can-standard"
    assert notice.published_at == datetime(2022, 2, 6, 23, 0, tzinfo=UTC)
    assert notice.source_url == "https://ted.europa.eu/en/notice/-/detail/67623-2022"
    assert notice.buyer is not None and notice.buyer.name == "Acheteur d'essai (ajouté)"
    assert notice.related == [
        RelatedNotice(relation=RelationKind.AWARDS, notice_id="europe_ted:349392-2021")
    ]
    assert notice.procedure_id == "europe_ted:349392-2021"
    assert notice.procedure_match is ProcedureMatch.NOTICE_LINK


def test_legacy_pd_dates_the_notice_when_publication_date_is_absent() -> None:
    fields = {k: v for k, v in TEST_FIELDS.items() if k != "publication-date"}
    notice = _map(REAL_NOTICE | fields)
    assert notice.published_at == datetime(2022, 2, 6, 23, 0, tzinfo=UTC)


def test_list_valued_type_and_title_in_another_language_are_read() -> None:
    notice = _map(
        {
            "publication-number": "67623-2022",
            "notice-title": {"deu": ["Testtitel (vom Test)"]},
            "notice-type": ["cn-standard"],
            "PD": "2022-02-06T23:00:00Z",
        }
    )
    assert (notice.title, notice.language) == ("Testtitel (vom Test)", "de")
    assert (notice.notice_type, notice.status) == (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE)
    assert notice.procedure_id == notice.id
    assert notice.related == []
    # Without `links`, the page is built from the publication number, in the same form.
    assert notice.source_url == "https://ted.europa.eu/en/notice/-/detail/67623-2022"


@pytest.mark.parametrize(
    ("change", "field_path"),
    [
        ({"notice-type": None}, "$.notice-type"),
        ({"notice-type": "brin-ecs"}, "$.notice-type"),
        ({"notice-title": {"fra": "  "}}, "$.notice-title"),
        ({"publication-date": "soon", "PD": None}, "$.publication-date"),
    ],
)
def test_unusable_notice_is_dead_lettered_naming_the_field(
    change: dict[str, Any], field_path: str
) -> None:
    with pytest.raises(PermanentError) as caught:
        _map(REAL_NOTICE | TEST_FIELDS | change)
    assert caught.value.field_path == field_path


@pytest.mark.parametrize("payload", [b"[]", b"{", b'"x"'])
def test_payload_that_is_not_an_object_is_dead_lettered(payload: bytes) -> None:
    with pytest.raises(PermanentError):
        map_notice(raw_for(SOURCE, "1-2022", RawFormat.TED_API_JSON, payload), payload)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
KEYS = st.sampled_from(
    ["notice-title", "notice-type", "buyer-name", "publication-date", "PD", "RN", "links"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(KEYS, JSON_VALUES, max_size=4), with_fields=st.booleans())
def test_mutated_notices_map_or_dead_letter(changes: dict[str, Any], with_fields: bool) -> None:
    base = REAL_NOTICE | TEST_FIELDS if with_fields else REAL_NOTICE
    _map_or_dead_letter(msgspec.json.encode(base | changes))


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(0, len(ITEMS[0].payload) - 1))
def test_truncated_notices_are_dead_lettered(cut: int) -> None:
    assert _map_or_dead_letter(msgspec.json.encode(REAL_NOTICE | TEST_FIELDS)[:cut]) is None


def test_goldens_exist_only_for_stored_publication_numbers() -> None:
    names = {path.stem for path in Path(GOLDEN_DIR / "ted_api_json").glob("*.json")}
    assert names == {item.source_id for item in ITEMS}
