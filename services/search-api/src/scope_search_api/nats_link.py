"""The API's optional NATS connection, used only to read harvester states (/v1/sources).

The search never depends on NATS. At start the API tries to connect; while NATS cannot be
reached it keeps trying in the background, and meanwhile /v1/sources answers 503 and /readyz
reports `nats: unavailable`. Once connected, the client reconnects by itself
(scope_shared.bus.connect).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

import structlog
from nats.aio.client import Client as NatsClient
from nats.js.kv import KeyValue

from scope_search_api.settings import ApiSettings
from scope_shared.bus import connect, harvester_state_bucket

log = structlog.get_logger(component="nats_link")


class NatsLink:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.client: NatsClient | None = None
        self._bucket: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def start(self) -> None:
        """Connect in the background; wait for it at most one connect timeout.

        `scope_shared.bus.connect` retries forever until a server answers, so the task ends
        when NATS comes up, however late.
        """
        self._task = asyncio.create_task(self._connect(), name="nats-connect")
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.settings.nats_connect_timeout)
        except TimeoutError:
            log.warning(
                "nats_unavailable", servers=[_without_password(u) for u in self.settings.nats_url]
            )

    async def _connect(self) -> None:
        try:
            self.client = await connect(self.settings, "scope-search-api")
        except Exception as exc:  # noqa: BLE001 - a bad URL or credentials must not stop the search
            log.error("nats_connect_failed", error_type=type(exc).__name__, error=str(exc))
            return
        log.info("nats_connected")

    async def state_bucket(self) -> KeyValue:
        """The harvester state bucket (looked up once per connection)."""
        assert self.client is not None
        if self._bucket is None:
            self._bucket = await harvester_state_bucket(self.client.jetstream())
        return self._bucket

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.client is not None and not self.client.is_closed:
            await self.client.close()


def _without_password(url: str) -> str:
    """`nats://user:secret@host:4222` as `nats://user:***@host:4222`: nats-py accepts
    credentials in the URL, and a log line is no place for them."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
