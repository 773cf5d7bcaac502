"""The indexer's `scope` subcommand: `reindex` (rebuild the OpenSearch indices, swap aliases)."""

from __future__ import annotations

import argparse
import asyncio

from scope_indexer.settings import IndexerSettings
from scope_shared.config import load_settings
from scope_shared.logging import configure_logging
from scope_shared.store.factory import open_store
from scope_shared.store.opensearch import OpenSearchStore
from scope_shared.store.opensearch.reindex import ReindexOptions


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reindex = subparsers.add_parser(
        "reindex",
        help="rebuild the OpenSearch indices under the current template, swap aliases atomically",
        description=(
            "Copies every index (notices, history, procedure cards) into a new versioned "
            "index built from the current template (after a mapping or analysis change), "
            "swaps the aliases in one call and catches up writes made meanwhile: searches "
            "keep working throughout."
        ),
    )
    reindex.add_argument("--keep-old", action="store_true", help="keep the previous indices")
    reindex.set_defaults(func=lambda args: asyncio.run(_reindex(keep_old=args.keep_old)))


def _out(text: str) -> None:
    print(text)  # noqa: T201 - command output


async def _reindex(*, keep_old: bool) -> int:
    settings = load_settings(IndexerSettings, service_prefix="INDEXER_")
    configure_logging("indexer", settings.log_level, settings.log_format)
    store = open_store(settings)
    try:
        if not isinstance(store, OpenSearchStore):
            _out("the embedded store has no index to rebuild: it reads notices as they are")
            return 0
        await store.setup()
        for report in await store.reindex(options=ReindexOptions(keep_old=keep_old)):
            _out(f"{report.kind}: {report.old_index} -> {report.new_index}, "
                 f"{report.copied} copied, {report.caught_up} caught up")  # fmt: skip
    finally:
        await store.close()
    return 0
