"""A real single-node OpenSearch 2.19 with the modules Scope needs, without Docker."""

from scope_shared.devservices.opensearch.modules import OPENSEARCH_VERSION
from scope_shared.devservices.opensearch.server import OpenSearchServer

__all__ = ["OPENSEARCH_VERSION", "OpenSearchServer"]
