"""The search store contract: what the indexer writes and the search API reads.

Two implementations answer it the same way: OpenSearch (production) and an embedded SQLite
store (the single-machine default). Both live here because both the indexer and the search API
use them. One contract test suite runs against both.
"""

from scope_shared.store.contract import (
    FACETS,
    MAX_PAGE_SIZE,
    TOTAL_EXACT_UP_TO,
    CardSummary,
    FacetBucket,
    Hit,
    IndexOutcome,
    InvalidCursor,
    ProcedureCard,
    SearchQuery,
    SearchResult,
    SearchStore,
    SortOrder,
)
from scope_shared.store.procedures import procedure_card

__all__ = [
    "FACETS",
    "MAX_PAGE_SIZE",
    "TOTAL_EXACT_UP_TO",
    "CardSummary",
    "FacetBucket",
    "Hit",
    "IndexOutcome",
    "InvalidCursor",
    "ProcedureCard",
    "SearchQuery",
    "SearchResult",
    "SearchStore",
    "SortOrder",
    "procedure_card",
]
