"""Running a long-lived service: stop cleanly on SIGTERM or SIGINT (drain, ack, close)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from scope_shared.logging import get_logger

log = get_logger(component="lifecycle")


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
