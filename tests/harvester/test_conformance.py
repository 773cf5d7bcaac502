"""`scope check-harvester` on the real nats-server: conforming messages pass, violations are named.

The conforming payload is a real OCDS release (tests/fixtures/ocds/release-package_1.1-2.json);
the bad messages are hand-made variations of it, one defect (or one family of defects) each.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from scope_harvester.conformance import check_messages, register, run_check
from scope_shared.bus import encode, ensure_topology, headers, publish_raw
from scope_shared.config import CommonSettings
from scope_shared.documents.ocds import split_package
from scope_shared.schema import RawFormat, RawNotice, make_raw_notice
from tests.support.ports import free_port

KIT = Path(__file__).parents[2] / "docs/harvester-kit.md"
EDITOR = "france_editor"
SUBJECT = f"scope.raw.{EDITOR}"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
RELEASE = next(
    split_package(
        (Path(__file__).parents[1] / "fixtures/ocds/release-package_1.1-2.json").read_bytes()
    )
)


def _raw(source_id: str = RELEASE.source_id, payload: bytes = RELEASE.payload) -> RawNotice:
    return make_raw_notice(
        source=EDITOR,
        source_id=source_id,
        format=RawFormat.OCDS_RELEASE,
        payload=payload,
        url="https://editor.invalid/ocds/releases?page=1",
        content_type="application/json",
        run_id="run-1",
        attributes=RELEASE.attributes,
        fetched_at=datetime(2026, 11, 1, 11, 0, tzinfo=UTC),
    )


def _message(
    case: str, change: Callable[[dict[str, Any]], None] = lambda _: None
) -> tuple[bytes, dict[str, str]]:
    """A RawNotice as JSON, changed by `change`, with the headers its (changed) body implies.

    Each case has its own source_id, so that JetStream's Msg-Id deduplication keeps them all.
    """
    document: dict[str, Any] = msgspec.json.decode(encode(_raw(f"{RELEASE.source_id}#{case}")))
    change(document)
    sent = {
        headers.MSG_ID: f"{document.get('source')}:{document.get('source_id')}:"
        f"{document.get('sha256')}",
        headers.SOURCE: str(document.get("source")),
        headers.FORMAT: str(document.get("format")),
        headers.SCHEMA_VERSION: str(document.get("schema_version", 1)),
    }
    return msgspec.json.encode(document), sent


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.update(values)


BAD_MESSAGES: list[tuple[str, tuple[bytes, dict[str, str]], list[str]]] = [
    ("not json", (b"<release/>", {headers.MSG_ID: "x"}), ["not-json"]),
    ("typo field", _message("typo", _set(sourceId="x")), ["unknown-field"]),
    ("wrong type", _message("type", _set(run_id=42)), ["schema"]),
    ("foreign source", _message("foreign", _set(source="france_other")), ["source-mismatch"]),
    ("bad digest", _message("digest", _set(sha256="0" * 64)), ["sha256-mismatch"]),
    ("future", _message("future", _set(fetched_at="2099-01-01T00:00:00Z")), ["fetched-at-future"]),
    ("version", _message("version", _set(schema_version=9)), ["schema-version-unknown"]),
    ("format", _message("format", _set(format="pdf")), ["format-unknown", "schema"]),
    (
        "xml format, json payload",
        _message("xml", _set(format="eforms_xml")),
        ["payload-unparsable"],
    ),
    (
        "missing object",
        _message(
            "ref",
            _set(
                payload=None, payload_ref={"bucket": "scope_raw_payloads", "name": "x", "size": 1}
            ),
        ),
        ["payload-ref-missing"],
    ),
]


def _without(name: str, message: tuple[bytes, dict[str, str]]) -> tuple[bytes, dict[str, str]]:
    data, sent = message
    return data, {k: v for k, v in sent.items() if k != name}


def _replace(
    name: str, value: str, message: tuple[bytes, dict[str, str]]
) -> tuple[bytes, dict[str, str]]:
    data, sent = message
    return data, {**sent, name: value}


BAD_HEADERS: list[tuple[str, tuple[bytes, dict[str, str]], list[str]]] = [
    ("no msg-id", _without(headers.MSG_ID, _message("no-id")), ["msg-id-missing"]),
    (
        "msg-id without digest",
        _replace(headers.MSG_ID, f"{EDITOR}:abc", _message("short-id")),
        ["msg-id-mismatch"],
    ),
    (
        "no source header, wrong format header",
        _replace(headers.FORMAT, "eforms_xml", _without(headers.SOURCE, _message("hdr"))),
        ["header-missing", "header-mismatch"],
    ),
]


@pytest.fixture
async def bus(js: JetStreamContext) -> JetStreamContext:
    await ensure_topology(js, CommonSettings())
    return js


async def test_conforming_messages_are_ok_inline_and_in_the_object_store(
    nc: NatsClient, bus: JetStreamContext
) -> None:
    await publish_raw(bus, _raw())
    # Over 700 KiB: publish_raw puts the payload in the object store, the message refers to it.
    large = msgspec.json.encode({"ocid": "ocds-x", "id": "1", "description": "a" * 800_000})
    await publish_raw(bus, _raw("ocds-x/1", large))
    checked = await check_messages(nc, SUBJECT, count=5, stream=True, now=NOW)
    assert [c.message.sequence for c in checked] == [1, 2]
    assert [c.violations for c in checked] == [[], []]
    assert checked[0].line(1) == f"seq 1 {EDITOR}:{RELEASE.source_id}:{_raw().sha256} OK"


def _kit_python_example() -> dict[str, Any]:
    """The namespace of the Python publisher of docs/harvester-kit.md section 3, run as written."""
    section = KIT.read_text().split("## 3.", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, str(KIT), "exec"), namespace)
    return namespace


async def test_kit_python_example_publishes_conforming_messages(
    nc: NatsClient, bus: JetStreamContext
) -> None:
    publish_notice = _kit_python_example()["publish_notice"]
    args = ("ocds_release", RELEASE.payload, "https://editor.invalid/ocds", "run-1")
    assert await publish_notice(bus, RELEASE.source_id, *args) is True
    assert await publish_notice(bus, RELEASE.source_id, *args) is False  # deduplicated
    large = msgspec.json.encode({"ocid": "ocds-x", "id": "1", "description": "a" * 800_000})
    # An editor account has no object store: a payload it could not carry inline is refused.
    with pytest.raises(ValueError, match="over 700 KiB"):
        await publish_notice(bus, "ocds-x/1", "ocds_release", large, "u", "run-1")
    checked = await check_messages(nc, SUBJECT, count=5, stream=True)
    assert [c.violations for c in checked] == [[]]


async def test_live_subscription_checks_what_is_published_meanwhile(
    nc: NatsClient, bus: JetStreamContext
) -> None:
    task = asyncio.create_task(check_messages(nc, SUBJECT, count=2, wait_seconds=3.0, now=NOW))
    await asyncio.sleep(0.1)  # lets the check subscribe before anything is published
    await publish_raw(bus, _raw())
    data, sent = _message("live", _set(source="france_other"))
    await bus.publish(SUBJECT, data, headers=sent)
    checked = await task
    assert [c.message.sequence for c in checked] == [None, None]
    assert [[v.code for v in c.violations] for c in checked] == [[], ["source-mismatch"]]


async def test_each_bad_message_has_its_violations_named(
    nc: NatsClient, bus: JetStreamContext
) -> None:
    cases = BAD_MESSAGES + BAD_HEADERS
    for _, (data, sent), _ in cases:
        await bus.publish(SUBJECT, data, headers=sent)
    checked = await check_messages(nc, SUBJECT, count=len(cases), stream=True, now=NOW)
    found = {
        name: sorted(v.code for v in c.violations)
        for (name, _, _), c in zip(cases, checked, strict=True)
    }
    assert found == {name: sorted(codes) for name, _, codes in cases}
    by_name = dict(zip([name for name, _, _ in cases], checked, strict=True))
    assert "Expected `str`, got `int` - at `$.run_id`" in str(by_name["wrong type"].violations[0])
    assert str(by_name["typo field"].violations[0]) == "unknown-field: $.sourceId"


async def test_stream_mode_reads_the_last_messages_of_the_subject_only(
    nc: NatsClient, bus: JetStreamContext
) -> None:
    for n in range(6):
        await publish_raw(bus, _raw(f"ocds-x/{n}"))
        data, sent = _message(f"other-{n}")
        await bus.publish("scope.raw.france_other", data, headers=sent)
    checked = await check_messages(nc, SUBJECT, count=2, stream=True, now=NOW)
    assert [c.message.sequence for c in checked] == [9, 11]
    assert {c.message.subject for c in checked} == {SUBJECT}


async def test_command_prints_one_line_per_message_and_exits_1_on_a_violation(
    nats_url: str,
    nc: NatsClient,
    bus: JetStreamContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SCOPE_NATS_URL", nats_url)
    await publish_raw(bus, _raw())
    assert await run_check(SUBJECT, 5, 1.0, stream=True) == 0
    data, sent = _without(headers.MSG_ID, _message("cli"))
    await bus.publish(SUBJECT, data, headers=sent)
    assert await run_check(SUBJECT, 5, 1.0, stream=True) == 1
    # Unconfigured structlog writes the client's log events to stdout too: keep the verdicts.
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("seq ")]
    assert [line.split(" ", 3)[-1][:30] for line in lines] == [
        "OK",
        "OK",
        "FAIL msg-id-missing: expected ",
    ]
    assert lines[-1].startswith("seq 2 - FAIL msg-id-missing: expected france_editor:")
    assert await run_check("scope.raw.france_nobody", 5, 0.2, stream=False) == 1
    assert "no message on scope.raw.france_nobody within 0.2 s" in capsys.readouterr().err


def test_command_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="scope")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["check-harvester", "--subject", "scope.raw.France-Editor"])
    assert args.func(args) == 2
    assert "--subject must be scope.raw.<source>" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["check-harvester", "--subject", SUBJECT, "--count", "0"])
    assert exit_info.value.code == 2


async def test_command_without_a_server_exits_2_instead_of_waiting_forever(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong address or password: the editor's first try must say so, not look like a
    hang (the connection used to retry forever, as a service's does)."""
    monkeypatch.setenv("SCOPE_NATS_URL", f"nats://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SCOPE_NATS_CONNECT_TIMEOUT", "0.5")
    async with asyncio.timeout(20):
        assert await run_check(SUBJECT, 5, 1.0, stream=False) == 2
    assert "cannot connect to NATS" in capsys.readouterr().err
