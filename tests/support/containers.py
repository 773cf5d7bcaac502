"""NATS and OpenSearch from testcontainers, for developers with a Docker engine.

Opt-in with `SCOPE_TEST_CONTAINERS=1` (a `SCOPE_TEST_*` name, which the services' settings
leave alone); by default the tests start the local binaries (no Docker
needed, which is how CI runs). The images are the same servers in the versions Scope targets.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

NATS_IMAGE = "nats:2.11-alpine"
OPENSEARCH_IMAGE = "opensearchproject/opensearch:2.19.2"


def enabled() -> bool:
    return os.environ.get("SCOPE_TEST_CONTAINERS") == "1"


@contextmanager
def nats_container() -> Iterator[str]:
    with warnings.catch_warnings():
        # testcontainers 4.15 warns about its own deprecated readiness decorator on import.
        warnings.simplefilter("ignore", DeprecationWarning)
        from testcontainers.community.nats import NatsContainer  # noqa: PLC0415 - opt-in

    with NatsContainer(NATS_IMAGE, jetstream=True) as container:
        yield container.nats_uri()


@contextmanager
def opensearch_container() -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from testcontainers.community.opensearch import (  # noqa: PLC0415 - opt-in
            OpenSearchContainer,
        )

    with OpenSearchContainer(OPENSEARCH_IMAGE, security_enabled=False) as container:
        config = container.get_config()
        yield f"http://{config['host']}:{config['port']}"
