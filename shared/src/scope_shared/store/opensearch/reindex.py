"""Zero-downtime reindex: build `<kind>-v<N+1>` from `v<N>`, swap the alias atomically.

For each kind (notices, history, procedures):
1. create the new index (the current template applies: new mapping, new analysis) with
   refreshes off while it fills;
2. copy with the server's `_reindex` (a background task, polled), notices keeping their
   external versions;
3. swap the alias in one `update_aliases` call: searches see the old index, then the new one,
   never neither;
4. catch up the writes that reached the old index while the copy ran (documents whose
   `indexed_at` is after the start, minus a margin for clock skew): notices with
   `external_gte` so a newer version already in the new index wins; cards by recomputing
   them from the caught-up notices, so no member is lost either way;
5. delete the old index after a settle delay (in-flight requests finish against it).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from opensearchpy.helpers import async_scan

from scope_shared.store.opensearch.admin import current_index
from scope_shared.store.opensearch.cards import CardChanges, CardWriter
from scope_shared.store.opensearch.documents import decode_notice
from scope_shared.store.opensearch.names import KINDS, IndexKind, IndexNames

CLOCK_MARGIN = timedelta(minutes=5)
"""Indexers stamp `indexed_at` with their own clock: allow this much skew."""
POLL_SECONDS = 0.5
INDEXED_AT: dict[IndexKind, str] = {
    "notices": "derived.indexed_at", "procedures": "derived.indexed_at", "history": "indexed_at",
}  # fmt: skip


class KindReport(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    old_index: str
    new_index: str
    copied: int
    caught_up: int


class ReindexOptions(msgspec.Struct, frozen=True, kw_only=True):
    timeout: float = 3600.0
    """Seconds the whole copy of one kind may take (a million notices: minutes)."""
    settle: float = 2.0
    """Seconds between the alias swap and the catch-up / deletion of the old index, so that
    requests that resolved the alias just before the swap have finished."""
    keep_old: bool = False
    request_timeout: float = 30.0


async def _run_task(client: Any, body: dict[str, Any], options: ReindexOptions) -> int:
    """Start a server-side `_reindex` and wait for it; the number of documents written."""
    started = await client.reindex(
        body=body, wait_for_completion="false", request_timeout=options.request_timeout
    )
    deadline = time.monotonic() + options.timeout
    while True:
        task = await client.tasks.get(
            task_id=started["task"], request_timeout=options.request_timeout
        )
        if task.get("completed"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"reindex task {started['task']} still running")
        await asyncio.sleep(POLL_SECONDS)
    response = task.get("response", {})
    if task.get("error") or response.get("failures"):
        raise RuntimeError(f"reindex failed: {task.get('error') or response['failures'][:3]}")
    return int(response.get("created", 0)) + int(response.get("updated", 0))


def _copy_body(kind: IndexKind, source: str, dest: str, since: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": {"index": source},
        "dest": {"index": dest},
        "conflicts": "proceed",
    }
    if kind == "notices":
        body["dest"]["version_type"] = "external_gte"
    if since is not None:
        body["source"]["query"] = {"range": {INDEXED_AT[kind]: {"gte": since.isoformat()}}}
    return body


CATCH_UP_BATCH = 500
"""Cards are recomputed from the caught-up notices in batches the size of an indexer's."""


async def _catch_up_cards(
    client: Any, names: IndexNames, old_notices: str, since: datetime, options: ReindexOptions
) -> int:
    """Recompute the new index's cards from notices written to the old one since `since`;
    the number of procedures recomputed."""
    cards = CardWriter(client, names, refresh="false", request_timeout=options.request_timeout)
    query = {"query": {"range": {INDEXED_AT["notices"]: {"gte": since.isoformat()}}}}
    changes, count, done = CardChanges(), 0, 0
    async for hit in async_scan(
        client, index=old_notices, query=query, request_timeout=options.request_timeout
    ):
        changes.add(decode_notice(hit["_source"]))
        count += 1
        if count % CATCH_UP_BATCH == 0:
            await cards.update(changes, datetime.now(UTC))
            done, changes = done + len(changes.procedures()), CardChanges()
    await cards.update(changes, datetime.now(UTC))
    return done + len(changes.procedures())


