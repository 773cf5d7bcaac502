"""The store a deployment configured: `SCOPE_STORE` `auto` (default), `embedded` or `opensearch`.

`auto` means OpenSearch when `SCOPE_OPENSEARCH_URL` is set, else the embedded store.
"""

from __future__ import annotations

from pathlib import Path

from scope_shared.config import CommonSettings
from scope_shared.errors import ConfigError
from scope_shared.store.contract import SearchStore

EMBEDDED_FILE = "notices.db"


def open_store(settings: CommonSettings) -> SearchStore:
    """A store instance (not yet set up). Imports only the kind in use."""
    kind = settings.store
    if kind == "auto":
        kind = "opensearch" if settings.opensearch_url else "embedded"
    if kind == "opensearch":
        if not settings.opensearch_url:
            raise ConfigError("SCOPE_OPENSEARCH_URL is required when SCOPE_STORE=opensearch")
        from scope_shared.store.opensearch import OpenSearchStore  # noqa: PLC0415 - per kind

        return OpenSearchStore(
            settings.opensearch_url,
            ca_certs=settings.opensearch_ca or None,
            verify_certs=settings.opensearch_verify_certs,
            replicas=settings.opensearch_replicas,
        )
    from scope_shared.store.embedded import EmbeddedStore  # noqa: PLC0415 - per kind

    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return EmbeddedStore(Path(settings.data_dir) / EMBEDDED_FILE)
