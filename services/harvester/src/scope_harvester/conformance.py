"""`scope check-harvester`: does what a harvester publishes honour the RawNotice contract?

An editor writing its own harvester (in any language, docs/harvester-kit.md) runs this against
its subject and gets one line per message: `OK`, or every violation found, each named by a
code:

    not-json                the message body is not JSON
    schema                  strict decoding as RawNotice failed (msgspec's message and path)
    unknown-field           a field the schema does not define (most likely a typo)
    schema-version-unknown  `schema_version` is not one this Scope knows
    format-unknown          `format` is not a RawFormat value
    source-mismatch         `source` differs from the subject's last token
    msg-id-missing / msg-id-mismatch      `Nats-Msg-Id` absent, or not source:source_id:sha256
    header-missing / header-mismatch      `Scope-Source`, `Scope-Format`, `Scope-Schema-Version`
    payload-ref-bucket / payload-ref-missing / payload-ref-size   the object store reference
    sha256-mismatch         `sha256` is not the digest of the payload bytes
    payload-unparsable      the payload is not even JSON (JSON formats) or XML (XML formats)
    fetched-at-future       `fetched_at` is later than now (beyond clock skew)

Exit code: 0 when every checked message conforms, 1 when one does not (or none arrived), 2 when
nothing could be checked (usage error, no connection).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.parsers import expat

import msgspec
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.errors import InvalidBucketNameError, InvalidObjectNameError, NotFoundError

from scope_shared.bus import RAW_PAYLOADS_BUCKET, RAW_STREAM, connect, decode_raw, headers
from scope_shared.bus.topology import RAW_SUBJECT_PREFIX, source_of_subject
from scope_shared.config import CommonSettings, load_settings
from scope_shared.schema import RAW_SCHEMA_VERSION, PayloadRef, RawFormat, RawNotice, sha256_hex

CLOCK_SKEW = timedelta(minutes=5)
"""An editor's clock may run a little ahead of ours; beyond five minutes it is a bug."""
KNOWN_SCHEMA_VERSIONS = frozenset(range(1, RAW_SCHEMA_VERSION + 1))
XML_FORMATS = frozenset(
    {
        RawFormat.BOAMP_XML,
        RawFormat.EFORMS_XML,
        RawFormat.TED_XML,
        RawFormat.DECP_2019_XML,
        RawFormat.DECP_2024_XML,
    }
)
"""Formats whose payload is an XML document; every other RawFormat carries JSON."""
_SUBJECT = re.compile(rf"^{re.escape(RAW_SUBJECT_PREFIX)}\.[a-z][a-z0-9_]{{1,62}}$")
_RAW_FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(RawNotice))
_REF_FIELDS = frozenset(f.encode_name for f in msgspec.structs.fields(PayloadRef))

FetchObject = Callable[[str, str], Awaitable[bytes | None]]
"""(bucket, name) -> the object's bytes, or None when there is no such object."""


@dataclass(frozen=True)
class Violation:
    code: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class Received:
    """One message as read from the subject or the stream."""

    subject: str
    data: bytes
    headers: Mapping[str, str] | None
    sequence: int | None = None


@dataclass
class Checked:
    message: Received
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def line(self, index: int) -> str:
        where = f"seq {self.message.sequence}" if self.message.sequence else f"#{index}"
        msg_id = (self.message.headers or {}).get(headers.MSG_ID, "-")
        verdict = "OK" if self.ok else "FAIL " + "; ".join(map(str, self.violations))
        return f"{where} {msg_id} {verdict}"


async def check_message(message: Received, fetch_object: FetchObject, now: datetime) -> Checked:
    """Every violation of one message (see the module docstring for the codes)."""
    checked = Checked(message)
    try:
        document = msgspec.json.decode(message.data)
    except msgspec.DecodeError as exc:
        checked.violations.append(Violation("not-json", str(exc)))
        return checked
    if isinstance(document, dict):
        checked.violations += _unknown_fields(document)
        checked.violations += _envelope(document, message)
    try:
        raw = decode_raw(message.data)
    except msgspec.ValidationError as exc:
        checked.violations.append(Violation("schema", str(exc)))
        return checked
    checked.violations += await _payload(raw, fetch_object)
    if raw.fetched_at > now + CLOCK_SKEW:
        checked.violations.append(
            Violation("fetched-at-future", f"{raw.fetched_at.isoformat()} is after {now}")
        )
    return checked


def _unknown_fields(document: dict[str, Any]) -> list[Violation]:
    # The schema ignores unknown fields on purpose (readers one version behind keep working,
    # docs/schema/EVOLUTION.md), so strict decoding passes them: compare names instead.
    unknown = [f"$.{name}" for name in sorted(set(document) - _RAW_FIELDS)]
    ref = document.get("payload_ref")
    if isinstance(ref, dict):
        unknown += [f"$.payload_ref.{name}" for name in sorted(set(ref) - _REF_FIELDS)]
    return [Violation("unknown-field", path) for path in unknown]


