"""The harvester base class and the run loop every source shares.

A source module subclasses `Harvester` and only fetches, pages and splits: it yields `Page`s of
`DocumentItem`s, each with the cursor that resumes after it. Everything else is here:
publishing with deduplication, moving the cursor only after JetStream acknowledged the page,
counting, the failed-run rule, state in KV, logs and metrics.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

import msgspec
from nats.js import JetStreamContext
from prometheus_client import Counter

from scope_harvester.http import PoliteClient, Politeness, Response
from scope_harvester.settings import SourceConfig
from scope_harvester.state import StateStore, Validators
from scope_shared.bus import Stage, publish_dead_letter, publish_raw, raw_subject
from scope_shared.bus import headers as h
from scope_shared.documents import DocumentItem, RejectedItem
from scope_shared.errors import ConfigError, PermanentError, RetryableError
from scope_shared.logging import get_logger
from scope_shared.schema import make_raw_notice, sha256_hex
from scope_shared.schema.harvest import RunCounts, SourceState

Lane = Literal["live", "backfill", "window"]
"""Where a run keeps its cursor: `live` and `backfill` are the service's two lanes; a
`window` run (`scope harvest --since/--until`) is a one-off and keeps none, so that checking
a past week never moves the live cursor."""

NOTICES = Counter(
    "scope_harvester_notices_total",
    "Notices handled by the harvester, by source and outcome (published, duplicate, "
    "rejected: a piece of a document that named no notice, kept as a dead letter).",
    ["source", "outcome"],
)
RUNS = Counter(
    "scope_harvester_runs_total", "Harvest runs, by source and status.", ["source", "status"]
)

PUBLISH_CONCURRENCY = 64
"""PubAcks awaited at once: enough to hide the round trip, small enough to bound memory."""


@dataclass(frozen=True)
class Window:
    """Publication dates to harvest; None is open-ended (the cursor, or today)."""

    since: date | None = None
    until: date | None = None


@dataclass
class Page:
    """One fetched page, split.

    Attributes:
        url: What was fetched (logged, and the RawNotice's `url`).
        items: The notices of the page.
        cursor: Where to resume after this page; None leaves the cursor where it is.
        content_type: Media type of the items' payloads.
        rejected: What the page held that names no notice: kept as harvest dead letters.
    """

    url: str
    items: list[DocumentItem]
    cursor: str | None = None
    content_type: str = "application/json"
    rejected: list[RejectedItem] = field(default_factory=list)


T = TypeVar("T")

OFF_LOOP_BYTES = 256 * 2**10
"""A body larger than this is parsed in a worker thread: an OCDS package or a feed of tens of
MiB would otherwise hold every source's requests and acks for seconds."""


async def parsed(parse: Callable[[bytes], T], body: bytes) -> T:
    """`parse(body)`, off the event loop when the body is large."""
    if len(body) > OFF_LOOP_BYTES:
        return await asyncio.to_thread(parse, body)
    return parse(body)


def _internal(host: str) -> bool:
    """An IP literal outside the public Internet, in any form the resolver accepts (`127.1`,
    `0x7f000001`), and `localhost`."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        try:
            # The C library's reading, as the connection will have it: hex, octal, short forms.
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return False
    return not address.is_global


class Harvester(ABC):
    """Base of every source.

    Attributes a subclass sets:
        kind: Registry name (`france_boamp`).
        default_base_url: The public API's base URL.
        interval: Seconds between live runs.
        backfill: Whether `backfill_since` applies: the cursor is an ISO date and `pages`
            honours a `Window`, so history can be walked by date apart from the live lane.
        politeness: Default per-host limits for this source's API.
        Options: A msgspec Struct of the source's own options (the `options` table).
    """

    kind: ClassVar[str]
    default_base_url: ClassVar[str]
    interval: ClassVar[float] = 900.0
    backfill: ClassVar[bool] = False
    politeness: ClassVar[Politeness] = Politeness()

    class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
        pass

    def __init__(self, name: str, config: SourceConfig, http: PoliteClient) -> None:
        self.name = name
        self.config = config
        self.http = http
        self.base_url = (config.base_url or self.default_base_url).rstrip("/")
        self._on_internal_host = _internal(urlsplit(self.base_url).hostname or "")
        self.options = self.parse_options(config.options)
        self.validators: dict[str, Validators] = {}
        self.log = get_logger(source=name)

    def followed(self, url: str) -> str:
        """`url`, taken from a fetched document (a next page, a notice's XML), once checked:
        a web address, and not a private, loopback or link-local IP unless the source itself
        is configured on one (a replay on this machine). A publisher cannot make the
        harvester fetch what sits inside the deployment.

        Raises:
            PermanentError: the document leads elsewhere.
        """
        target = urlsplit(url)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise PermanentError(f"a document leads to {url!r}: not a web address")
        if _internal(target.hostname) and not self._on_internal_host:
            raise PermanentError(f"a document leads to {url!r}: an internal address")
        return url

    @classmethod
    def parse_options(cls, options: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(options, cls.Options)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"options of {cls.kind}: {exc}") from exc

    @classmethod
    def check_config(cls, name: str, config: SourceConfig) -> None:
        """Fail at start, naming the source, when it cannot run with this configuration."""
        if not (config.base_url or cls.default_base_url):
            raise ConfigError(f"sources.{name}: base_url is required for kind {cls.kind}")
        if config.backfill_since and not cls.backfill:
            raise ConfigError(
                f"sources.{name}: backfill_since is not supported by kind {cls.kind} "
                "(its cursor is not a date)"
            )
        try:
            cls.parse_options(config.options)
        except ConfigError as exc:
            raise ConfigError(f"sources.{name}: {exc}") from exc

    @classmethod
    def politeness_for(cls, config: SourceConfig) -> Politeness:
        base = cls.politeness
        return Politeness(
            concurrency=config.concurrency or base.concurrency,
            rate=config.rate or base.rate,
            timeout=config.timeout or base.timeout,
            retries=base.retries,
            backoff=base.backoff,
            max_backoff=base.max_backoff,
        )

    @abstractmethod
    def pages(self, cursor: str | None, window: Window) -> AsyncIterator[Page]:
        """Fetch and split, page after page, from `cursor` (None: from the window's start)."""

    async def fetch_document(
        self, method: str, url: str, parse: Callable[[bytes], Any], **kwargs: Any
    ) -> tuple[Response, Any]:
        """Fetch and parse; a body that does not parse (truncated in transit) is fetched again."""
        attempts = self.http.politeness.retries + 1
        for attempt in range(attempts):
            response = await self.http.request(method, url, **kwargs)
            try:
                return response, await parsed(parse, response.body)
            except (msgspec.DecodeError, ValueError) as exc:
                self.http.counts.failed += 1
                if attempt + 1 == attempts:
                    raise RetryableError(f"unreadable body from {url}: {exc}") from exc
                self.log.warning("page_unreadable", url=url, attempt=attempt + 1, error=str(exc))
                await asyncio.sleep(self.http.retry_delay(attempt))
        raise AssertionError("unreachable")

    async def fetch_conditional(self, url: str) -> Response:
        """GET with the validators kept from the last run; a 304 means unchanged.

        The response's own validators are not kept here: the caller keeps them
        (`keep_validators`) once what the response holds was published. Kept before, they
        would make the next run's request a 304 after a run that failed to publish.
        """
        kept = self.validators.get(url, Validators())
        return await self.http.request("GET", url, etag=kept.etag, last_modified=kept.last_modified)

    def keep_validators(self, url: str, response: Response) -> None:
        self.validators[url] = Validators(
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )


@dataclass
class RunReport:
    source: str
    run_id: str
    status: Literal["ok", "failed"]
    counts: RunCounts
    error: str | None = None
    cursor: str | None = None


class HarvestRun:
    """One run of one harvester: pages in, raw notices published, cursor and state saved."""

    def __init__(
        self,
        harvester: Harvester,
        js: JetStreamContext,
        states: StateStore,
        *,
        failure_ratio: float = 0.2,
        on_page: Callable[[Page, RunCounts], None] | None = None,
    ) -> None:
        self.harvester = harvester
        self.js = js
        self.states = states
        self.failure_ratio = failure_ratio
        self.on_page = on_page
        self.run_id = uuid.uuid4().hex
        self.counts = RunCounts()
        self._newest: datetime | None = None
        """The newest publication date published in this run."""
        self.log = harvester.log.bind(run_id=self.run_id)

    async def run(self, window: Window = Window(), lane: Lane = "live") -> RunReport:
        name = self.harvester.name
        state = await self.states.load(name)
        await self._mark_started(state)
        self.harvester.validators = await self.states.validators(name)
        # A window without a start begins where the live lane is.
        cursor_lane = "live" if lane == "window" else lane
        cursor = None if window.since else await self.states.cursor(name, cursor_lane)
        self.log.info("harvest_started", lane=lane, cursor=cursor, since=str(window.since))
        error: str | None = None
        try:
            async for page in self.harvester.pages(cursor, window):
                await self._publish_page(page)
                if page.cursor is not None:
                    cursor = page.cursor
                    if lane != "window":
                        await self.states.save_cursor(name, lane, cursor)
        except Exception as exc:  # noqa: BLE001 - one broken source never stops the others
            error = f"{type(exc).__name__}: {exc}"
        await self.states.save_validators(name, self.harvester.validators)
        return await self._finish(state, error, cursor)

    async def _publish_page(self, page: Page) -> None:
        self.counts.pages += 1
        self.counts.fetched += len(page.items)
        semaphore = asyncio.Semaphore(PUBLISH_CONCURRENCY)

        async def publish(item: DocumentItem) -> None:
            raw = make_raw_notice(
                source=self.harvester.name,
                source_id=item.source_id,
                format=item.format,
                payload=item.payload,
                url=page.url,
                content_type=page.content_type,
                run_id=self.run_id,
                published_at=item.published_at,
                attributes=item.attributes,
            )
            async with semaphore:
                ack = await publish_raw(self.js, raw)
            outcome = "duplicate" if ack.duplicate else "published"
            if ack.duplicate:
                self.counts.duplicates += 1
            else:
                self.counts.published += 1
            NOTICES.labels(source=self.harvester.name, outcome=outcome).inc()

        # Any publish failure propagates: the page's cursor is not saved, the page is fetched
        # again next run, and the notices already stored are dropped by their Msg-Id.
        await asyncio.gather(*(publish(item) for item in page.items))
        for rejected in page.rejected:
            await self._keep_rejected(page, rejected)
        dates = [i.published_at for i in page.items if i.published_at is not None]
        if dates:
            self._newest = max(dates) if self._newest is None else max(self._newest, *dates)
        self.log.info("page_published", url=page.url, items=len(page.items), cursor=page.cursor)
        if self.on_page is not None:
            self.on_page(page, self.counts)

    async def _keep_rejected(self, page: Page, rejected: RejectedItem) -> None:
        """A piece that names no notice, as a dead letter of the harvest stage (its bytes, the
        reason, the page it came from), once: a later run reading it again keeps nothing."""
        source = self.harvester.name
        digest = sha256_hex(rejected.data)
        if await self.states.rejection_kept(source, digest):
            return
        await publish_dead_letter(
            self.js, stage=Stage.HARVEST, source=source, data=rejected.data,
            original_headers={h.SOURCE: source, h.DEAD_DOCUMENT_URL: page.url},
            error=PermanentError(rejected.reason, field_path=rejected.field_path),
            original_subject=raw_subject(source),
            msg_id=f"{Stage.HARVEST}:{source}:{digest}",
        )  # fmt: skip
        await self.states.mark_rejection_kept(source, digest)
        self.counts.rejected += 1
        NOTICES.labels(source=source, outcome="rejected").inc()
        self.log.warning(
            "item_rejected", url=page.url, reason=rejected.reason, field=rejected.field_path
        )

    async def _mark_started(self, state: SourceState) -> None:
        state.kind = self.harvester.kind
        state.status = "running"
        state.last_run_id = self.run_id
        state.last_run_started_at = datetime.now(UTC)
        await self.states.save(state)

    async def _finish(self, state: SourceState, error: str | None, cursor: str | None) -> RunReport:
        http = self.harvester.http.counts
        self.counts.requests, self.counts.failed_requests = http.requests, http.failed
        ratio = http.failed / http.requests if http.requests else 0.0
        if error is None and ratio > self.failure_ratio:
            error = (
                f"{http.failed} of {http.requests} requests failed (over {self.failure_ratio:.0%})"
            )
        status: Literal["ok", "failed"] = "failed" if error else "ok"
        now = datetime.now(UTC)
        state.status = status
        state.last_run_finished_at = now
        state.last_run = self.counts
        state.totals = state.totals.add(self.counts)
        if self._newest and (
            state.last_published_at is None or self._newest > state.last_published_at
        ):
            state.last_published_at = self._newest
        if error:
            state.last_error, state.last_error_at = error, now
        else:
            state.last_success_at = now
        await self.states.save(state)
        RUNS.labels(source=self.harvester.name, status=status).inc()
        event = self.log.error if error else self.log.info
        event(
            "harvest_finished", status=status, error=error, pages=self.counts.pages,
            fetched=self.counts.fetched, published=self.counts.published,
            duplicates=self.counts.duplicates, rejected=self.counts.rejected,
            requests=http.requests,
            failed_requests=http.failed,
        )  # fmt: skip
        return RunReport(self.harvester.name, self.run_id, status, self.counts, error, cursor)
