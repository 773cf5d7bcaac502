"""Canonical schema: strict decoding, round trips on real payloads, errors naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from scope_shared.bus import decode_notice, decode_raw, encode
from scope_shared.schema import (
    Amount,
    Award,
    ContractNature,
    Lot,
    Notice,
    NoticeStatus,
    NoticeType,
    Organization,
    RawFormat,
    Winner,
    make_raw_notice,
    sha256_hex,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in {".json", ".xml"})


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_raw_notice_round_trips_real_payload_byte_for_byte(path: Path) -> None:
    payload = path.read_bytes()
    raw = make_raw_notice(
        source="france_boamp",
        source_id=path.stem,
        format=RawFormat.BOAMP_JSON,
        payload=payload,
        url=f"file:///{path.name}",
        content_type="application/json",
        run_id="run-1",
    )
    decoded = decode_raw(encode(raw))
    assert decoded == raw
    assert decoded.payload == payload
    assert decoded.sha256 == sha256_hex(payload)
    assert decoded.msg_id == f"france_boamp:{path.stem}:{raw.sha256}"


def _raw_dict() -> dict[str, object]:
    raw = make_raw_notice(
        source="europe_ted",
        source_id="67623-2022",
        format=RawFormat.TED_API_JSON,
        payload=b"{}",
        url="https://example.invalid/x",
        content_type="application/json",
        run_id="r",
    )
    return msgspec.to_builtins(raw)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("sha256", "not-a-digest", "$.sha256"),
        ("fetched_at", "2026-01-01T10:00:00", "$.fetched_at"),
        ("source", "Europe TED", "$.source"),
        ("format", "pdf", "$.format"),
        ("source_id", "", "$.source_id"),
    ],
)
def test_raw_notice_rejects_bad_field_naming_it(field: str, value: object, path: str) -> None:
    data = _raw_dict() | {field: value}
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\." + field):
        decode_raw(msgspec.json.encode(data))
    assert path.startswith("$.")


def test_raw_notice_requires_exactly_one_payload_location() -> None:
    data = _raw_dict() | {"payload": None}
    with pytest.raises(msgspec.ValidationError, match="exactly one of"):
        decode_raw(msgspec.json.encode(data))


def test_raw_notice_ignores_unknown_field_from_newer_writer() -> None:
    data = _raw_dict() | {"field_from_the_future": 1}
    assert decode_raw(msgspec.json.encode(data)).source == "europe_ted"


def _notice() -> Notice:
    published = datetime(2026, 1, 21, tzinfo=UTC)
    return Notice(
        id="france_boamp:26-7298",
        procedure_id="france_boamp:26-7298",
        source="france_boamp",
        source_id="26-7298",
        notice_type=NoticeType.CONTRACT_NOTICE,
        status=NoticeStatus.ACTIVE,
        title="TRAVAUX D'AMENAGEMENTS INTERIEURS ET EXTERIEURS",
        buyer=Organization(name="COMMUNE DE LA MADELEINE", siret="21590368300013"),
        contract_nature=ContractNature.WORKS,
        cpv_main="45432111",
        lots=[Lot(id="1", title="Peinture", estimated_value=Amount(amount=Decimal("12000.50")))],
        awards=[Award(winners=[Winner(name="ACME")], value=Amount(amount=Decimal("9.99")))],
        published_at=published,
        submission_deadline=datetime(2026, 2, 16, 11, tzinfo=UTC),
        updated_at=published,
        raw_sha256="0" * 64,
    )


def test_notice_round_trips_with_exact_decimal_amounts() -> None:
    notice = _notice()
    decoded = decode_notice(encode(notice))
    assert decoded == notice
    assert decoded.lots[0].estimated_value == Amount(amount=Decimal("12000.50"), currency="EUR")
    assert b'"amount":12000.50' in encode(notice)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"cpv_main": "45432111-5"}, "$.cpv_main"),
        ({"buyer": {"name": "X", "siret": "2159036830001"}}, "$.buyer.siret"),
        ({"published_at": "2026-01-21"}, "$.published_at"),
        ({"notice_type": "tender"}, "$.notice_type"),
        ({"version": 0}, "$.version"),
    ],
)
def test_notice_rejects_bad_values_naming_the_path(change: dict[str, object], path: str) -> None:
    data = msgspec.to_builtins(_notice()) | change
    with pytest.raises(msgspec.ValidationError) as info:
        decode_notice(msgspec.json.encode(data))
    assert f"`{path}`" in str(info.value)
