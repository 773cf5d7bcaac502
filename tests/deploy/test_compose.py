"""deploy/compose.yaml: valid against the Compose specification, and complete for Scope.

No Docker engine here: the file is checked against the compose-spec JSON Schema that
check-jsonschema vendors, then for what Scope needs (healthchecks, limits, security on in
OpenSearch, every variable in .env.example, settings the services accept), and the
OpenSearch setup script runs against a local stand-in for the security API.
"""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer

from scope_harvester.service import build_instances
from scope_harvester.settings import HarvesterSettings
from tests.deploy import tools
from tests.deploy.nats_servers import DEPLOY, NATS_DIR, referenced_variables
from tests.deploy.settings_check import load_service_settings

COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
SCOPE_SERVICES = ("harvester", "normalizer", "indexer", "search-api")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?]([^}]*))?\}")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR:?error}` against `env`."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2) or ""
        return env.get(name) or ("" if "?" in match.group(0) else default)

    return INTERPOLATION.sub(one, value)


def _env_example() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
             if line and not line.startswith("#")]  # fmt: skip
    return dict(pairs)


def test_compose_file_matches_the_compose_specification() -> None:
    result = tools.run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_the_schema_check_catches_a_misspelt_key(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n", "    healthchek:\n", 1))
    result = tools.run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", broken)
    assert result.returncode == 1
    assert "healthchek" in result.stdout


@pytest.mark.parametrize("service", SCOPE_SERVICES)
def test_scope_service_runs_the_image_with_healthcheck_restart_and_limits(service: str) -> None:
    spec = _compose()["services"][service]
    assert spec["image"] == "${SCOPE_IMAGE:-scope:latest}"
    assert spec["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert spec["command"] == ["scope", "run", service]
    assert spec["healthcheck"]["test"] == ["CMD", "python", "/app/healthcheck.py", service]
    assert spec["restart"] == "unless-stopped"
    limits = spec["deploy"]["resources"]["limits"]
    assert set(limits) == {"cpus", "memory"}
    assert spec["read_only"] is True
    assert spec["cap_drop"] == ["ALL"]
    assert spec["depends_on"]["nats"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("service", SCOPE_SERVICES)
def test_scope_service_environment_loads_as_its_settings(service: str) -> None:
    dotenv = {k: v or "p0123abcd" for k, v in _env_example().items()}  # passwords filled in
    env = {k: _interpolate(str(v), dotenv)
           for k, v in _compose()["services"][service]["environment"].items()}  # fmt: skip
    settings = load_service_settings(service, env)
    assert settings.nats_url == ["nats://nats:4222"]
    assert settings.nats_user == {"search-api": "search_api"}.get(service, service)
    assert settings.log_format == "json"
    if service in ("indexer", "search-api"):
        assert settings.store == "opensearch"
        assert settings.opensearch_url.startswith("https://scope_")
        assert settings.opensearch_url.endswith("@opensearch:9200")


def test_every_service_is_restarted_and_limited() -> None:
    for name, spec in _compose()["services"].items():
        assert spec.get("restart") in {"unless-stopped", "no"}, name
        assert "memory" in spec["deploy"]["resources"]["limits"], name


def test_opensearch_keeps_its_security_plugin_and_takes_the_admin_password_from_env() -> None:
    services = _compose()["services"]
    opensearch = services["opensearch"]["environment"]
    assert "DISABLE_SECURITY_PLUGIN" not in opensearch
    assert not any("plugins.security.disabled" in str(k) for k in opensearch)
    assert opensearch["OPENSEARCH_INITIAL_ADMIN_PASSWORD"].startswith(
        "${OPENSEARCH_ADMIN_PASSWORD:?"
    )
    assert services["opensearch-dashboards"]["profiles"] == ["dashboards"]
    setup = services["opensearch-setup"]
    assert setup["entrypoint"] == ["/bin/bash", "/setup/setup-security.sh"]
    for service in ("indexer", "search-api"):
        assert services[service]["depends_on"]["opensearch-setup"] == {
            "condition": "service_completed_successfully"
        }


def test_env_example_lists_exactly_the_variables_compose_reads() -> None:
    used = {m.group(1) for m in INTERPOLATION.finditer(COMPOSE.read_text())}
    assert used == set(_env_example())


def test_nats_gets_every_secret_its_configuration_reads() -> None:
    needed = referenced_variables(NATS_DIR / "hub.conf", NATS_DIR / "accounts.conf",
                                  NATS_DIR / "editors.conf")  # fmt: skip
    given = set(_compose()["services"]["nats"]["environment"])
    assert needed == given
    assert _compose()["services"]["nats"]["command"] == [
        "nats-server", "--config", "/etc/nats/hub.conf",
    ]  # fmt: skip


def test_compose_sources_file_is_valid_for_the_harvester() -> None:
    settings = HarvesterSettings(harvester_sources_file=str(DEPLOY / "sources.toml"))
    assert [i.name for i in build_instances(settings)] == [
        "france_boamp", "europe_ted", "france_decp",
    ]  # fmt: skip


@pytest.fixture
async def security_api() -> AsyncIterator[tuple[str, list[tuple[str, str, str, Any]]]]:
    """A stand-in for OpenSearch's security REST API that records what it is sent."""
    calls: list[tuple[str, str, str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.read()
        auth = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        calls.append((request.method, request.path_qs, auth,
                      msgspec.json.decode(body) if body else None))  # fmt: skip
        return web.json_response({"status": "OK"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), calls
    await server.close()


async def test_opensearch_setup_script_creates_roles_users_and_mappings(
    security_api: tuple[str, list[tuple[str, str, str, Any]]],
) -> None:
    url, calls = security_api
    if shutil.which("curl") is None:
        pytest.fail("curl is required (the OpenSearch image has it)")
    env = {
        "PATH": "/usr/bin:/bin",
        "OPENSEARCH_URL": url,
        # Quotes and backslashes must reach OpenSearch intact, JSON-escaped.
        "OPENSEARCH_ADMIN_PASSWORD": 'Adm1n"pass\\word',
        "OPENSEARCH_INDEXER_PASSWORD": 'pindexer"1',
        "OPENSEARCH_SEARCH_PASSWORD": "psearch2",
        "OPENSEARCH_WAIT_SECONDS": "10",
    }
    process = await _run_script(env)
    assert process.returncode == 0, process.stderr
    assert [(method, path) for method, path, _, _ in calls] == [
        ("GET", "/_cluster/health?wait_for_status=yellow&timeout=5s"),
        ("PUT", "/_plugins/_security/api/roles/scope_writer"),
        ("PUT", "/_plugins/_security/api/roles/scope_reader"),
        ("PUT", "/_plugins/_security/api/internalusers/scope_indexer"),
        ("PUT", "/_plugins/_security/api/internalusers/scope_search"),
        ("PUT", "/_plugins/_security/api/rolesmapping/scope_writer"),
        ("PUT", "/_plugins/_security/api/rolesmapping/scope_reader"),
    ]
    assert {auth for _, _, auth, _ in calls} == {'admin:Adm1n"pass\\word'}
    bodies = {path.removeprefix("/_plugins/_security/api/"): body for _, path, _, body in calls}
    assert bodies["internalusers/scope_indexer"]["password"] == 'pindexer"1'
    assert bodies["internalusers/scope_search"]["password"] == "psearch2"
    assert bodies["rolesmapping/scope_writer"] == {"users": ["scope_indexer"]}
    assert bodies["rolesmapping/scope_reader"] == {"users": ["scope_search"]}
    writer, reader = bodies["roles/scope_writer"], bodies["roles/scope_reader"]
    assert writer["index_permissions"] == [
        {"index_patterns": ["scope-*"], "allowed_actions": ["indices_all"]}
    ]
    assert reader["index_permissions"] == [
        {"index_patterns": ["scope-*"], "allowed_actions": ["read", "indices_monitor"]}
    ]


async def _run_script(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # In a thread: the stand-in server answers on this event loop meanwhile.
    return await asyncio.to_thread(
        subprocess.run,
        ["bash", str(DEPLOY / "opensearch" / "setup-security.sh")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
