"""Prometheus metrics endpoint for the worker services (harvester, normalizer, indexer).

Metric names follow `scope_<service>_<thing>_total`. The endpoint answers every path, so
`/metrics` serves Prometheus and `/healthz` serves a liveness probe: an answer means the
process's event loop thread is alive enough to run the exporter.
"""

from __future__ import annotations

from prometheus_client import start_http_server


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - probes come from outside the pod
    """Start the exporter on a daemon thread; port 0 disables it."""
    if port:
        start_http_server(port, addr=host)
