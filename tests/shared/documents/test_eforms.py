"""eForms splitter: one notice per file, TED publication numbers, prefixed roots, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scope_shared.documents.eforms import publication_number, split_eforms
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat
from tests.support.golden import FIXTURES
from tests.support.mutations import prefixed_root

TED = FIXTURES / "europe_ted"
SAMPLES = sorted(TED.glob("eforms-*/*.xml"))

EXPECTED = {
    # Published notices: the OJ S number without its zero padding, the OJ S date.
    "2023-OJS153-00486429": ("486429-2023", datetime(2023, 8, 10, tzinfo=UTC)),
    "2024-OJS017-00047522": ("47522-2024", datetime(2024, 1, 24, tzinfo=UTC)),
    "2024-OJS065-00191536": ("191536-2024", datetime(2024, 4, 2, tzinfo=UTC)),
    "2024-OJS072-00215550": ("215550-2024", datetime(2024, 4, 11, tzinfo=UTC)),
    "2024-OJS074-00219998": ("219998-2024", datetime(2024, 4, 15, tzinfo=UTC)),
    # SDK examples were never published: notice UUID and version, dispatch date (BT-05)
    # `2018-08-02+01:00` is midnight at +01:00, 23:00 UTC the day before.
    "can-modif_24_value": (
        "3572a106-eb30-4c7a-8ac5-b3502f71742a-01",
        datetime(2018, 8, 1, 23, 0, tzinfo=UTC),
    ),
    "can_24_FRA_comments": (
        "df45f4d1-2208-47cb-bc7a-9c7edcf8d2b8-01",
        datetime(2019, 10, 22, 23, 0, tzinfo=UTC),
    ),
    "change-cn_24_open_dates": (
        "71397268-6c47-4f2f-8ab0-f41a26138f81-01",
        datetime(2020, 4, 16, 23, 0, tzinfo=UTC),
    ),
    "cn_24_FRA_comments": (
        "da4d46e9-490b-41ff-a2ae-8166d356a619-01",
        datetime(2019, 5, 9, 23, 0, tzinfo=UTC),
    ),
    "cn_24_minimal": (
        "f42be27e-09cf-4f0e-a745-63ec689631e6-01",
        datetime(2019, 11, 20, 23, 0, tzinfo=UTC),
    ),
    "pin-only_24": (
        "f252f386-55ac-4fa8-9be4-9f950b9904c8-01",
        datetime(2020, 5, 4, 23, 0, tzinfo=UTC),
    ),
}


def test_the_samples_are_the_expected_ones() -> None:
    assert sorted(path.stem for path in SAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_one_item_per_notice_with_its_id_date_and_exact_bytes(path: Path) -> None:
    data = path.read_bytes()
    items = list(split_eforms(data))
    assert len(items) == 1
    source_id, published_at = EXPECTED[path.stem]
    assert items[0].source_id == source_id
    assert items[0].published_at == published_at
    assert items[0].format is RawFormat.EFORMS_XML
    assert items[0].payload is data


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_a_prefixed_root_splits_like_the_default_namespace_one(path: Path) -> None:
    data = prefixed_root(path.read_bytes())
    assert b"<urn:" in data
    [item] = split_eforms(data)
    assert (item.source_id, item.published_at) == EXPECTED[path.stem]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00486429-2023", "486429-2023"),
        (" 00047522-2024\n", "47522-2024"),
        ("342558-2018", "342558-2018"),
        ("2019/S 040-091489", "91489-2019"),
        ("2023-OJS153-00486429", None),
        ("c4c415ee-ac08-4465-8fa6-57568cf69462-01", None),
        ("", None),
        (None, None),
    ],
)
def test_publication_numbers_take_the_ted_api_form(text: str | None, expected: str | None) -> None:
    assert publication_number(text) == expected


def test_a_notice_without_any_id_is_refused() -> None:
    data = (TED / "eforms-sdk-examples" / "cn_24_minimal.xml").read_bytes()
    data = data.replace(b"f42be27e-09cf-4f0e-a745-63ec689631e6", b"")
    with pytest.raises(PermanentError) as raised:
        list(split_eforms(data))
    assert raised.value.field_path == "/cbc:ID"


@pytest.mark.parametrize(
    "data",
    [b"", b"not xml", b"<ContractNotice><unclosed></ContractNotice>", b"<TED_EXPORT/>"],
    ids=["empty", "text", "malformed", "other-root"],
)
def test_what_is_not_an_eforms_notice_is_refused(data: bytes) -> None:
    with pytest.raises(PermanentError) as raised:
        list(split_eforms(data))
    assert raised.value.field_path == "/"


def test_entities_are_not_expanded_from_outside() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<ContractNotice xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
        b'CommonBasicComponents-2"><cbc:ID schemeName="notice-id">&e;</cbc:ID>'
        b"<cbc:VersionID>01</cbc:VersionID></ContractNotice>"
    )
    with pytest.raises(PermanentError):
        list(split_eforms(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    cut=st.floats(min_value=0, max_value=1),
    junk=st.binary(max_size=8),
)
def test_damaged_files_split_or_are_refused(sample: Path, cut: float, junk: bytes) -> None:
    data = sample.read_bytes()
    position = int(len(data) * cut)
    damaged = data[:position] + junk + data[position + len(junk) :]
    try:
        items = list(split_eforms(damaged))
    except PermanentError:
        return
    assert len(items) == 1
    assert items[0].payload == damaged
    assert items[0].source_id
