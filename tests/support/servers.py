"""The servers the test suite uses when no external ones are given.

`python -m tests.support.servers` installs and starts them before pytest runs (so a first
download of OpenSearch is not counted against a test's timeout); the fixtures then find them
already running and reuse them.
"""

from __future__ import annotations

import os

from scope_shared.config import default_cache_dir
from scope_shared.devservices.opensearch import OpenSearchServer

TEST_OPENSEARCH_PORT = 9250
"""Apart from the development default 9200, so tests never write into a developer's node."""


def test_opensearch_server() -> OpenSearchServer:
    cache = default_cache_dir()
    return OpenSearchServer(
        cache_dir=cache, data_dir=cache / "test-opensearch", port=TEST_OPENSEARCH_PORT
    )


test_opensearch_server.__test__ = False  # type: ignore[attr-defined]


def main() -> None:
    if not os.environ.get("SCOPE_OPENSEARCH_URL"):
        print(f"opensearch {test_opensearch_server().start()}")


if __name__ == "__main__":
    main()
