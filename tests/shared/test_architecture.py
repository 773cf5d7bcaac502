"""Services depend on scope_shared only, never on each other; scope_shared imports no service."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "scope_shared": REPO / "shared" / "src" / "scope_shared",
    "scope_harvester": REPO / "services" / "harvester" / "src" / "scope_harvester",
    "scope_normalizer": REPO / "services" / "normalizer" / "src" / "scope_normalizer",
    "scope_indexer": REPO / "services" / "indexer" / "src" / "scope_indexer",
    "scope_search_api": REPO / "services" / "search-api" / "src" / "scope_search_api",
}


def _imported_scope_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return {name for name in found if name in PACKAGES}


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_only_itself_and_scope_shared(package: str) -> None:
    allowed = {package, "scope_shared"} if package != "scope_shared" else {"scope_shared"}
    offenders = {
        str(path.relative_to(REPO)): sorted(imported - allowed)
        for path in PACKAGES[package].rglob("*.py")
        if (imported := _imported_scope_packages(path)) - allowed
    }
    assert offenders == {}


def test_architecture_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from scope_indexer.stores import x\nimport scope_shared.bus\n")
    assert _imported_scope_packages(bad) == {"scope_indexer", "scope_shared"}


def test_services_declare_no_dependency_on_each_other() -> None:
    for package, path in PACKAGES.items():
        project = tomllib.loads((path.parents[1] / "pyproject.toml").read_text())["project"]
        deps = {d.split(">")[0].split("[")[0].strip() for d in project["dependencies"]}
        scope_deps = {d for d in deps if d.startswith("scope-")}
        expected = set() if package == "scope_shared" else {"scope-shared"}
        assert scope_deps == expected, package
