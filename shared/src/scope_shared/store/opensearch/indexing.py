"""The write path of a batch: notices and history in one bulk request, then the cards.

1. A real-time `mget` reads which procedure each notice is in, so that a notice whose new
   version moved to another procedure leaves its old card.
2. At the same time: one bulk request writes the notices to `<prefix>-notices` with external
   versioning (`version_type=external_gte`, version = the notice's version: OpenSearch itself
   keeps the highest version, so an older version arriving late is refused with a 409,
   outcome `stale`, even when two indexers race) and every version to the history
   (`<id>#<version>`), while the touched cards and their other members are read (cards.py)
   and the new cards computed as if every notice will be accepted, the common case.
3. Then the cards are written, in a second request: a card never names a notice before the
   notice is readable, so a concurrent writer reading that card finds all its members.
4. Cards planned on a wrong guess (a notice stale or refused) or refused themselves (another
   indexer changed them: 409) are recomputed from what was actually written; the history
   entry of a refused notice is put back as it was.

A notice's outcome is `failed` when any of its writes failed; `retryable` says whether sending
the same notice again may work (it is idempotent: the same version replaces itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from opensearchpy.exceptions import TransportError

from scope_shared.schema import Notice
from scope_shared.store.contract import IndexOutcome
from scope_shared.store.opensearch.bulk import Action, ItemResult, request_failure, run_bulk
from scope_shared.store.opensearch.cards import CardChanges, CardWriter, settle
from scope_shared.store.opensearch.documents import (
    encoded_derived,
    history_document,
    history_id,
    notice_document,
)
from scope_shared.store.opensearch.names import IndexNames


class WriteOptions(msgspec.Struct, frozen=True, kw_only=True):
    refresh: str
    """OpenSearch's `refresh` parameter for every bulk request: `false`, `true`, `wait_for`."""
    timeout: float


def _outcome(notice: Notice, result: ItemResult) -> IndexOutcome:
    if result.ok:
        return IndexOutcome(notice.id, "indexed")
    if result.status == 409:
        return IndexOutcome(notice.id, "stale")
    return IndexOutcome(notice.id, "failed", result.error, result.retryable)


def _failed(outcome: IndexOutcome, result: ItemResult) -> IndexOutcome:
    return IndexOutcome(outcome.notice_id, "failed", result.error, result.retryable)


def latest_in_batch(notices: Sequence[Notice]) -> dict[str, Notice]:
    latest: dict[str, Notice] = {}
    for notice in notices:
        known = latest.get(notice.id)
        if known is None or notice.version >= known.version:
            latest[notice.id] = notice
    return latest


def card_changes(latest: dict[str, Notice], previous: dict[str, str]) -> CardChanges:
    """Each notice into its procedure's card, and out of the one it was in before."""
    changes = CardChanges()
    for notice in latest.values():
        changes.add(notice)
        before = previous.get(notice.id)
        if before is not None and before != notice.procedure_id:
            changes.touch(before)
    return changes


