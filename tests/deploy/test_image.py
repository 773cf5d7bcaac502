"""deploy/Dockerfile and /.dockerignore, without a Docker engine.

The image cannot be built here, so what makes it right is read from the files: a final stage
on python:3.11-slim with only the venv and the health check, a non-root user, every
workspace member installed from the lock, and a build context (after .dockerignore) that
holds every file the Dockerfile copies and none of the local clutter. The health check script
runs for real against a metrics endpoint.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from tests.deploy.nats_servers import DEPLOY
from tests.support.ports import free_port

REPO = DEPLOY.parent
DOCKERFILE = DEPLOY / "Dockerfile"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"
PRUNED = {".git", ".venv", ".cache", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _stages() -> list[Stage]:
    """The Dockerfile's stages: comments dropped, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[Stage] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), " ".join(args.split())
        if keyword == "FROM":
            parts = args.split()
            stages.append(Stage(parts[0], parts[2] if len(parts) > 2 else None))
        elif stages:
            stages[-1].instructions.append((keyword, args))
    return stages


def _arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match is not None, name
    return match.group(1)


def _members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members += sorted(str(p.relative_to(REPO)) for p in REPO.glob(pattern)
                          if (p / "pyproject.toml").exists())  # fmt: skip
    return members


def test_final_stage_is_slim_python_with_only_the_venv_and_a_non_root_user() -> None:
    final = _stages()[-1]
    assert final.base == "python:${PYTHON_VERSION}-slim-bookworm"
    assert _arg("PYTHON_VERSION") == "3.11"
    assert final.all("COPY") == [
        "--from=build /app/.venv /app/.venv",
        "deploy/docker/healthcheck.py /app/healthcheck.py",
    ]
    (user,) = final.all("USER")
    uid, _, gid = user.partition(":")
    assert int(uid) >= 1000 and int(gid) >= 1000
    (run,) = final.all("RUN")  # creating that user, nothing else: no build tools
    assert run.startswith("groupadd") and "apt-get" not in run and "pip" not in run
    assert f"--uid {uid}" in run
    (healthcheck,) = final.all("HEALTHCHECK")
    assert healthcheck.endswith('CMD ["python", "/app/healthcheck.py"]')
    assert final.all("CMD") == ['["scope", "--help"]']


def test_build_stage_installs_every_workspace_member_from_the_lock() -> None:
    build = next(s for s in _stages() if s.name == "build")
    assert "PYTHON_VERSION" in build.all("ARG")  # used in its ENV, so declared in the stage
    copies = " ".join(build.all("COPY"))
    for member in _members():
        assert f"{member}/pyproject.toml" in copies, member
        assert f"{member}/src {member}/src" in copies, member
    syncs = [r for r in build.all("RUN") if "uv sync" in r]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--locked" in sync and "--no-dev" in sync and "--no-editable" in sync
    assert "--no-install-workspace" in syncs[0]


def test_uv_version_is_the_one_the_makefile_pins() -> None:
    makefile = (REPO / "Makefile").read_text()
    match = re.search(r"^UV_VERSION := (\S+)$", makefile, re.MULTILINE)
    assert match is not None
    assert _arg("UV_VERSION") == match.group(1)
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert ">=3.11" in requires


def _dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(.dockerignore) patterns as (exclude?, regex), in order: the last match decides.

    Docker's semantics for what this file uses: paths relative to the context root, `*`
    within one path segment, `**` across segments, `!` re-includes, and a pattern that
    matches a directory matches everything below it.
    """
    rules = []
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclude = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        rules.append((exclude, re.compile(rf"^{regex}(?:/.*)?$")))
    return rules


def _in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    included = True
    for exclude, regex in rules:
        if regex.match(path):
            included = not exclude
    return included


def _context_files() -> set[str]:
    rules = _dockerignore_rules()
    files = set()
    for directory, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in PRUNED]
        for name in names:
            relative = str((Path(directory) / name).relative_to(REPO))
            if _in_context(relative, rules):
                files.add(relative)
    return files


def test_build_context_holds_every_copied_file_and_no_clutter() -> None:
    context = _context_files()
    sources = []
    for stage in _stages():
        for args in stage.all("COPY"):
            if not args.startswith("--from="):
                sources += args.split()[:-1]
    assert len(sources) >= 12
    for source in sources:
        assert source in context or any(f.startswith(source.rstrip("/") + "/") for f in context), (
            f"{source} is copied but left out of the build context"
        )
    assert "shared/src/scope_shared/bus/topology.py" in context
    assert "services/search-api/src/scope_search_api/static/swagger-ui/LICENSE" in context
    for path in context:
        assert not path.startswith(("tests/", "docs/", "bench/", "deploy/k8s/")), path
        assert "__pycache__" not in path and not path.endswith(".env"), path
    assert not any(p.startswith("deploy/") for p in context - {"deploy/docker/healthcheck.py"})


def _healthcheck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), *args], env={"PATH": os.environ["PATH"], **env},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_healthcheck_probes_the_services_configured_port() -> None:
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=CollectorRegistry())
    try:
        healthy = _healthcheck("normalizer", env={"SCOPE_NORMALIZER_METRICS_PORT": str(port)})
        wrong_port = _healthcheck("indexer", env={"SCOPE_INDEXER_METRICS_PORT": str(free_port())})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert (healthy.returncode, healthy.stderr) == (0, "")
    assert wrong_port.returncode == 1
    assert "indexer did not answer on http://127.0.0.1:" in wrong_port.stderr


def test_healthcheck_refuses_what_is_not_a_scope_service() -> None:
    unknown = _healthcheck("postgres", env={})
    disabled = _healthcheck("harvester", env={"SCOPE_HARVESTER_METRICS_PORT": "0"})
    assert (unknown.returncode, disabled.returncode) == (1, 1)
    assert "no Scope service to check ('postgres')" in unknown.stderr
    assert "harvester has no health port" in disabled.stderr


@pytest.mark.parametrize(
    ("argv", "service"),
    [
        (["/app/.venv/bin/python", "/app/.venv/bin/scope", "run", "search-api"], "search-api"),
        (["scope", "run", "indexer"], "indexer"),
        (["/app/.venv/bin/python", "/app/.venv/bin/scope", "dead-letters", "list"], None),
        ([], None),
    ],
)
def test_healthcheck_reads_the_service_from_pid_1s_command_line(
    argv: list[str], service: str | None
) -> None:
    spec = importlib.util.spec_from_file_location("healthcheck", HEALTHCHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.service_of(argv) == service
