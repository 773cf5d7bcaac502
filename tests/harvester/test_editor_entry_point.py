"""An editor's harvester in its own package joins the registry through its entry point.

`pip install` of tests/fixtures/editor_package would leave two things in site-packages: the
code, and a `.dist-info` folder whose `entry_points.txt` importlib.metadata reads. Building a
wheel and a venv per test is too slow, so the fixture lays down the same two things by hand in a
temporary folder put on sys.path; the entry point text is taken from the package's own
pyproject.toml, so the declaration under test is the real one. The run then goes through the
real HarvestRun and the real nats-server, against a replay serving a real OCDS package.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from scope_harvester.service import build_instances
from scope_harvester.settings import HarvesterSettings
from scope_harvester.sources import ENTRY_POINT_GROUP, REGISTRY, find_harvester, load_registry
from scope_shared.bus import RAW_STREAM, decode_raw, headers
from scope_shared.devservices.replay.ocds import PACKAGES_PATH, OcdsReplay, load_package
from scope_shared.errors import ConfigError
from tests.harvester.conftest import HarvestFn

PACKAGE = Path(__file__).parents[1] / "fixtures/editor_package"
MEXICO = load_package(Path(__file__).parents[1] / "fixtures/ocds/release-package-1.json")
MODULE = "scope_example_editor"


@pytest.fixture
def installed_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
    dist_info = tmp_path / f"{MODULE}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    declared = project["entry-points"][ENTRY_POINT_GROUP]
    lines = "".join(f"{name} = {target}\n" for name, target in declared.items())
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(PACKAGE / "src"))
    yield
    sys.modules.pop(MODULE, None)


def test_editor_kind_is_absent_until_its_package_is_installed() -> None:
    assert "example_editor" not in load_registry()
    assert "example_editor" not in REGISTRY


def test_installed_package_registers_its_harvester_beside_the_in_tree_ones(
    installed_editor: None,
) -> None:
    registry = load_registry()
    harvester = registry["example_editor"]
    assert (harvester.__module__, harvester.__name__) == (MODULE, "ExampleEditorHarvester")
    assert harvester.kind == "example_editor"
    assert {name: registry[name] for name in REGISTRY} == REGISTRY
    assert "example_editor" not in REGISTRY


async def test_editor_harvester_publishes_its_notices_on_its_own_subject(
    installed_editor: None, serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    url = await serve(OcdsReplay([MEXICO], per_page=len(MEXICO["releases"])).app())
    harvester = load_registry()["example_editor"]
    report = await harvest(harvester, f"{url}{PACKAGES_PATH}", name="france_example_editor")
    assert (report.status, report.counts.published) == ("ok", 2)
    info = await js.stream_info(RAW_STREAM)
    messages = [
        await js.get_msg(RAW_STREAM, seq)
        for seq in range(info.state.first_seq, info.state.last_seq + 1)
    ]
    assert {m.subject for m in messages} == {"scope.raw.france_example_editor"}
    raws = [decode_raw(m.data or b"") for m in messages]
    assert sorted(r.source_id for r in raws) == [
        "OCDS-87SD3T-AD-SF-DRM-063-2015/01",
        "OCDS-87SD3T-AD-SF-DRM-063-2015/02",
    ]
    assert [(m.headers or {})[headers.MSG_ID] for m in messages] == [r.msg_id for r in raws]


@pytest.fixture
def broken_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed package whose entry point names a module that is not there."""
    dist_info = tmp_path / "scope_broken_editor-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: scope-broken-editor\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nbroken_editor = scope_broken_editor:Missing\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_broken_editor_package_stops_only_the_sources_that_use_it(
    broken_editor: None, tmp_path: Path
) -> None:
    """It stopped every source at start, even with none of its kind configured."""
    assert "broken_editor" not in load_registry()
    assert find_harvester("france_boamp") is REGISTRY["france_boamp"]
    sources = tmp_path / "sources.toml"
    sources.write_text("[sources.france_boamp]\n")
    settings = HarvesterSettings(harvester_sources_file=str(sources))
    assert [i.name for i in build_instances(settings)] == ["france_boamp"]
    sources.write_text("[sources.france_boamp]\n[sources.megalis]\nkind = 'broken_editor'\n")
    with pytest.raises(ConfigError, match=r"'broken_editor': its package .* cannot be loaded"):
        build_instances(HarvesterSettings(harvester_sources_file=str(sources)))


@pytest.mark.parametrize("name", ["France-Megalis", "france.megalis", "x"])
def test_a_source_name_that_cannot_be_a_subject_token_stops_the_start(
    tmp_path: Path, name: str
) -> None:
    """Its notices would all be dead-lettered (the schema's source name), or published on a
    subject whose last token is not the source."""
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[sources."{name}"]\nkind = "rss_feed"\nbase_url = "https://x.example"\n')
    with pytest.raises(ConfigError, match="a name is lower case letters"):
        build_instances(HarvesterSettings(harvester_sources_file=str(sources)))
