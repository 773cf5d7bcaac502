"""DECP splitters: one payload per contract, source ids, formats, and bounded memory."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from lxml import etree

from scope_shared.documents.decp import iter_decp_json, iter_decp_xml
from scope_shared.schema import RawFormat
from tests.support.golden import FIXTURES

DECP = FIXTURES / "france_decp"
MB = 1024 * 1024


def _json_items(relative: str) -> list[Any]:
    with (DECP / relative).open("rb") as stream:
        return list(iter_decp_json(stream))


def _xml_items(relative: str) -> list[Any]:
    with (DECP / relative).open("rb") as stream:
        return list(iter_decp_xml(stream))


@pytest.mark.parametrize(
    ("relative", "count", "fmt"),
    [
        ("real-2019/e-marchespublics.json", 470, RawFormat.DECP_2019_JSON),
        ("real-2019/marches-publics.info_extract.json", 60, RawFormat.DECP_2019_JSON),
        ("v1.5-2019/cc-basique.json", 1, RawFormat.DECP_2019_JSON),
        ("v1.5-2019/mar-avec-modifications.json", 1, RawFormat.DECP_2019_JSON),
        ("v1.5-2019/mar-basique-avec-uid.json", 1, RawFormat.DECP_2019_JSON),
        ("v1.5-2019/paquet.json", 2, RawFormat.DECP_2019_JSON),
        ("v2-2024/concessions_avec_modifications.json", 2, RawFormat.DECP_2024_JSON),
        ("v2-2024/marches_avec_modifications.json", 2, RawFormat.DECP_2024_JSON),
        ("v2-2024/marches_concessions.json", 4, RawFormat.DECP_2024_JSON),
    ],
)
def test_json_file_splits_into_one_item_per_contract(
    relative: str, count: int, fmt: RawFormat
) -> None:
    items = _json_items(relative)
    assert len(items) == count
    assert {item.format for item in items} == {fmt}


@pytest.mark.parametrize(
    ("relative", "formats"),
    [
        ("v1.5-2019/mar-avec-modifications.xml", [RawFormat.DECP_2019_XML]),
        ("v1.5-2019/paquet.xml", [RawFormat.DECP_2019_XML] * 4),
        ("v2-2024/Marche.xml", [RawFormat.DECP_2024_XML] * 2),
        ("v2-2024/Contrat-concession-modification.xml", [RawFormat.DECP_2024_XML] * 2),
    ],
)
def test_xml_file_splits_into_one_item_per_contract_with_its_generation(
    relative: str, formats: list[RawFormat]
) -> None:
    assert [item.format for item in _xml_items(relative)] == formats


def test_json_source_id_is_uid_when_the_record_has_one() -> None:
    (item,) = _json_items("v1.5-2019/mar-basique-avec-uid.json")
    assert item.source_id == "213502388000192010345211200"


def test_json_source_id_is_buyer_siret_then_contract_id_without_uid() -> None:
    items = _json_items("v1.5-2019/paquet.json")
    assert [i.source_id for i in items] == [
        "213502388000192010345211200",
        "21350238800019200103452112",  # concession: autoriteConcedante.id + id
    ]


def test_real_uid_is_kept_as_published() -> None:
    items = _json_items("real-2019/marches-publics.info_extract.json")
    assert items[15].source_id == "2174013480001620180001-0200"
    assert items[0].source_id == "242010056000732018MC1804600"


def test_published_at_is_the_publication_date_in_utc() -> None:
    items = _json_items("real-2019/marches-publics.info_extract.json")
    assert items[0].published_at == datetime(2019, 1, 15, 23, 0, tzinfo=UTC)
    # `2019-02-04+01:00`: the offset given is the one used.
    assert items[15].published_at == datetime(2019, 2, 3, 23, 0, tzinfo=UTC)


def test_json_payload_is_the_record_with_exact_numbers() -> None:
    items = _json_items("real-2019/marches-publics.info_extract.json")
    record = msgspec.json.Decoder(float_hook=Decimal).decode(items[3].payload)
    assert record["montant"] == Decimal("21982.68")
    assert b'"montant":21982.68' in items[3].payload
    assert record["objet"].startswith("La présente consultation")


def test_json_2024_yields_both_arrays_in_document_order() -> None:
    items = _json_items("v2-2024/marches_concessions.json")
    kinds = [msgspec.json.decode(i.payload).get("autoriteConcedante") is not None for i in items]
    assert kinds == [True, True, False, False]
    first = msgspec.json.decode(items[2].payload)
    assert first["titulaires"] == [
        {"titulaire": {"id": "55204599900869", "typeIdentifiant": "SIRET"}}
    ]


def test_xml_payload_is_the_contract_element_alone() -> None:
    items = _xml_items("v1.5-2019/paquet.xml")
    root = etree.fromstring(items[2].payload)
    assert root.tag == "marche"
    assert root.findtext("id") == "2010345211200"
    assert [i.source_id for i in items] == [
        "2135023880001920010345211200",
        "2135023880001920010345212500",
        "213502388000192010345211200",
        "213502388000192010345213500",
    ]


def test_xml_lone_contract_root_is_split() -> None:
    (item,) = _xml_items("v1.5-2019/mar-avec-modifications.xml")
    assert item.source_id == "213502388000192010345211203"
    assert item.published_at == datetime(2007, 8, 18, 22, 0, tzinfo=UTC)


def test_xml_contract_without_v2_elements_is_2019() -> None:
    document = (
        b"<marches><marche><id>1</id><acheteur><id>21350238800019</id></acheteur>"
        b"<considerationsSociales><considerationSociale>Clause sociale"
        b"</considerationSociale></considerationsSociales></marche>"
        b"<marche><id>2</id></marche></marches>"
    )
    items = list(iter_decp_xml(io.BytesIO(document)))
    assert [i.format for i in items] == [RawFormat.DECP_2024_XML, RawFormat.DECP_2019_XML]
    assert [i.source_id for i in items] == ["213502388000191", "2"]


def test_contract_without_id_gets_a_digest_source_id() -> None:
    (item,) = iter_decp_json(io.BytesIO(b'{"marches": [{"objet": "x"}]}'))
    assert item.source_id.startswith("sha256-")
    assert len(item.source_id) == len("sha256-") + 64


def test_json_without_marches_is_refused() -> None:
    with pytest.raises(ValueError, match="not a DECP JSON document"):
        list(iter_decp_json(io.BytesIO(b'[{"id": "1"}]')))


def test_json_empty_marches_yields_nothing() -> None:
    assert list(iter_decp_json(io.BytesIO(b'{"$schema": "x", "marches": []}'))) == []


def _big_json(path: Path, target: int) -> int:
    """A DECP 2019 file of about `target` bytes made by repeating a real record."""
    with (DECP / "real-2019/e-marchespublics.json").open("rb") as stream:
        record = next(iter_decp_json(stream)).payload
    count = target // (len(record) + 1) + 1
    with path.open("wb") as out:
        out.write(b'{"marches": [')
        out.write(b",".join([record] * count))
        out.write(b"]}")
    return count


def test_json_splitter_memory_stays_flat_on_a_20_mb_file(tmp_path: Path) -> None:
    path = tmp_path / "decp.json"
    count = _big_json(path, 20 * MB)
    assert path.stat().st_size > 20 * MB
    seen = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            for _ in iter_decp_json(stream):
                seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert peak < 2 * MB


def test_json_2024_splitter_memory_stays_flat(tmp_path: Path) -> None:
    with (DECP / "v2-2024/marches_avec_modifications.json").open("rb") as stream:
        record = next(iter_decp_json(stream)).payload
    count = 5 * MB // len(record)
    path = tmp_path / "decp-2024.json"
    path.write_bytes(b'{"marches": {"marche": [' + b",".join([record] * count) + b"]}}")
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            seen = sum(1 for _ in iter_decp_json(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert peak < 2 * MB


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_xml_splitter_clears_contracts_as_it_goes(tmp_path: Path) -> None:
    # libxml2's tree is not seen by tracemalloc: the resident size is what shows it.
    with (DECP / "v1.5-2019/paquet.xml").open("rb") as stream:
        record = list(iter_decp_xml(stream))[2].payload
    count = 20 * MB // len(record) + 1
    path = tmp_path / "decp.xml"
    with path.open("wb") as out:
        out.write(b"<marches>")
        for _ in range(count):
            out.write(record)
        out.write(b"</marches>")
    before = _rss()
    peak = before
    seen = 0
    with path.open("rb") as stream:
        for _ in iter_decp_xml(stream):
            seen += 1
            if seen % 1000 == 0:
                peak = max(peak, _rss())
    assert seen == count
    assert peak - before < 40 * MB


def test_json_file_starting_with_a_byte_order_mark_gives_the_same_contracts() -> None:
    """Some exports start with a UTF-8 BOM, which ijson refuses: without this the file
    failed at every harvest, as a transient error."""
    data = (DECP / "real-2019/e-marchespublics.json").read_bytes()
    plain = list(iter_decp_json(io.BytesIO(data)))
    assert len(plain) == 470
    assert list(iter_decp_json(io.BytesIO(b"\xef\xbb\xbf" + data))) == plain
