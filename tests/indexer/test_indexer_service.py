"""The indexer service on a real nats-server: notices stream in, store out, nothing lost.

Both stores: the embedded one in a temporary directory, and a private OpenSearch node that the
outage test stops for 30 seconds in the middle of the stream.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import msgspec
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from scope_indexer.service import run_indexer
from scope_indexer.settings import IndexerSettings
from scope_shared.bus import (
    DEAD_STREAM,
    INDEXER_CONSUMER,
    NOTICES_STREAM,
    ensure_topology,
    headers,
    publish_notice,
)
from scope_shared.config import default_cache_dir
from scope_shared.devservices.opensearch import OpenSearchServer
from scope_shared.schema import Notice
from scope_shared.store import SearchQuery, SearchStore
from scope_shared.store.factory import open_store
from tests.support.bus import stream_messages
from tests.support.ports import free_port

SCOPE = Path(sys.executable).parent / "scope"


async def _indexed(js: JetStreamContext) -> bool:
    try:
        info = await js.consumer_info(NOTICES_STREAM, INDEXER_CONSUMER.durable)
    except NotFoundError:  # the indexer has not created its consumer yet
        return False
    return not info.num_pending and not info.num_ack_pending


async def _delivered(js: JetStreamContext) -> int:
    try:
        info = await js.consumer_info(NOTICES_STREAM, INDEXER_CONSUMER.durable)
    except NotFoundError:
        return 0
    return int(info.delivered.stream_seq or 0)


async def _wait_drained(js: JetStreamContext, limit: float = 120) -> None:
    async with asyncio.timeout(limit):
        while not await _indexed(js):  # noqa: ASYNC110 - polls the consumer's counters
            await asyncio.sleep(0.1)


async def _count(store: SearchStore) -> int:
    return (await store.search(SearchQuery(page_size=1))).total


def _indexer_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    return dict(os.environ) | {
        "SCOPE_NATS_URL": nats_url,
        "SCOPE_DATA_DIR": str(data_dir),
        "SCOPE_STORE": "embedded",
        "SCOPE_INDEXER_BATCH_SIZE": "50",
        "SCOPE_INDEXER_ACK_WAIT": "2",
        "SCOPE_INDEXER_METRICS_PORT": "0",
    }


def _settings(nats_url: str, tmp_path: Path, **extra: object) -> IndexerSettings:
    return IndexerSettings(
        nats_url=[nats_url], data_dir=tmp_path, indexer_metrics_port=0,
        indexer_max_backoff=2.0, indexer_batch_size=50, indexer_ack_wait=2.0,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_notices_reach_the_store_and_bad_messages_dead_letter(
    js: JetStreamContext, nats_url: str, tmp_path: Path, corpus: list[Notice]
) -> None:
    settings = _settings(nats_url, tmp_path, store="embedded")
    await ensure_topology(js, settings)
    for notice in corpus:
        await publish_notice(js, notice)
    await js.publish("scope.notices.france_boamp", b'{"id": "half a notice"')
    stop = asyncio.Event()
    task = asyncio.create_task(run_indexer(settings, stop))
    await _wait_drained(js)
    stop.set()
    await task
    store = open_store(settings)
    await store.setup()
    try:
        latest = {n.id: n for n in corpus}
        assert await _count(store) == len(latest)
        some = next(iter(latest.values()))
        assert await store.get(some.id) == some
    finally:
        await store.close()
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.headers is not None and dead.headers[headers.DEAD_STAGE] == "index"
    assert dead.data == b'{"id": "half a notice"'


async def test_indexer_killed_mid_bulk_loses_nothing_and_doubles_nothing(
    js: JetStreamContext, nats_url: str, tmp_path: Path, corpus: list[Notice]
) -> None:
    settings = _settings(nats_url, tmp_path, store="embedded")
    await ensure_topology(js, settings)
    bumped = [
        msgspec.structs.replace(n, version=n.version + 1, title=n.title + " (v2)")
        for n in corpus[:40]
    ]
    versions = [*corpus, *bumped]
    for notice in versions:
        await publish_notice(js, notice)
    # A real crash: the first indexer is a process, killed with SIGKILL mid-bulk.
    first = await asyncio.create_subprocess_exec(
        str(SCOPE), "run", "indexer", env=_indexer_env(nats_url, tmp_path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(60):
            while await _delivered(js) < 100:  # noqa: ASYNC110 - polls the consumer's counters
                await asyncio.sleep(0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert not await _indexed(js), "the kill should leave part of the stream to index"

    restarted = _settings(nats_url, tmp_path, store="embedded")
    stop = asyncio.Event()
    second = asyncio.create_task(run_indexer(restarted, stop))
    await asyncio.sleep(2.5)  # past the ack wait: the unacknowledged batch is redelivered
    await _wait_drained(js)
    stop.set()
    await second
    store = open_store(settings)
    await store.setup()
    try:
        latest = {n.id: n for n in corpus}
        assert await _count(store) == len(latest)
        bumped = corpus[0]
        history = await store.history(bumped.id)
        assert [n.version for n in history] == [bumped.version, bumped.version + 1]
        assert (await store.get(bumped.id)).title == bumped.title + " (v2)"  # type: ignore[union-attr]
    finally:
        await store.close()


@pytest.mark.slow
async def test_opensearch_down_for_30_seconds_then_full_catch_up(
    js: JetStreamContext, nats_url: str, tmp_path: Path, corpus: list[Notice]
) -> None:
    node = OpenSearchServer(default_cache_dir(), tmp_path / "opensearch", port=free_port())
    url = node.start()
    settings = _settings(nats_url, tmp_path, store="opensearch", opensearch_url=url)
    await ensure_topology(js, settings)
    half = len(corpus) // 2
    for notice in corpus[:half]:
        await publish_notice(js, notice)
    stop = asyncio.Event()
    task = asyncio.create_task(run_indexer(settings, stop))
    try:
        await _wait_drained(js)
        node.stop()
        for notice in corpus[half:]:
            await publish_notice(js, notice)
        await asyncio.sleep(30)
        assert not await _indexed(js), "nothing can be indexed while OpenSearch is down"
        node.start()
        await _wait_drained(js, limit=180)
    finally:
        stop.set()
        await task
    store = open_store(settings)
    try:
        assert await _count(store) == len({n.id for n in corpus})
        assert await stream_messages(js, DEAD_STREAM) == 0
    finally:
        await store.close()
        node.stop()
