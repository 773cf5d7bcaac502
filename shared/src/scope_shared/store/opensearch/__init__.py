"""The OpenSearch search store (production).

Modules by role: `names` (indices and aliases), `template` (analysis and mappings),
`documents` (Notice <-> document), `textquery` + `queries` (SearchQuery -> query DSL),
`results` (response -> SearchResult), `cursor`, `bulk` (the raw bulk call), `indexing`
(a batch's writes), `cards` (procedure cards), `admin` (setup, drop), `reindex`, `store`.
"""

from scope_shared.store.opensearch.reindex import KindReport, ReindexOptions
from scope_shared.store.opensearch.store import OpenSearchStore

__all__ = ["KindReport", "OpenSearchStore", "ReindexOptions"]
