"""OCDS package splitter: one item per release, linked releases reported, encodings, paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_shared.documents.ocds import (
    PACKAGE_ATTRIBUTE,
    SkippedRelease,
    next_page_url,
    split_package,
    utf8_json,
)
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat
from tests.support.golden import FIXTURES

OCDS = FIXTURES / "ocds"


def _split(name: str) -> tuple[list[Any], list[SkippedRelease]]:
    skipped: list[SkippedRelease] = []
    items = list(split_package((OCDS / name).read_bytes(), on_skipped=skipped.append))
    return items, skipped


def test_release_package_yields_each_release_keyed_by_ocid_and_release_id() -> None:
    items, skipped = _split("release-package-1.json")
    assert [item.source_id for item in items] == [
        "OCDS-87SD3T-AD-SF-DRM-063-2015/01",
        "OCDS-87SD3T-AD-SF-DRM-063-2015/02",
    ]
    assert {item.format for item in items} == {RawFormat.OCDS_RELEASE}
    # 2015-12-22T00:00:00-06:00 and 2017-06-05T00:00:00-06:00 in UTC.
    assert [item.published_at for item in items] == [
        datetime(2015, 12, 22, 6, 0, tzinfo=UTC),
        datetime(2017, 6, 5, 6, 0, tzinfo=UTC),
    ]
    assert skipped == []


def test_release_payload_is_the_release_itself() -> None:
    source = msgspec.json.decode((OCDS / "release-package_1.1-2.json").read_bytes())
    items, _ = _split("release-package_1.1-2.json")
    assert len(items) == 1
    assert items[0].source_id == "ocds-03ad3f-246807/246807-11-setiembre-srl-4-contract"
    assert msgspec.json.decode(items[0].payload) == source["releases"][0]
    assert b"\n" not in items[0].payload


def test_package_metadata_is_kept_without_the_releases() -> None:
    items, _ = _split("decp-rama_001_marche_simple.expected-ocds.json")
    package = msgspec.json.decode(items[0].attributes[PACKAGE_ATTRIBUTE])
    assert package == {
        "uri": "https://www.data.gouv.fr/fr/datasets/r/2a84ffc7-7121-48d2-a28f-85d835ed09a4",
        "publishedDate": "2019-01-01T01:01:01+02:00",
        "publisher": {
            "name": "Secrétariat Général du Gouvernement",
            "scheme": "FR-RCS",
            "uid": "12000101100010",
        },
        "license": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
        "publicationPolicy": "https://www.data.gouv.fr/fr/datasets/5d1a216e6f4441513e89b93e",
        "version": "1.1",
    }


def test_record_package_keeps_extensions_and_drops_the_mongo_id() -> None:
    items, _ = _split("record-package-1.json")
    package = msgspec.json.decode(items[0].attributes[PACKAGE_ATTRIBUTE])
    assert len(package["extensions"]) == 4
    assert "_id" not in package
    assert "records" not in package


def test_record_with_only_linked_releases_reports_them_and_yields_the_compiled_release() -> None:
    items, skipped = _split("fictional-1.1_record_ocds-213czf-000-00001.json")
    assert [s.reason for s in skipped] == ["linked"] * 6
    assert [s.tag for s in skipped] == [
        ["planning"],
        ["tender"],
        ["tenderAmendment"],
        ["award"],
        ["contract"],
        ["implementation"],
    ]
    assert skipped[0].ocid == "ocds-213czf-000-00001"
    assert skipped[0].url is not None
    assert skipped[0].url.endswith("#ocds-213czf-000-00001-01-planning")
    assert skipped[0].date == "2009-03-15T14:45:00Z"
    assert [item.source_id for item in items] == [
        "ocds-213czf-000-00001/ocds-213czf-000-00001-2011-01-10T09:30:00Z"
    ]
    assert msgspec.json.decode(items[0].payload)["tag"] == ["compiled"]


def test_record_with_embedded_releases_does_not_repeat_its_compiled_release() -> None:
    items, skipped = _split("record-package-1.json")
    # The compiled release reuses the embedded release's id (993235): one item only.
    assert [item.source_id for item in items] == ["ocds-07smqs-993235/993235"]
    assert msgspec.json.decode(items[0].payload)["tag"] == ["tender", "award"]
    assert skipped == []


def test_latin1_package_is_transcoded_to_utf8() -> None:
    utf8 = (OCDS / "release-package_1.1-2.json").read_bytes()
    latin1 = utf8.decode("utf-8").encode("latin-1")
    assert latin1 != utf8
    assert [item.payload for item in split_package(latin1)] == [
        item.payload for item in split_package(utf8)
    ]
    package = msgspec.json.decode(next(split_package(latin1)).attributes[PACKAGE_ATTRIBUTE])
    assert package["publisher"]["legalName"] == (
        "Dirección Nacional de Contrataciones Públicas, Paraguay"
    )


def test_one_stray_byte_garbles_no_other_text_of_a_utf8_package() -> None:
    """A UTF-8 package with one byte that is not UTF-8: only that byte is replaced; read
    whole as Latin-1, every accent of every release would change, and each release with it."""
    utf8 = (OCDS / "release-package_1.1-2.json").read_bytes()
    assert "Dirección".encode() in utf8
    stray = utf8.replace("Públicas, Paraguay".encode(), "Públicas, Paragu".encode() + b"\xe1y")
    assert stray != utf8
    package = msgspec.json.decode(next(split_package(stray)).attributes[PACKAGE_ATTRIBUTE])
    assert package["publisher"]["legalName"] == (
        "Dirección Nacional de Contrataciones Públicas, Paragu\ufffdy"
    )


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-32"])
def test_bom_marked_package_is_read(encoding: str) -> None:
    text = (OCDS / "release-package_1.1-2.json").read_text(encoding="utf-8")
    items = list(split_package(text.encode(encoding)))
    assert [item.source_id for item in items] == [
        "ocds-03ad3f-246807/246807-11-setiembre-srl-4-contract"
    ]


def test_utf8_json_leaves_utf8_untouched() -> None:
    data = '{"name": "Secrétariat"}'.encode()
    assert utf8_json(data) is data


def test_next_page_url_reads_links_next() -> None:
    page = b'{"links": {"next": "https://api.invalid/releases?page=2"}, "releases": []}'
    assert next_page_url(page) == "https://api.invalid/releases?page=2"


@pytest.mark.parametrize(
    "page",
    [
        b'{"releases": []}',
        b'{"links": {"next": null}, "releases": []}',
        b'{"links": {"next": "  "}}',
        b'{"links": []}',
        b"not json",
    ],
)
def test_next_page_url_is_none_on_the_last_page_or_bad_input(page: bytes) -> None:
    assert next_page_url(page) is None


def test_next_page_url_of_a_real_sample_without_links_is_none() -> None:
    assert next_page_url((OCDS / "release-package-1.json").read_bytes()) is None


@pytest.mark.parametrize(
    "data",
    [b"[]", b"{}", b'{"uri": "x"}', b"not json", b'{"releases": {"a": 1}}'],
)
def test_non_package_is_a_permanent_error(data: bytes) -> None:
    with pytest.raises(PermanentError):
        list(split_package(data))


def test_release_without_id_or_not_an_object_is_reported() -> None:
    data = b'{"releases": [{"ocid": "ocds-x-1"}, "text", {"ocid": "ocds-x-1", "id": 7}]}'
    skipped: list[SkippedRelease] = []
    items = list(split_package(data, on_skipped=skipped.append))
    assert [item.source_id for item in items] == ["ocds-x-1/7"]
    assert [(s.reason, s.ocid) for s in skipped] == [("no_id", "ocds-x-1"), ("no_id", None)]


def test_record_with_only_a_versioned_release_is_reported() -> None:
    data = b'{"records": [{"ocid": "ocds-x-2", "versionedRelease": {"ocid": "ocds-x-2"}}]}'
    skipped: list[SkippedRelease] = []
    assert list(split_package(data, on_skipped=skipped.append)) == []
    assert [(s.reason, s.ocid) for s in skipped] == [("versioned", "ocds-x-2")]


def test_embedded_release_in_a_record_takes_the_record_ocid_when_it_has_none() -> None:
    data = b'{"records": [{"ocid": "ocds-x-3", "releases": [{"id": "r1", "date": "2024-01-02"}]}]}'
    items = list(split_package(data))
    assert [item.source_id for item in items] == ["ocds-x-3/r1"]
    # A bare date is read as every source's is (scope_shared.dates): midnight in Paris.
    assert items[0].published_at == datetime(2024, 1, 1, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2026-13-45T00:00:00Z", "9999-12-31T23:59:59-05:00", 20240101])
def test_impossible_release_date_gives_no_cursor_hint(value: object) -> None:
    data = msgspec.json.encode({"releases": [{"ocid": "ocds-x-4", "id": "1", "date": value}]})
    [item] = split_package(data)
    assert item.published_at is None


_SAMPLE = (OCDS / "fictional-1.1_record_ocds-213czf-000-00001.json").read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, len(_SAMPLE)), junk=st.binary(max_size=8), at=st.integers(0, 4000))
def test_mutated_package_splits_or_fails_permanently(cut: int, junk: bytes, at: int) -> None:
    data = _SAMPLE[:at] + junk + _SAMPLE[at:cut] if at < cut else _SAMPLE[:cut]
    try:
        items = list(split_package(data))
    except PermanentError:
        return
    assert all(item.format is RawFormat.OCDS_RELEASE for item in items)
