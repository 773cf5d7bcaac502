"""The raw `_bulk` call: NDJSON built from pre-encoded bodies, one result per action.

The store builds the request body itself (msgspec bytes) instead of going through
`async_streaming_bulk`, whose per-document `json.dumps` is the slowest step of that path, and
classifies every item: a whole request that fails (node down, overloaded, timed out) becomes
one failed result per action, never an exception, so one bad batch cannot crash the indexer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import msgspec
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

_encoder = msgspec.json.Encoder()

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
"""Overload (429: a full write queue), unavailability and timeouts: the same document may be
accepted later. Everything else (400 mapping errors above all) will fail again as it is."""

REFUSED_SETUP_STATUS = frozenset({401, 403, 404})
"""A whole request refused for the cluster's set-up, not for its documents: credentials
rotated (401), a role or a write block missing (403), the alias gone (404). Retried until an
operator mends it: dead-lettering every notice indexed meanwhile would leave them to be
retried by hand."""

REFUSED_SETUP_ERRORS = frozenset(
    {"cluster_block_exception", "index_not_found_exception", "security_exception"}
)
"""The same, said of one item: a write block on the index (flood-stage disk watermark, a
maintenance block), the index or alias missing, a permission refused."""

MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""Bulk requests are split below this: far under the node's 100 MB `http.max_content_length`,
and small enough that one slow request does not hold a large batch past the timeout."""

FILTER_PATH = ",".join(
    f"items.*.{field}"
    for field in ("status", "error.type", "error.reason", "error.caused_by", "_seq_no",
                  "_primary_term", "result")
)  # fmt: skip
"""Only what the store reads: smaller responses decode faster."""


class Action(msgspec.Struct, frozen=True):
    """One bulk action: its metadata line (as a dict) and its encoded body, if any."""

    op: str
    meta: dict[str, Any]
    body: bytes | None = None


class ItemResult(msgspec.Struct, frozen=True):
    status: int
    error: str | None = None
    retryable: bool = False
    result: str | None = None
    seq_no: int | None = None
    primary_term: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _reason(error: dict[str, Any]) -> str:
    """`type: reason`, with the root cause when OpenSearch gives one (the field's parse error)."""
    text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        text += f" (caused by {cause.get('type', 'error')}: {cause['reason']})"
    return text


def _item(raw: dict[str, Any]) -> ItemResult:
    (info,) = raw.values()
    status = int(info.get("status", 500))
    error = info.get("error")
    setup = isinstance(error, dict) and error.get("type") in REFUSED_SETUP_ERRORS
    return ItemResult(
        status=status,
        error=_reason(error) if isinstance(error, dict) else (str(error) if error else None),
        retryable=status in RETRYABLE_STATUS or setup,
        result=info.get("result"),
        seq_no=info.get("_seq_no"),
        primary_term=info.get("_primary_term"),
    )


def _chunks(actions: Sequence[Action]) -> list[tuple[int, bytes]]:
    """(number of actions, NDJSON body) pieces under MAX_REQUEST_BYTES each."""
    chunks: list[tuple[int, bytes]] = []
    lines: list[bytes] = []
    size = count = 0
    for action in actions:
        encoded = _encoder.encode({action.op: action.meta}) + b"\n"
        if action.body is not None:
            encoded += action.body + b"\n"
        if lines and size + len(encoded) > MAX_REQUEST_BYTES:
            chunks.append((count, b"".join(lines)))
            lines, size, count = [], 0, 0
        lines.append(encoded)
        size += len(encoded)
        count += 1
    if lines:
        chunks.append((count, b"".join(lines)))
    return chunks


def request_failure(exc: Exception) -> ItemResult:
    """A request that failed as a whole, as the result of each of its items."""
    if isinstance(exc, OpenSearchConnectionError):
        return ItemResult(status=503, error=f"unreachable: {exc}", retryable=True)
    status = exc.status_code if isinstance(exc, TransportError) else "N/A"
    code = status if isinstance(status, int) else 503
    retryable = code in RETRYABLE_STATUS or code in REFUSED_SETUP_STATUS
    return ItemResult(status=code, error=f"bulk request failed: {exc}", retryable=retryable)


async def run_bulk(
    client: Any, actions: Sequence[Action], *, refresh: str, request_timeout: float
) -> list[ItemResult]:
    """Send the actions; one result per action, in order. Never raises for OpenSearch errors.

    Chunks go one after the other: on the 2-core node measured, concurrent bulk requests
    were slower (bench/opensearch_bench.py); an indexer wanting more runs batches in parallel.

    Args:
        refresh: `false`, `true` or `wait_for`, passed to OpenSearch.
        request_timeout: Seconds for each HTTP request (bulk requests take longer than reads).
    """
    results: list[ItemResult] = []
    for count, body in _chunks(actions):
        params = {"refresh": refresh, "require_alias": "true", "filter_path": FILTER_PATH}
        try:
            # A file object, not bytes: aiohttp streams it instead of warning that a large
            # bytes body may block the loop. A fresh one per request: the client does not
            # retry (client.py), so it is never read twice.
            response = await client.transport.perform_request(
                "POST", "/_bulk", params=params, body=io.BytesIO(body),
                headers={"content-type": "application/x-ndjson"}, timeout=request_timeout,
            )  # fmt: skip
        except (TransportError, TimeoutError) as exc:
            results += [request_failure(exc)] * count
            continue
        items = response.get("items", [])
        if len(items) != count:  # never seen; guards the zip below against a short answer
            lost = ItemResult(status=500, error="bulk answer lost items", retryable=True)
            results += [lost] * count
            continue
        results += [_item(raw) for raw in items]
    return results