def _envelope(document: dict[str, Any], message: Received) -> list[Violation]:
    found: list[Violation] = []
    version = document.get("schema_version", RAW_SCHEMA_VERSION)
    if not _known(version, KNOWN_SCHEMA_VERSIONS):
        found.append(Violation("schema-version-unknown", f"{version!r}"))
    fmt = document.get("format")
    if not _known(fmt, frozenset(RawFormat)):
        found.append(Violation("format-unknown", f"{fmt!r} (known: {', '.join(RawFormat)})"))
    source, token = document.get("source"), source_of_subject(message.subject)
    if source != token:
        found.append(Violation("source-mismatch", f"source {source!r} on {message.subject}"))
    return found + _headers(document, message.headers or {})


def _known(value: object, known: frozenset[Any]) -> bool:
    """Membership for a value straight from JSON: a list is unhashable, a bool is not an int."""
    return isinstance(value, (int, str)) and not isinstance(value, bool) and value in known


def _headers(document: dict[str, Any], sent: Mapping[str, str]) -> list[Violation]:
    found: list[Violation] = []
    parts = (document.get("source"), document.get("source_id"), document.get("sha256"))
    expected_id = ":".join(str(part) for part in parts)
    if headers.MSG_ID not in sent:
        found.append(Violation("msg-id-missing", f"expected {expected_id}"))
    elif sent[headers.MSG_ID] != expected_id:
        found.append(
            Violation("msg-id-mismatch", f"{sent[headers.MSG_ID]!r}, expected {expected_id!r}")
        )
    version = document.get("schema_version", RAW_SCHEMA_VERSION)
    for name, value in (
        (headers.SOURCE, document.get("source")),
        (headers.FORMAT, document.get("format")),
        (headers.SCHEMA_VERSION, version),
    ):
        if name not in sent:
            found.append(Violation("header-missing", name))
        elif sent[name] != str(value):
            found.append(Violation("header-mismatch", f"{name} {sent[name]!r} != {value!r}"))
    return found


async def _payload(raw: RawNotice, fetch_object: FetchObject) -> list[Violation]:
    data = raw.payload
    if data is None:
        assert raw.payload_ref is not None  # RawNotice guarantees exactly one of the two
        data, found = await _referenced(raw.payload_ref, fetch_object)
        if data is None:
            return found
    else:
        found = []
    digest = sha256_hex(data)
    if digest != raw.sha256:
        found.append(Violation("sha256-mismatch", f"payload digest is {digest}"))
    if (problem := _unparsable(raw.format, data)) is not None:
        found.append(Violation("payload-unparsable", problem))
    return found


async def _referenced(
    ref: PayloadRef, fetch_object: FetchObject
) -> tuple[bytes | None, list[Violation]]:
    if ref.bucket != RAW_PAYLOADS_BUCKET:
        return None, [Violation("payload-ref-bucket", f"{ref.bucket!r}, not {RAW_PAYLOADS_BUCKET}")]
    data = await fetch_object(ref.bucket, ref.name)
    if data is None:
        return None, [Violation("payload-ref-missing", f"{ref.bucket}/{ref.name}")]
    if len(data) != ref.size:
        return data, [
            Violation("payload-ref-size", f"object has {len(data)} bytes, not {ref.size}")
        ]
    return data, []


def _unparsable(fmt: RawFormat, data: bytes) -> str | None:
    """Why the payload cannot be its format's syntax at all; None when it parses."""
    if fmt in XML_FORMATS:
        # expat resolves no external entity and checks well-formedness only: cheap and safe.
        try:
            expat.ParserCreate().Parse(data, True)
        except expat.ExpatError as exc:
            return f"{fmt.value} payload is not XML: {exc}"
        return None
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return f"{fmt.value} payload is not JSON: {exc}"
    return None


async def collect_live(
    nc: NatsClient, subject: str, count: int, wait_seconds: float
) -> list[Received]:
    """Up to `count` messages published on `subject` within `wait_seconds` from now."""
    subscription = await nc.subscribe(subject)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    found: list[Received] = []
    try:
        while len(found) < count and (remaining := deadline - loop.time()) > 0:
            try:
                msg = await subscription.next_msg(timeout=remaining)
            except nats.errors.TimeoutError:
                break
            found.append(Received(msg.subject, msg.data, msg.headers))
    finally:
        await subscription.unsubscribe()
    return found


