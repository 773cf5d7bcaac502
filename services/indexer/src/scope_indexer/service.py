"""The indexer service: canonical notices from the stream into the configured store."""

from __future__ import annotations

import asyncio

import msgspec

from scope_indexer.settings import IndexerSettings
from scope_indexer.writer import BulkWriter
from scope_shared.bus import INDEXER_CONSUMER, ConsumerRunner, Stage, open_jetstream
from scope_shared.config import load_settings
from scope_shared.lifecycle import run_worker
from scope_shared.store.factory import open_store


async def run_indexer(settings: IndexerSettings, stop: asyncio.Event) -> None:
    store = open_store(settings)
    await store.setup()
    writer = BulkWriter(
        store,
        stop=stop,
        max_backoff=settings.indexer_max_backoff,
        heartbeat=settings.indexer_ack_wait / 3,
    )
    try:
        async with open_jetstream(settings, "scope-indexer") as js:
            runner = ConsumerRunner(
                js,
                msgspec.structs.replace(INDEXER_CONSUMER, ack_wait=settings.indexer_ack_wait),
                stage=Stage.INDEX,
                batch_handler=writer.write,
                batch_size=settings.indexer_batch_size,
                fetch_timeout=settings.indexer_fetch_timeout,
                in_flight=settings.indexer_in_flight,
            )
            await runner.run(stop)
    finally:
        await store.close()


def main() -> int:
    settings = load_settings(IndexerSettings, service_prefix="INDEXER_")
    return run_worker("indexer", settings, run_indexer, metrics_port=settings.indexer_metrics_port)
