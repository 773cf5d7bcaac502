"""Procedure cards: recomputed for every procedure a batch touched.

A card document holds its main notice (searchable, as a notice) and a summary of every
member (`card.members`: what `procedure_card` reads from a notice that is not the main one).
So the next card is `procedure_card(card members + the batch's notices)` from one real-time
`mget` of the cards, with no search (a search would miss notices written less than a refresh
interval ago) and no read of the members' notices. A member summary stands in for its notice
as a stub (the main notice's fields under the member's id, type, status and dates); when a
stub would become the main notice (its main left the procedure), that one notice is read.

Writes are guarded by `if_seq_no`/`if_primary_term` (or `create` for a new card): when two
indexers update one card at once, the loser gets a 409, reads the card again and retries, so
no member is lost.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from opensearchpy.exceptions import TransportError

from scope_shared.schema import Notice
from scope_shared.store.contract import ProcedureCard
from scope_shared.store.opensearch.bulk import Action, ItemResult, run_bulk
from scope_shared.store.opensearch.documents import (
    Member,
    card_document,
    decode_card_body,
    decode_notice,
)
from scope_shared.store.opensearch.names import IndexNames
from scope_shared.store.procedures import procedure_card

MAX_ATTEMPTS = 8
"""Conflicts only happen when writers race on one procedure: each round at least one of them
wins, and a jittered pause spreads the others out. A card still conflicting after eight rounds
is reported as retryable (the indexer sends the notice again later)."""
BACKOFF_SECONDS = 0.02


class CardChanges(msgspec.Struct, kw_only=True):
    """What a batch changed: notices to put into cards, and procedures to recompute."""

    upserts: dict[str, list[Notice]] = msgspec.field(default_factory=dict)
    """procedure_id -> notices now in it (latest versions written by this batch)."""
    touched: set[str] = msgspec.field(default_factory=set)
    """Procedures a notice of the batch left: recomputed without it."""
    verify: set[str] = msgspec.field(default_factory=set)
    """Notices whose card summary may be wrong (a guess that failed): read them back."""
    _batch: dict[str, Notice] | None = None

    def add(self, notice: Notice) -> None:
        self.upserts.setdefault(notice.procedure_id, []).append(notice)
        self._batch = None

    def touch(self, procedure_id: str) -> None:
        self.touched.add(procedure_id)

    def procedures(self) -> list[str]:
        return sorted(set(self.upserts) | self.touched)

    def batch(self) -> dict[str, Notice]:
        """Every notice of the batch by id (computed once)."""
        if self._batch is None:
            self._batch = {n.id: n for notices in self.upserts.values() for n in notices}
        return self._batch

    def only(self, procedures: set[str]) -> CardChanges:
        """The changes of these procedures' cards. The batch stays whole: a notice of the
        batch that moved to another procedure must still be known, to leave these cards."""
        kept = CardChanges(
            upserts={p: ns for p, ns in self.upserts.items() if p in procedures},
            touched=self.touched & procedures,
            verify=self.verify,
        )
        kept._batch = self.batch()
        return kept


class _Stored(msgspec.Struct, frozen=True):
    members: dict[str, Member]
    main: Notice | None = None
    """The main notice as it was published (the card shows corrected status and deadline)."""
    seq_no: int | None = None
    primary_term: int | None = None


def _stored(doc: dict[str, Any]) -> _Stored:
    body = decode_card_body(doc["_source"])
    shown = decode_notice(doc["_source"])
    members = {m.id: m for m in body.members}
    own = members[shown.id]
    main = msgspec.structs.replace(
        shown, status=own.status, submission_deadline=own.submission_deadline
    )
    return _Stored(members, main, doc["_seq_no"], doc["_primary_term"])


def _stub(main: Notice, member: Member) -> Notice:
    return msgspec.structs.replace(
        main, id=member.id, version=member.version, notice_type=member.notice_type,
        status=member.status, published_at=member.published_at,
        submission_deadline=member.submission_deadline, source=member.source,
    )  # fmt: skip


def _candidates(
    pid: str, stored: _Stored, changes: CardChanges, known: dict[str, Notice | None]
) -> dict[str, Notice | Member]:
    """Each notice of the procedure at its latest version: a full notice (from the batch, or
    read back: `known`, None when not found, which overrules the summary) or the card's
    summary of it."""
    batch = changes.batch()
    ids = set(stored.members) | set(known) | {n.id for n in changes.upserts.get(pid, ())}
    out: dict[str, Notice | Member] = {}
    for notice_id in ids:
        member, given = stored.members.get(notice_id), batch.get(notice_id)
        if notice_id in known:
            found = known[notice_id]
            if found is not None and (given is None or found.version > given.version):
                given = found
            if given is not None and given.procedure_id == pid:
                out[notice_id] = given
            continue
        if given is not None and (member is None or given.version >= member.version):
            if given.procedure_id == pid:  # else it moved to another procedure
                out[notice_id] = given
        elif member is not None:
            main = stored.main
            out[notice_id] = main if main is not None and main.id == notice_id else member
    return out


Built = tuple[ProcedureCard, list[Notice]] | str | None
"""A card and its members; or the id of a summarised notice that would be the main one (its
full text must be read first); or None when no notice is left (the card goes)."""


def _build(stored: _Stored, candidates: dict[str, Notice | Member]) -> Built:
    if not candidates:
        return None
    full = [c for c in candidates.values() if isinstance(c, Notice)]
    template = stored.main if stored.main is not None else full[0]
    notices = [c if isinstance(c, Notice) else _stub(template, c) for c in candidates.values()]
    card = procedure_card(notices)
    if isinstance(candidates[card.notice.id], Member):
        return card.notice.id
    return card, notices


DerivedByVersion = Mapping[tuple[str, int], bytes]
"""(notice id, version) -> its encoded derived fields, for the notices a batch wrote."""


def _card_action(
    alias: str, pid: str, stored: _Stored, built: Built, *, now: datetime,
    derived: DerivedByVersion,
) -> Action:  # fmt: skip
    """Index (or create, or delete when no member is left) one card, guarded by seq_no."""
    meta: dict[str, Any] = {"_index": alias, "_id": pid}
    if stored.seq_no is not None:
        meta |= {"if_seq_no": stored.seq_no, "if_primary_term": stored.primary_term}
    if built is None:
        return Action("delete", meta)
    assert not isinstance(built, str), "plan() reads every summarised main notice"
    card, members = built
    ordered = sorted(members, key=lambda n: (n.published_at, n.id))
    body = card_document(card, ordered, now, derived.get((card.notice.id, card.notice.version)))
    return Action("index" if stored.seq_no is not None else "create", meta, body)


class CardWriter:
    """Reads and writes the cards of one prefix.

    Args:
        names: The prefix's aliases: cards go to `procedures`, notices are read (rarely)
            from `notices`.
        refresh: OpenSearch's `refresh` parameter for the card writes.
        request_timeout: Seconds for each request.
        derived: The encoded derived fields of the notices the batch writes (reused for
            the cards whose main notice they are).
    """

    def __init__(
        self, client: Any, names: IndexNames, *, refresh: str, request_timeout: float,
        derived: DerivedByVersion | None = None,
    ) -> None:  # fmt: skip
        self._client = client
        self._derived = derived if derived is not None else {}
        self._cards = names.alias("procedures")
        self._notices = names.alias("notices")
        self._refresh = refresh
        self._timeout = request_timeout

    async def read_cards(self, ids: list[str]) -> dict[str, _Stored]:
        """Each card's members, main notice and seq_no (real-time; empty for a new card)."""
        response = await self._client.mget(
            index=self._cards, body={"ids": ids}, request_timeout=self._timeout,
            params={"_source_excludes": "derived"},
        )  # fmt: skip
        stored = {pid: _Stored({}) for pid in ids}
        for doc in response["docs"]:
            if doc.get("found"):
                stored[doc["_id"]] = _stored(doc)
        return stored

    async def read_notices(self, ids: set[str]) -> dict[str, Notice]:
        """The latest version of each notice (real-time); the ones found."""
        if not ids:
            return {}
        response = await self._client.mget(
            index=self._notices, body={"ids": sorted(ids)}, request_timeout=self._timeout,
            params={"_source_excludes": "derived"},
        )  # fmt: skip
        docs = response["docs"]
        return {d["_id"]: decode_notice(d["_source"]) for d in docs if d.get("found")}

    async def _known(self, ids: set[str]) -> dict[str, Notice | None]:
        found = await self.read_notices(ids)
        return {i: found.get(i) for i in ids}

    async def members(self, pid: str) -> list[Notice]:
        """A procedure's notices as its card lists them, oldest publication first."""
        stored = (await self.read_cards([pid]))[pid]
        found = await self.read_notices(set(stored.members))
        members = [n for n in found.values() if n.procedure_id == pid]
        return sorted(members, key=lambda n: (n.published_at, n.id))

    async def plan(self, changes: CardChanges, now: datetime) -> list[tuple[str, Action]]:
        """Read the touched cards; the write of each new card."""
        pending = changes.procedures()
        stored = await self.read_cards(pending)
        known = await self._known(changes.verify)
        built = {p: _build(stored[p], _candidates(p, stored[p], changes, known)) for p in pending}
        unresolved = [p for p in pending if isinstance(built[p], str)]
        if unresolved:
            # A summarised notice would become the main one: read those procedures' notices.
            known |= await self._known({i for p in unresolved for i in stored[p].members})
            for p in unresolved:
                built[p] = _build(stored[p], _candidates(p, stored[p], changes, known))
        return [
            (p, _card_action(self._cards, p, stored[p], built[p], now=now, derived=self._derived))
            for p in pending
        ]

    async def update(self, changes: CardChanges, now: datetime) -> dict[str, ItemResult]:
        """Recompute and write the cards; procedure_id -> failure for those that failed."""
        failures: dict[str, ItemResult] = {}
        conflicts: dict[str, ItemResult] = {}
        for attempt in range(MAX_ATTEMPTS):
            if not changes.procedures():
                break
            if attempt:
                await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))  # noqa: S311
            try:
                planned = await self.plan(changes, now)
            except TransportError as exc:
                unreachable = ItemResult(503, f"card read failed: {exc}", retryable=True)
                return failures | dict.fromkeys(changes.procedures(), unreachable)
            actions = [action for _, action in planned]
            results = await run_bulk(
                self._client, actions, refresh=self._refresh, request_timeout=self._timeout
            )
            conflicts, failed = settle(planned, results)
            failures |= failed
            changes = changes.only(set(conflicts))
        return failures | conflicts


def settle(
    planned: list[tuple[str, Action]], results: list[ItemResult]
) -> tuple[dict[str, ItemResult], dict[str, ItemResult]]:
    """(conflicts to recompute, other failures) of a round of card writes."""
    conflicts: dict[str, ItemResult] = {}
    failures: dict[str, ItemResult] = {}
    for (pid, action), result in zip(planned, results, strict=True):
        if result.ok or (action.op == "delete" and result.status == 404):
            continue
        if result.status == 409:
            # Another writer changed the card since it was read: read it again.
            conflicts[pid] = msgspec.structs.replace(result, retryable=True)
        else:
            failures[pid] = result
    return conflicts, failures
