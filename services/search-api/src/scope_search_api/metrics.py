"""Prometheus metrics of the API, on a registry of its own (served at /metrics).

Labels stay bounded: `route` is the route template (`/v1/notices/{id}`), never the raw path.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From a cached reference look-up (~1 ms) to the store timeout (5 s by default)."""


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The process's memory, CPU, open files and collections, as every worker exports them.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.requests = Counter(
            "scope_search_api_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "scope_search_api_request_duration_seconds",
            "Time to answer a request (until the handler returns), by route and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_latency = Histogram(
            "scope_search_api_store_duration_seconds",
            "Time of each store call, by operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_failures = Counter(
            "scope_search_api_store_failures_total",
            "Store calls that timed out or failed, by operation and reason.",
            ["operation", "reason"],
            registry=self.registry,
        )
