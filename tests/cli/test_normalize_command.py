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
