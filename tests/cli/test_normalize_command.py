"""`scope normalize`: files as harvested in, one canonical notice per line out, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec

from scope_shared.schema import Notice

SCOPE = Path(sys.executable).parent / "scope"
FIXTURES = Path(__file__).parents[1] / "fixtures"
BOAMP = FIXTURES / "france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
TED_XML = FIXTURES / "europe_ted/r2.0.9/19-090974-001-EXP.xml"
TED_API = FIXTURES / "europe_ted/api/ted_api_v3_search_response_fixture.json"
DECP_XML = FIXTURES / "france_decp/v1.5-2019/paquet.xml"
DECP_JSON = FIXTURES / "france_decp/v1.5-2019/paquet.json"


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCOPE), "normalize", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _notices(stdout: str) -> list[Notice]:
    return [msgspec.json.decode(line, type=Notice) for line in stdout.splitlines()]


def test_detects_formats_and_prints_one_notice_per_line() -> None:
    result = _run(BOAMP, TED_XML)
    assert result.returncode == 0, result.stderr
    notices = _notices(result.stdout)
    assert [n.id for n in notices] == [
        "france_boamp:26-7298", "france_boamp:26-7308", "france_boamp:26-7319",
        "france_boamp:26-7109", "france_boamp:26-7113", "europe_ted:91489-2019",
    ]  # fmt: skip
    assert notices[0].buyer is not None and notices[0].buyer.siret == "21590368300013"


def test_unmappable_notice_reported_on_stderr_rest_still_printed_exit_1() -> None:
    result = _run(TED_API, BOAMP)
    assert result.returncode == 1
    assert "67623-2022" in result.stderr and "notice-title" in result.stderr
    assert len(_notices(result.stdout)) == 5


def test_unreadable_file_is_reported_with_its_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"something": "else"}')
    result = _run(bad, BOAMP)
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert len(_notices(result.stdout)) == 5


def test_format_option_overrides_detection() -> None:
    result = _run("--format", "boamp_json", BOAMP)
    assert result.returncode == 0
    assert len(_notices(result.stdout)) == 5


def test_usage_error_exits_2() -> None:
    assert _run("--format", "pdf", BOAMP).returncode == 2
    assert _run().returncode == 2


def test_notice_that_cannot_be_identified_is_reported_not_dropped(tmp_path: Path) -> None:
    records = msgspec.json.decode(BOAMP.read_bytes())
    records["results"][1]["idweb"] = None
    file = tmp_path / "page.json"
    file.write_bytes(msgspec.json.encode(records))
    result = _run(file)
    assert result.returncode == 1
    assert f"{file}: $.results[1].idweb: the record has no idweb" in result.stderr
    assert len(_notices(result.stdout)) == 4


def test_cut_or_malformed_decp_file_is_reported_and_the_next_file_still_read(
    tmp_path: Path,
) -> None:
    cut = tmp_path / "cut.xml"
    cut.write_bytes(DECP_XML.read_bytes()[:3000])
    empty = tmp_path / "null.json"
    empty.write_bytes(b'{"marches": null}')
    result = _run(cut, empty, BOAMP)
    assert result.returncode == 1
    assert f"{cut}: unreadable document" in result.stderr
    assert f"{empty}: unreadable document" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(_notices(result.stdout)) == 5


def test_files_with_a_byte_order_mark_or_a_single_contract_are_read(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + DECP_JSON.read_bytes())
    single = FIXTURES / "france_decp/v1.5-2019/mar-avec-modifications.xml"
    result = _run(with_bom, single)
    assert result.returncode == 0, result.stderr
    plain = _run(DECP_JSON)
    assert len(_notices(result.stdout)) == len(_notices(plain.stdout)) + 1


def test_boamp_json_lines_export_is_detected(tmp_path: Path) -> None:
    records = msgspec.json.decode(BOAMP.read_bytes())["results"]
    lines = tmp_path / "export.jsonl"
    lines.write_bytes(b"\n".join(msgspec.json.encode(r) for r in records) + b"\n")
    result = _run(lines)
    assert result.returncode == 0, result.stderr
    assert len(_notices(result.stdout)) == 5
