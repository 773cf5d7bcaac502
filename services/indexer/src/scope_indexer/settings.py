"""The indexer's settings (`SCOPE_INDEXER_*` plus the common ones, `SCOPE_STORE` among them)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from scope_shared.config import CommonSettings


class IndexerSettings(CommonSettings, frozen=True, kw_only=True):
    """Attributes:
    indexer_batch_size: Notices per bulk request. 500 keeps a bulk body around a few MB
        with real notices, where OpenSearch bulk throughput levels off.
    indexer_fetch_timeout: Seconds a pull waits to fill a batch: the flush-by-time bound.
    indexer_max_backoff: Longest pause, in seconds, while the store refuses writes.
    indexer_metrics_port: Port of /metrics (0: none).
    indexer_ack_wait: Seconds before a batch a crashed replica held is redelivered; longer
        than the slowest bulk request, or a live replica's batch would be sent twice.
    indexer_in_flight: Batches written at once: with 2, the next batch is fetched and
        prepared while the store writes the previous one.
    """

    indexer_batch_size: int = 500
    indexer_fetch_timeout: float = 1.0
    indexer_max_backoff: float = 60.0
    indexer_metrics_port: int = 9103
    indexer_ack_wait: float = 60.0
    indexer_in_flight: Annotated[int, msgspec.Meta(ge=1, le=8)] = 2
