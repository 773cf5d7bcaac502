"""`scope run search-api`: the real process serves, then stops cleanly on SIGTERM; the app
factory opens and closes the configured store itself when given none; settings from env."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from scope_search_api.app import create_app
from scope_search_api.nats_link import _without_password
from scope_search_api.settings import ApiSettings
from scope_shared.config import load_settings
from scope_shared.errors import ConfigError
from tests.search_api.conftest import api_settings
from tests.support.ports import free_port
from tests.support.processes import service_process, stop_with_sigterm


def _settings(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        "SCOPE_STORE": "embedded",
        "SCOPE_DATA_DIR": str(tmp_path),
        "SCOPE_NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "SCOPE_NATS_CONNECT_TIMEOUT": "0.2",
        "SCOPE_API_HOST": "127.0.0.1",
        "SCOPE_API_PORT": str(port),
    }


async def _wait_healthy(url: str, process: asyncio.subprocess.Process) -> dict[str, object]:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "the service exited"
            try:
                async with session.get(f"{url}/readyz") as response:
                    body: dict[str, object] = await response.json()
                    return body
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError("the service did not answer")


@pytest.mark.slow
async def test_service_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    async with service_process("search-api", _settings(tmp_path, port)) as process:
        ready = await _wait_healthy(f"http://127.0.0.1:{port}", process)
        assert ready == {"status": "degraded", "checks": {"store": "ok", "nats": "unavailable"}}
        returncode, events, _ = await stop_with_sigterm(process, seconds=30)
    assert returncode == 0
    assert "api_started" in events
    assert "request_served" in events
    assert events.index("request_served") < events.index("api_stopped")
    assert (tmp_path / "notices.db").exists()


async def test_app_without_a_store_opens_the_configured_one(tmp_path: Path) -> None:
    settings = api_settings(store="embedded", data_dir=tmp_path)
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        body = await (await client.get("/v1/notices")).json()
        assert body["total"] == {"value": 0, "relation": "eq"}
        assert (await client.get("/readyz")).status == 200
    assert (tmp_path / "notices.db").exists()


def test_settings_come_from_scope_api_variables() -> None:
    settings = load_settings(
        ApiSettings,
        {"SCOPE_API_PORT": "9000", "SCOPE_API_CORS_ORIGINS": "https://a.example, https://b.example",
         "SCOPE_API_STORE_TIMEOUT": "2.5", "SCOPE_API_MAX_CSV_ROWS": "500"},
        service_prefix="API_",
    )  # fmt: skip
    assert settings.api_port == 9000
    assert settings.api_cors_origins == ["https://a.example", "https://b.example"]
    assert settings.api_store_timeout == 2.5
    assert settings.api_max_csv_rows == 500
    with pytest.raises(ConfigError, match="SCOPE_API_PORTT"):
        load_settings(ApiSettings, {"SCOPE_API_PORTT": "1"}, service_prefix="API_")
    with pytest.raises(ConfigError, match="SCOPE_API_STORE_TIMEOUT"):
        load_settings(ApiSettings, {"SCOPE_API_STORE_TIMEOUT": "0"}, service_prefix="API_")


def test_a_password_in_the_nats_url_stays_out_of_the_log() -> None:
    assert _without_password("nats://api:s3cret@nats.internal:4222") == (
        "nats://api:***@nats.internal:4222"
    )
    assert _without_password("tls://nats.internal:4222") == "tls://nats.internal:4222"
