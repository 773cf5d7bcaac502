"""The local development stack: one nats-server and, optionally, one OpenSearch node."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from scope_shared.config import CommonSettings
from scope_shared.devservices.nats import NatsServer
from scope_shared.devservices.opensearch import OpenSearchServer

DEFAULT_NATS_PORT = 4222
DEFAULT_OPENSEARCH_PORT = 9200


def _port(url: str, default: int) -> int:
    return urlparse(url).port or default if url else default


@dataclass
class DevStack:
    nats: NatsServer
    opensearch: OpenSearchServer | None

    @classmethod
    def from_settings(cls, settings: CommonSettings, *, with_opensearch: bool) -> DevStack:
        services_dir = Path(settings.data_dir) / "services"
        nats = NatsServer(
            services_dir / "nats", port=_port(settings.nats_url[0], DEFAULT_NATS_PORT)
        )
        opensearch = None
        if with_opensearch:
            opensearch = OpenSearchServer(
                cache_dir=Path(settings.cache_dir),
                data_dir=services_dir / "opensearch",
                port=_port(settings.opensearch_url, DEFAULT_OPENSEARCH_PORT),
            )
        return cls(nats=nats, opensearch=opensearch)

    def up(self) -> dict[str, str]:
        urls = {"nats": self.nats.start()}
        if self.opensearch is not None:
            urls["opensearch"] = self.opensearch.start()
        return urls

    def down(self) -> None:
        self.nats.stop()
        if self.opensearch is not None:
            self.opensearch.stop()

    def status(self) -> dict[str, dict[str, object]]:
        result = {"nats": self.nats.status()}
        if self.opensearch is not None:
            result["opensearch"] = self.opensearch.status()
        return result
