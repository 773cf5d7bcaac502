"""The workers' `/healthz`: alive while their event loop turns, 503 once it has not for a
minute (it used to answer from the exporter's thread whatever the loop did)."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from scope_shared import metrics
from tests.support.ports import free_port


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


async def test_healthz_follows_the_event_loop_and_metrics_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    metrics.serve_metrics(port, host="127.0.0.1")
    heart = asyncio.create_task(metrics.keep_beating())
    try:
        await asyncio.sleep(0)
        status, body = await asyncio.to_thread(_get, port, "/healthz")
        assert (status, body) == (200, b"ok\n")
        status, body = await asyncio.to_thread(_get, port, "/metrics")
        assert status == 200 and b"process_resident_memory_bytes" in body
        # A loop that stopped marking itself a minute ago: blocked or wedged.
        heart.cancel()
        monkeypatch.setattr(metrics, "_last_beat", metrics._last_beat - 61)
        status, body = await asyncio.to_thread(_get, port, "/healthz")
        assert status == 503
        assert body.startswith(b"event loop stalled for 6")
    finally:
        heart.cancel()