class BatchWriter:
    """Writes one batch (see the module docstring for the steps)."""

    def __init__(
        self, client: Any, names: IndexNames, options: WriteOptions, now: datetime
    ) -> None:
        self._client = client
        self._names = names
        self._options = options
        self._now = now
        self._derived: dict[tuple[str, int], bytes] = {}
        self._cards = CardWriter(
            client, names, refresh=options.refresh, request_timeout=options.timeout,
            derived=self._derived,
        )  # fmt: skip

    async def write(self, notices: Sequence[Notice]) -> list[IndexOutcome]:
        """Index a batch; one outcome per notice, in order."""
        try:
            previous = await self._previous_procedures([n.id for n in notices])
        except TransportError as exc:
            # Without it a notice that moved would stay on its old card for good: write
            # nothing, and let the batch come again.
            unread = request_failure(exc)
            error = f"reading where the notices are: {unread.error}"
            return [IndexOutcome(n.id, "failed", error, unread.retryable) for n in notices]
        changes = card_changes(latest_in_batch(notices), previous)
        planned, results = await asyncio.gather(
            self._cards.plan(changes, self._now),
            self._bulk([self._notice_action(n) for n in notices]
                       + [self._history_action(n) for n in notices]),
            return_exceptions=True,
        )  # fmt: skip
        for failure in (planned, results):  # only a bug raises here: OpenSearch errors do not
            if isinstance(failure, BaseException) and not isinstance(failure, TransportError):
                raise failure
        assert not isinstance(results, BaseException)  # run_bulk turns those into results
        count = len(notices)
        outcomes = self._outcomes(notices, results[:count], results[count:])
        guessed: set[str] = set(changes.procedures())
        if not isinstance(planned, BaseException):
            card_results = await self._bulk([action for _, action in planned])
            conflicts, refused = settle(planned, card_results)
            guessed = set(conflicts) | set(refused)
        failed_cards = await self._repair(notices, outcomes, guessed, previous)
        await self._restore_history([n for n, o in zip(notices, outcomes, strict=True)
                                     if o.status == "failed" and not o.retryable])  # fmt: skip
        for i, notice in enumerate(notices):
            touched = (notice.procedure_id, previous.get(notice.id))
            card_failure = next((failed_cards[p] for p in touched if p in failed_cards), None)
            # A stale notice too: its card was planned with it, and the repair that takes it
            # off failed, so the notice must come again for the repair to be done.
            if card_failure is not None and outcomes[i].status in ("indexed", "stale"):
                outcomes[i] = _failed(outcomes[i], card_failure)
        return outcomes

    async def _bulk(self, actions: list[Action]) -> list[ItemResult]:
        return await run_bulk(
            self._client, actions, refresh=self._options.refresh,
            request_timeout=self._options.timeout,
        )  # fmt: skip

    async def _previous_procedures(self, ids: list[str]) -> dict[str, str]:
        """notice id -> procedure_id of its stored version, read in real time (a new
        notice, the common case, is a cheap miss)."""
        response = await self._client.mget(
            index=self._names.alias("notices"), body={"ids": sorted(set(ids))},
            params={"_source_includes": "procedure_id"},
            request_timeout=self._options.timeout,
        )  # fmt: skip
        docs = response["docs"]
        return {d["_id"]: d["_source"]["procedure_id"] for d in docs if d.get("found")}

    def _notice_action(self, notice: Notice) -> Action:
        meta = {"_index": self._names.alias("notices"), "_id": notice.id,
                "version": notice.version, "version_type": "external_gte"}  # fmt: skip
        derived = encoded_derived(notice, self._now)
        self._derived[(notice.id, notice.version)] = derived
        return Action("index", meta, notice_document(notice, self._now, derived))

    def _history_meta(self, notice: Notice) -> dict[str, Any]:
        alias = self._names.alias("history")
        return {"_index": alias, "_id": history_id(notice.id, notice.version)}

    def _history_action(self, notice: Notice) -> Action:
        return Action("index", self._history_meta(notice), history_document(notice, self._now))

    @staticmethod
    def _outcomes(
        notices: Sequence[Notice], written: list[ItemResult], history: list[ItemResult]
    ) -> list[IndexOutcome]:
        outcomes = [_outcome(n, r) for n, r in zip(notices, written, strict=True)]
        for i, result in enumerate(history):
            if outcomes[i].status != "failed" and not result.ok:
                outcomes[i] = _failed(outcomes[i], result)
        return outcomes

    async def _repair(
        self, notices: Sequence[Notice], outcomes: list[IndexOutcome], guessed: set[str],
        previous: dict[str, str],
    ) -> dict[str, ItemResult]:  # fmt: skip
        """Recompute the cards planned on a wrong guess; procedure_id -> failure."""
        wrong, verify = set(guessed), set()
        for notice, outcome in zip(notices, outcomes, strict=True):
            if outcome.status != "indexed":
                # Its card was planned with it: read back what the notices index holds.
                verify.add(notice.id)
                wrong.add(notice.procedure_id)
                wrong |= {previous[notice.id]} if notice.id in previous else set()
        if not wrong:
            return {}
        accepted = [n for n, o in zip(notices, outcomes, strict=True) if o.status == "indexed"]
        changes = card_changes(latest_in_batch(accepted), {}).only(wrong)
        changes.touched |= wrong
        changes.verify = verify
        return await self._cards.update(changes, self._now)

    async def _restore_history(self, refused: list[Notice]) -> None:
        """Undo the history entries of refused notices (rare): the entry goes back to what
        the notices index holds at that version, or away when it never held that version.
        (A notice failed for a retryable reason is sent again, and rewrites its entry.)"""
        if not refused:
            return
        try:
            current = await self._cards.read_notices({n.id for n in refused})
        except TransportError:
            return  # best effort: the node went away meanwhile, and the entry stays as written
        actions = []
        for notice in refused:
            kept = current.get(notice.id)
            meta = self._history_meta(notice)
            if kept is not None and kept.version == notice.version:
                actions.append(Action("index", meta, history_document(kept, self._now)))
            else:
                actions.append(Action("delete", meta))
        await self._bulk(actions)
