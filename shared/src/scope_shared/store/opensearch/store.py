"""`OpenSearchStore`: the search store on a real OpenSearch cluster (production)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from scope_shared.schema import Notice
from scope_shared.store.contract import (
    IndexOutcome,
    InvalidCursor,
    ProcedureCard,
    SearchQuery,
    SearchResult,
)
from scope_shared.store.opensearch import admin
from scope_shared.store.opensearch.cards import CardWriter
from scope_shared.store.opensearch.client import make_client
from scope_shared.store.opensearch.documents import (
    decode_card,
    decode_history,
    decode_notice,
    history_id,
)
from scope_shared.store.opensearch.indexing import BatchWriter, WriteOptions
from scope_shared.store.opensearch.names import KINDS, IndexKind, IndexNames
from scope_shared.store.opensearch.queries import parsed_text, search_body
from scope_shared.store.opensearch.reindex import KindReport, ReindexOptions, reindex_all
from scope_shared.store.opensearch.results import search_result

Refresh = bool | Literal["wait_for"]

BULK_TIMEOUT_FACTOR = 6
"""Bulk requests get six times the read timeout: a 500-notice batch on a busy node takes
seconds, and timing out a write that then succeeds only costs a redundant retry."""


_encoder = msgspec.json.Encoder()


class OpenSearchStore:
    """The search store on OpenSearch: aliases `<prefix>-notices`, `-history`, `-procedures`.

    Args:
        url: The node(s), `http://127.0.0.1:9200` (comma-separated for several).
        index_prefix: Prefix of every index, alias and template; one per deployment (or test).
        timeout: Seconds for each read request; writes get `BULK_TIMEOUT_FACTOR` times it.
        refresh: When `index()` makes its writes visible to search. `False` (production):
            at the node's next periodic refresh (1 s), so batches never pay for a refresh.
            `True`: refresh the touched indices at once (tests, small tools: immediate
            read-your-writes, at the cost of one small segment per batch). `"wait_for"`: the
            bulk requests return only after the next periodic refresh.
        replicas: Replicas per index: 0 on a single node, at least 1 in a cluster.
        shards: Primary shards per index (1 keeps facet counts exact; see template.py).
    """

    def __init__(
        self, url: str, *, index_prefix: str = "scope", timeout: float = 10.0,
        refresh: Refresh = False, replicas: int = 0, shards: int = 1,
        ca_certs: str | None = None, verify_certs: bool = True,
    ) -> None:  # fmt: skip
        self.names = IndexNames(index_prefix)
        self._timeout = timeout
        self._refresh = refresh
        self._layout = admin.Layout(replicas=replicas, shards=shards)
        self._client: Any = make_client(
            url, timeout=timeout, ca_certs=ca_certs, verify_certs=verify_certs
        )

    async def setup(self) -> None:
        """Templates, indices and aliases; idempotent, and adds new schema fields in place."""
        await admin.setup(self._client, self.names, self._layout, self._timeout)

    async def index(self, notices: Sequence[Notice]) -> list[IndexOutcome]:
        """Index a batch; one outcome per notice, in order, never an exception for the
        store's errors: an unreachable or overloaded node yields `failed` outcomes with
        `retryable=True` (the indexer backs off and sends them again), a document OpenSearch
        refuses yields `failed` with OpenSearch's reason (the indexer dead-letters it)."""
        if not notices:
            return []
        refresh = "wait_for" if self._refresh == "wait_for" else "false"
        options = WriteOptions(refresh=refresh, timeout=self._timeout * BULK_TIMEOUT_FACTOR)
        writer = BatchWriter(self._client, self.names, options, datetime.now(UTC))
        outcomes = await writer.write(notices)
        if self._refresh is True:
            # The writes are durable either way; a node that went away meanwhile only delays
            # their visibility to search, so a failed refresh does not turn into an error.
            with contextlib.suppress(TransportError):
                await self.refresh()
        return outcomes

    async def refresh(self) -> None:
        """Make every write so far visible to search (tests; after a bulk load)."""
        aliases = ",".join(self.names.alias(kind) for kind in KINDS)
        await self._client.indices.refresh(index=aliases, request_timeout=self._timeout)

    async def get(self, notice_id: str) -> Notice | None:
        """Real-time: a notice is readable as soon as `index` returned, before any refresh."""
        try:
            doc = await self._client.get(
                index=self.names.alias("notices"), id=notice_id,
                params={"_source_excludes": "derived"}, request_timeout=self._timeout,
            )  # fmt: skip
        except NotFoundError:
            return None
        return decode_notice(doc["_source"])

    async def history(self, notice_id: str) -> list[Notice]:
        """Every stored version, by real-time `mget` of `<id>#1..<id>#<latest>`."""
        latest = await self.get(notice_id)
        if latest is None:
            return []
        ids = [history_id(notice_id, v) for v in range(1, latest.version + 1)]
        response = await self._client.mget(
            index=self.names.alias("history"), body={"ids": ids},
            request_timeout=self._timeout,
        )  # fmt: skip
        found = [decode_history(d["_source"]) for d in response["docs"] if d.get("found")]
        return sorted(found, key=lambda n: n.version)

    async def procedure(self, procedure_id: str) -> ProcedureCard | None:
        try:
            doc = await self._client.get(
                index=self.names.alias("procedures"), id=procedure_id,
                params={"_source_excludes": "derived,card.members"},
                request_timeout=self._timeout,
            )  # fmt: skip
        except NotFoundError:
            return None
        return decode_card(doc["_source"])

    async def procedure_notices(self, procedure_id: str) -> list[Notice]:
        """The notices the card was made of, read back in real time."""
        cards = CardWriter(self._client, self.names, refresh="false", request_timeout=self._timeout)
        return await cards.members(procedure_id)

    async def search(self, query: SearchQuery) -> SearchResult:
        """Run a query on notices, or on procedure cards when grouping; InvalidCursor for a
        bad cursor, also one well-formed but holding values the node refuses (edited by
        hand: `search_after` with text where a date is sorted)."""
        parsed = parsed_text(query)
        body = _encoder.encode(search_body(query, parsed))
        kind: IndexKind = "procedures" if query.group_by_procedure else "notices"
        try:
            answer = await self._client.transport.perform_raw(
                "POST", f"/{self.names.alias(kind)}/_search", body=body, seconds=self._timeout
            )
        except RequestError as exc:
            if query.cursor is None:
                raise
            raise InvalidCursor("invalid cursor: the search engine refused its values") from exc
        return search_result(answer, query, has_words=bool(parsed.required))

    async def reindex(
        self, new_version: int | None = None, *, options: ReindexOptions | None = None
    ) -> list[KindReport]:
        """Rebuild every index from its current version under the current template (after a
        mapping or analysis change) and swap the aliases atomically: searches keep working
        throughout, and writes made during the copy are caught up (see reindex.py).

        Args:
            new_version: The N of the new `<prefix>-<kind>-v<N>`; default current + 1.
            options: Timeouts, settle delay, whether to keep the old indices.

        Returns:
            One report per kind: old and new index, documents copied and caught up.
        """
        return await reindex_all(self._client, self.names, new_version, options or ReindexOptions())

    async def drop(self) -> None:
        """Delete every index and template of this prefix (tests use it)."""
        await admin.drop(self._client, self.names, self._timeout)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping(request_timeout=self._timeout))
        except (TransportError, TimeoutError):
            return False

    async def close(self) -> None:
        await self._client.close()
