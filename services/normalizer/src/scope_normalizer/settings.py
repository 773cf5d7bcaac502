"""The normalizer's settings (`SCOPE_NORMALIZER_*` plus the common ones)."""

from __future__ import annotations

from scope_shared.config import CommonSettings


class NormalizerSettings(CommonSettings, frozen=True, kw_only=True):
    """Attributes:
    normalizer_concurrency: Notices mapped at once per replica. Mapping is CPU-bound, so
        more than a few only helps hide the latency of KV and publish round trips.
    normalizer_batch_size: Messages fetched per pull.
    normalizer_metrics_port: Port of the /metrics and /healthz endpoint (0: none).
    normalizer_ack_wait: Seconds before a message a crashed replica held is redelivered.
    """

    normalizer_concurrency: int = 8
    normalizer_batch_size: int = 64
    normalizer_metrics_port: int = 9102
    normalizer_ack_wait: float = 60.0