async def collect_stream(js: JetStreamContext, subject: str, count: int) -> list[Received]:
    """The last `count` messages of SCOPE_RAW on `subject`, oldest first.

    JetStream fetches a subject's messages forward only, so the window of sequences read
    grows backwards from the subject's last message until it holds `count` of them.
    """
    try:
        last = await js.get_last_msg(RAW_STREAM, subject)
        first = (await js.stream_info(RAW_STREAM)).state.first_seq
    except NotFoundError:
        return []
    assert last.seq is not None
    window = count
    while True:
        start = max(first, last.seq - window + 1)
        found = await _stream_range(js, subject, start, last.seq)
        if len(found) >= count or start == first:
            return found[-count:]
        window *= 4


async def _stream_range(js: JetStreamContext, subject: str, start: int, end: int) -> list[Received]:
    found: list[Received] = []
    sequence = start
    while sequence <= end:
        try:
            msg = await js.get_msg(RAW_STREAM, sequence, subject=subject, next=True)
        except NotFoundError:
            break
        assert msg.seq is not None and msg.subject is not None
        if msg.seq > end:
            break
        found.append(Received(msg.subject, msg.data or b"", msg.headers, msg.seq))
        sequence = msg.seq + 1
    return found


def object_fetcher(js: JetStreamContext) -> FetchObject:
    async def fetch(bucket: str, name: str) -> bytes | None:
        try:
            store = await js.object_store(bucket)
            return (await store.get(name)).data
        except (NotFoundError, InvalidBucketNameError, InvalidObjectNameError):
            return None

    return fetch


async def check_messages(
    nc: NatsClient,
    subject: str,
    *,
    count: int = 10,
    wait_seconds: float = 60.0,
    stream: bool = False,
    now: datetime | None = None,
) -> list[Checked]:
    """Read messages of `subject` (live, or the stream's last ones) and check each one.

    Args:
        nc: A connected client allowed to subscribe to `subject` (and read SCOPE_RAW and the
            payload object store).
        subject: `scope.raw.<editor>`.
        count: Messages to check at most.
        wait_seconds: How long to wait for live messages (ignored with `stream`).
        stream: Read the last `count` stored messages instead of waiting for new ones.
        now: The reference instant for `fetched_at` (tests pin it).
    """
    js = nc.jetstream()
    received = (
        await collect_stream(js, subject, count)
        if stream
        else await collect_live(nc, subject, count, wait_seconds)
    )
    fetch, when = object_fetcher(js), now or datetime.now(UTC)
    return [await check_message(message, fetch, when) for message in received]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `scope check-harvester` (entry point group `scope.commands`)."""
    parser = subparsers.add_parser(
        "check-harvester",
        help="check the messages a harvester publishes against the RawNotice contract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--subject", required=True, help="scope.raw.<editor>")
    parser.add_argument("--count", type=_positive(int), default=10, help="messages to check")
    parser.add_argument(
        "--timeout", type=_positive(float), default=60.0, help="seconds to wait for messages"
    )
    parser.add_argument(
        "--stream", action="store_true", help="check the last COUNT stored messages instead"
    )
    parser.set_defaults(func=run_command)


def _positive(kind: Callable[[str], int | float]) -> Callable[[str], int | float]:
    def convert(text: str) -> int | float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text}")
        return value

    return convert


def run_command(args: argparse.Namespace) -> int:
    if not _SUBJECT.match(args.subject):
        _err(f"--subject must be {RAW_SUBJECT_PREFIX}.<source> (lowercase, digits, _)")
        return 2
    return asyncio.run(run_check(args.subject, args.count, args.timeout, stream=args.stream))


async def run_check(subject: str, count: int, wait_seconds: float, *, stream: bool) -> int:
    """The command: connect with the `SCOPE_NATS_*` settings, check, print; the exit code."""
    settings = load_settings(CommonSettings)
    try:
        nc = await connect(settings, "scope-check-harvester", persistent=False)
    except (OSError, nats.errors.Error) as exc:
        _err(f"cannot connect to NATS ({', '.join(settings.nats_url)}): {exc}")
        return 2
    try:
        checked = await check_messages(
            nc, subject, count=count, wait_seconds=wait_seconds, stream=stream
        )
    except nats.errors.Error as exc:
        # Refused or unanswered: --stream reads SCOPE_RAW through the JetStream API, which an
        # editor account has no right to (operators run it).
        mode = "read the stream" if stream else f"subscribe to {subject}"
        _err(f"cannot {mode}: {type(exc).__name__} {exc}".rstrip())
        return 2
    finally:
        await nc.close()
    for index, result in enumerate(checked, 1):
        print(result.line(index))  # noqa: T201 - command output
    if not checked:
        _err(f"no message on {subject}" + ("" if stream else f" within {wait_seconds:g} s"))
        return 1
    return 0 if all(result.ok for result in checked) else 1


def _err(text: str) -> None:
    print(f"scope check-harvester: {text}", file=sys.stderr)  # noqa: T201 - command output
