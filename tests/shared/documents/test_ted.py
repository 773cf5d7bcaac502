"""TED splitters: Search API v3 pages (one item per notice) and R2.0.9 files (one item each)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_shared.documents import RejectedItem
from scope_shared.documents.ted import (
    api_datetime,
    next_iteration_token,
    notice_page,
    oj_day_start,
    publication_number,
    split_search_response,
    split_ted_export,
    total_count,
)
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat
from tests.support.golden import FIXTURES

API_PAGE = FIXTURES / "europe_ted/api/ted_api_v3_search_response_fixture.json"
EXPORTS = sorted((FIXTURES / "europe_ted/r2.0.9").glob("*.xml"))


def test_search_page_yields_each_notice_by_publication_number() -> None:
    items = list(split_search_response(API_PAGE.read_bytes()))
    # The stored page holds the same notice twice; JetStream deduplication keeps one.
    assert [item.source_id for item in items] == ["67623-2022", "67623-2022"]
    assert {item.format for item in items} == {RawFormat.TED_API_JSON}
    # PD `2022-02-06T23:00:00Z`: midnight of 7 February in Brussels.
    assert {item.published_at for item in items} == {datetime(2022, 2, 6, 23, 0, tzinfo=UTC)}


def test_search_page_item_payload_is_the_notice_re_encoded() -> None:
    page = msgspec.json.decode(API_PAGE.read_bytes())
    item = next(split_search_response(API_PAGE.read_bytes()))
    assert msgspec.json.decode(item.payload) == page["notices"][0]
    assert b"\n" not in item.payload


def test_search_page_paging_helpers_read_count_and_token() -> None:
    data = API_PAGE.read_bytes()
    assert total_count(data) == 2
    assert next_iteration_token(data) is None
    page = b'{"notices": [], "totalNoticeCount": 31000, "iterationNextToken": "abc=="}'
    assert (total_count(page), next_iteration_token(page)) == (31000, "abc==")
    assert list(split_search_response(page)) == []


def test_search_page_prefers_publication_date_and_falls_back_to_nd() -> None:
    page = msgspec.json.encode(
        {"notices": [{"ND": ["00486429-2023"], "publication-date": "2023-08-10+02:00"}]}
    )
    (item,) = split_search_response(page)
    assert item.source_id == "486429-2023"
    assert item.published_at == datetime(2023, 8, 9, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("page", "field_path"),
    [
        (b'{"notices": [{"PD": "2022-02-06T23:00:00Z"}]}', "$.notices[0].publication-number"),
        (b'{"notices": [1]}', "$.notices[0]"),
        (b'{"notices": {}}', "$"),
        (b"<html/>", "$"),
    ],
)
def test_search_page_without_usable_notice_is_permanent_error(page: bytes, field_path: str) -> None:
    with pytest.raises(PermanentError) as caught:
        list(split_search_response(page))
    assert caught.value.field_path == field_path


def test_search_page_sets_aside_a_notice_it_cannot_name_and_keeps_the_others() -> None:
    """One notice without a publication number must not stop a harvest at that page."""
    page = (
        b'{"notices": [{"PD": "2022-02-06T23:00:00Z"}, 1,'
        b' {"publication-number": "67623-2022", "PD": "2022-02-07T23:00:00Z"}]}'
    )
    skipped: list[RejectedItem] = []
    items = list(split_search_response(page, on_skipped=skipped.append))
    assert [i.source_id for i in items] == ["67623-2022"]
    assert [(r.field_path, r.data) for r in skipped] == [
        ("$.notices[0].publication-number", b'{"PD":"2022-02-06T23:00:00Z"}'),
        ("$.notices[1]", b"1"),
    ]


@pytest.mark.parametrize(
    ("path", "source_id", "published_at"),
    [
        ("18-412273-001-EXP.xml", "404080-2018", datetime(2018, 9, 14, 22, 0, tzinfo=UTC)),
        ("19-090974-001-EXP.xml", "91489-2019", datetime(2019, 2, 25, 23, 0, tzinfo=UTC)),
        ("20-155018-001-EXP.xml", "150025-2020", datetime(2020, 3, 29, 22, 0, tzinfo=UTC)),
        ("20-157399-001-EXP.xml", "154292-2020", datetime(2020, 3, 30, 22, 0, tzinfo=UTC)),
        ("21-064844-001-EXP.xml", "67028-2021", datetime(2021, 2, 8, 23, 0, tzinfo=UTC)),
        ("21-149886-001-EXP.xml", "147836-2021", datetime(2021, 3, 23, 23, 0, tzinfo=UTC)),
        ("23-119901-001-EXP.xml", "121869-2023", datetime(2023, 2, 26, 23, 0, tzinfo=UTC)),
    ],
)
def test_ted_export_is_one_item_named_by_unpadded_doc_id(
    path: str, source_id: str, published_at: datetime
) -> None:
    data = (FIXTURES / "europe_ted/r2.0.9" / path).read_bytes()
    (item,) = split_ted_export(data)
    assert (item.source_id, item.published_at) == (source_id, published_at)
    assert item.format is RawFormat.TED_XML
    assert item.payload is data


def test_ted_export_without_doc_id_is_named_by_its_oj_citation() -> None:
    data = EXPORTS[1].read_bytes().replace(b'DOC_ID="091489-2019"', b"")
    (item,) = split_ted_export(data)
    assert item.source_id == "91489-2019"


@pytest.mark.parametrize(
    "data",
    [b"<TED_EXPORT/>", b"<ANNONCE/>", b"not xml", b"<!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>"],
)
def test_not_a_ted_export_is_permanent_error(data: bytes) -> None:
    with pytest.raises(PermanentError):
        list(split_ted_export(data))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("091489-2019", "91489-2019"),
        ("00486429-2023", "486429-2023"),
        ("67623-2022", "67623-2022"),
        ("2019/S 040-091489", "91489-2019"),
        ("2022/S 098-267307", "267307-2022"),
        ("2019-091489", None),
        ("", None),
        (None, None),
    ],
)
def test_publication_number_takes_the_api_form(text: str | None, expected: str | None) -> None:
    assert publication_number(text) == expected


def test_dates_and_page_helpers() -> None:
    assert oj_day_start("20190226") == datetime(2019, 2, 25, 23, 0, tzinfo=UTC)
    assert oj_day_start("20191399") is None
    assert api_datetime("2022-02-06T23:00:00Z") == datetime(2022, 2, 6, 23, 0, tzinfo=UTC)
    assert api_datetime("2023-08-10Z") == datetime(2023, 8, 10, tzinfo=UTC)
    assert api_datetime("20230810") == datetime(2023, 8, 9, 22, 0, tzinfo=UTC)
    assert api_datetime("not a date") is None
    assert notice_page("67623-2022") == "https://ted.europa.eu/en/notice/-/detail/67623-2022"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from([API_PAGE, *EXPORTS]), cut=st.floats(0, 1), junk=st.binary(max_size=6)
)
def test_mutated_documents_split_or_raise_permanent_error(
    sample: Path, cut: float, junk: bytes
) -> None:
    data = sample.read_bytes()
    mutated = data[: int(len(data) * cut)] + junk
    split = split_search_response if sample == API_PAGE else split_ted_export
    try:
        items = list(split(mutated))
    except PermanentError:
        return
    assert all(item.source_id for item in items)