async def _target(
    client: Any, names: IndexNames, kind: IndexKind, old: str, *, new_version: int | None,
    request_timeout: float,
) -> str:  # fmt: skip
    """Create the next physical index of a kind (template applies), refreshes off."""
    current = names.version_of(kind, old) or 0
    version = new_version if new_version is not None else current + 1
    if version <= current:
        raise ValueError(f"new version {version} must be above the current {current}")
    new = names.physical(kind, version)
    await client.indices.create(
        index=new, body={"settings": {"index": {"refresh_interval": "-1"}}},
        request_timeout=request_timeout,
    )  # fmt: skip
    return new


async def _build(
    client: Any, olds: dict[IndexKind, str], news: dict[IndexKind, str], options: ReindexOptions
) -> dict[IndexKind, int]:
    """Fill the new indices from the old ones, then open them to refreshes; copied counts."""
    copied = {kind: await _run_task(client, _copy_body(kind, olds[kind], news[kind], None),
                                    options) for kind in KINDS}  # fmt: skip
    new_indices = ",".join(news.values())
    await client.indices.put_settings(
        index=new_indices, body={"index": {"refresh_interval": None}},
        request_timeout=options.request_timeout,
    )  # fmt: skip
    await client.indices.refresh(index=new_indices, request_timeout=options.request_timeout)
    return copied


async def _swap(client: Any, names: IndexNames, olds: dict[IndexKind, str],
                news: dict[IndexKind, str], request_timeout: float) -> None:  # fmt: skip
    """Every alias from its old index to its new one, in one atomic call."""
    actions = [
        action for kind in KINDS for action in (
            {"remove": {"index": olds[kind], "alias": names.alias(kind)}},
            {"add": {"index": news[kind], "alias": names.alias(kind)}},
        )
    ]  # fmt: skip
    await client.indices.update_aliases(body={"actions": actions}, request_timeout=request_timeout)


async def _catch_up(
    client: Any, names: IndexNames, olds: dict[IndexKind, str], news: dict[IndexKind, str], *,
    since: datetime, options: ReindexOptions,
) -> dict[IndexKind, int]:  # fmt: skip
    """Bring over what reached the old indices since `since` (see the module docstring)."""
    await client.indices.refresh(
        index=",".join(olds.values()), request_timeout=options.request_timeout
    )
    copy = {kind: _copy_body(kind, olds[kind], news[kind], since)
            for kind in ("notices", "history")}  # fmt: skip
    caught: dict[IndexKind, int] = {
        "notices": await _run_task(client, copy["notices"], options),
        "history": await _run_task(client, copy["history"], options),
        "procedures": await _catch_up_cards(client, names, olds["notices"], since, options),
    }
    await client.indices.refresh(
        index=",".join(news.values()), request_timeout=options.request_timeout
    )
    return caught


async def reindex_all(
    client: Any, names: IndexNames, new_version: int | None, options: ReindexOptions
) -> list[KindReport]:
    """Copy every kind into a new version, swap all aliases at once, catch up, clean up.
    A failure before the swap deletes the new indices and leaves the old ones serving."""
    rt = options.request_timeout
    start = datetime.now(UTC)
    olds = {kind: await current_index(client, names, kind, rt) for kind in KINDS}
    news: dict[IndexKind, str] = {}
    try:
        for kind in KINDS:
            news[kind] = await _target(client, names, kind, olds[kind],
                                       new_version=new_version, request_timeout=rt)  # fmt: skip
        copied = await _build(client, olds, news, options)
    except BaseException:
        if news:
            await client.indices.delete(index=",".join(news.values()), request_timeout=rt)
        raise
    await _swap(client, names, olds, news, rt)
    await asyncio.sleep(options.settle)
    caught = await _catch_up(client, names, olds, news, since=start - CLOCK_MARGIN, options=options)
    if not options.keep_old:
        await client.indices.delete(index=",".join(olds.values()), request_timeout=rt)
    return [
        KindReport(kind=kind, old_index=olds[kind], new_index=news[kind],
                   copied=copied[kind], caught_up=caught[kind])
        for kind in KINDS
    ]  # fmt: skip
