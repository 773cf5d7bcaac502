"""`scope run <service>` as a real process, stopped by SIGTERM as an orchestrator does."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec

SCOPE = Path(sys.executable).parent / "scope"


@contextlib.asynccontextmanager
async def service_process(
    service: str, settings: dict[str, str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """The service running with these `SCOPE_*` settings alone (none inherited), JSON logs on
    stderr; killed on the way out if still running."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE_")}
    env |= settings | {"SCOPE_LOG_FORMAT": "json"}
    process = await asyncio.create_subprocess_exec(
        str(SCOPE), "run", service, env=env, stderr=subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def stop_with_sigterm(
    process: asyncio.subprocess.Process, seconds: float
) -> tuple[int | None, list[str], str]:
    """SIGTERM, then (within `seconds`) the exit code, the event names logged and stderr."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=seconds)
    events = [
        msgspec.json.decode(line)["event"] for line in stderr.splitlines() if line.startswith(b"{")
    ]
    return process.returncode, events, stderr.decode(errors="replace")
