"""Running a long-lived service: stop cleanly on SIGTERM or SIGINT (drain, ack, close)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from scope_shared.config import CommonSettings
from scope_shared.logging import configure_logging, get_logger
from scope_shared.metrics import keep_beating, serve_metrics

log = get_logger(component="lifecycle")

S = TypeVar("S", bound=CommonSettings)


def install_stop_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGTERM (what Kubernetes and compose send) and on SIGINT (Ctrl-C)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _request_stop, stop, sig)


def _request_stop(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        log.info("stop_requested", signal=sig.name)
    stop.set()


async def run_service(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` until it returns; `stop` is set by a signal and `main` drains on it."""
    stop = asyncio.Event()
    install_stop_signals(stop)
    await main(stop)


def run_worker(
    service: str,
    settings: S,
    run: Callable[[S, asyncio.Event], Awaitable[None]],
    *,
    metrics_port: int,
) -> int:
    """The `main()` of a worker service (harvester, normalizer, indexer).

    Args:
        service: The service name in every log line (`normalizer`).
        settings: The service's loaded settings; their log level and format apply.
        run: The service itself, `run(settings, stop)`, draining once `stop` is set.
        metrics_port: Port of /metrics and /healthz; 0 serves none.

    Returns:
        The exit code, 0 once `run` has drained.
    """
    configure_logging(service, settings.log_level, settings.log_format)
    serve_metrics(metrics_port)

    async def beating(stop: asyncio.Event) -> None:
        heart = asyncio.create_task(keep_beating(), name="liveness")
        try:
            await run(settings, stop)
        finally:
            heart.cancel()

    asyncio.run(run_service(beating))
    return 0
