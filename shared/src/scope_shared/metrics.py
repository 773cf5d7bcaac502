"""Prometheus metrics and the liveness probe of the worker services (harvester, normalizer,
indexer), on one port served by a thread of their own.

Metric names follow `scope_<service>_<thing>_total`. `/healthz` answers 200 while the event
loop turns (a task of the service's loop marks it every few seconds, `keep_beating`) and 503
once it has not for `LIVENESS_STALE_SECONDS`: a loop blocked by a runaway parse, or wedged, is
restarted by the orchestrator instead of looking alive because the exporter thread is. Every
other path serves the metrics.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import REGISTRY, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

LIVENESS_STALE_SECONDS = 60.0
"""Longer than any step a healthy loop blocks for (a large parse goes to a thread), far
shorter than a wedged worker should be left running."""
BEAT_SECONDS = 5.0

_last_beat = time.monotonic()


def beat() -> None:
    """Mark the event loop as turning (called from the loop)."""
    global _last_beat  # noqa: PLW0603 - one process-wide mark, read by the probe thread
    _last_beat = time.monotonic()


def loop_age() -> float:
    """Seconds since the event loop last marked itself."""
    return time.monotonic() - _last_beat


async def keep_beating() -> None:
    """Run on the service's loop for its whole life: the probe's evidence."""
    while True:
        beat()
        await asyncio.sleep(BEAT_SECONDS)


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        age = loop_age()
        alive = age < LIVENESS_STALE_SECONDS
        body = b"ok\n" if alive else b"event loop stalled for %.0f s\n" % age
        status = "200 OK" if alive else "503 Service Unavailable"
        start_response(status, [("Content-Type", "text/plain"), ("Cache-Control", "no-store")])
        return [body]
    served: Iterable[bytes] = _metrics(environ, start_response)
    return served


_metrics = make_wsgi_app(REGISTRY)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds are not worth a line each."""


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:  # noqa: S104 - probes come from outside the pod
    """Start the endpoint on a daemon thread; port 0 disables it."""
    if not port:
        return
    server = make_server(host, port, _app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
