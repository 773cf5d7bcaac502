"""Operators' commands on a real nats-server: dead letters list/show/retry, and replay."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from nats.js import JetStreamContext

from scope_normalizer.service import run_normalizer
from scope_normalizer.settings import NormalizerSettings
from scope_shared.bus import (
    DEAD_STREAM,
    NOTICES_STREAM,
    RAW_STREAM,
    ensure_topology,
    publish_dead_letter,
    publish_raw,
)
from scope_shared.documents.boamp import split_records
from scope_shared.errors import PermanentError
from scope_shared.schema import RawNotice, make_raw_notice
from tests.support.bus import stream_messages
from tests.support.ports import free_port

SCOPE = Path(sys.executable).parent / "scope"
BOAMP = (
    Path(__file__).parents[1]
    / "fixtures/france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
)


def _raws() -> list[RawNotice]:
    return [
        make_raw_notice(
            source="france_boamp",
            source_id=item.source_id,
            format=item.format,
            payload=item.payload,
            url="http://replay/records",
            content_type="application/json",
            run_id="test",
        )
        for item in split_records(BOAMP.read_bytes())
    ]


def _scope(nats_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | {"SCOPE_NATS_URL": nats_url}
    return subprocess.run(
        [str(SCOPE), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def _normalize_until(js: JetStreamContext, nats_url: str, notices: int) -> None:
    settings = NormalizerSettings(nats_url=[nats_url], normalizer_metrics_port=0)
    stop = asyncio.Event()
    task = asyncio.create_task(run_normalizer(settings, stop))
    async with asyncio.timeout(30):
        while await stream_messages(js, NOTICES_STREAM) < notices:  # noqa: ASYNC110 - polls
            await asyncio.sleep(0.05)
    stop.set()
    await task


async def test_dead_letters_list_show_and_retry(js: JetStreamContext, nats_url: str) -> None:
    await ensure_topology(js, NormalizerSettings())
    raw = _raws()[0]
    data = msgspec.json.encode(raw)
    await publish_dead_letter(
        js, stage="normalize", source="france_boamp", data=data, original_headers={},
        error=PermanentError("mapper crashed on this one", field_path="$.donnees"),
        original_subject="scope.raw.france_boamp", original_sequence=7, deliveries=1,
    )  # fmt: skip

    listing = _scope(nats_url, "dead-letters", "list", "--stage", "normalize")
    assert listing.returncode == 0, listing.stderr
    (row,) = listing.stdout.splitlines()[1:]
    assert row.split()[:5] == ["1", "normalize", "france_boamp", "PermanentError", "$.donnees"]

    shown = _scope(nats_url, "dead-letters", "show", "1")
    assert "Scope-Dead-Error: mapper crashed on this one" in shown.stdout
    assert raw.source_id in shown.stdout

    retried = _scope(nats_url, "dead-letters", "retry", "1")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "retried 1 -> scope.raw.france_boamp"
    assert await stream_messages(js, DEAD_STREAM) == 0
    assert (await js.get_msg(RAW_STREAM, 1)).data == data
    await _normalize_until(js, nats_url, 1)
    assert _scope(nats_url, "dead-letters", "show", "1").returncode == 1

    # A harvest dead letter is a piece of a source document, no bus message: not sent back.
    await publish_dead_letter(
        js, stage="harvest", source="france_boamp", data=b'{"objet": "x"}', original_headers={},
        error=PermanentError("the record has no idweb", field_path="$.results[0].idweb"),
        original_subject="scope.raw.france_boamp", msg_id="harvest:france_boamp:x",
    )  # fmt: skip
    every = _scope(nats_url, "dead-letters", "retry", "--all")
    assert every.returncode == 0, every.stderr
    assert "1 harvest dead letters left as they are" in every.stderr
    refused = _scope(nats_url, "dead-letters", "retry", "2")
    assert refused.returncode == 1
    assert "harvest that day again" in refused.stderr
    assert await stream_messages(js, DEAD_STREAM) == 1


async def test_replay_renormalizes_the_archive_without_new_versions(
    js: JetStreamContext, nats_url: str
) -> None:
    await ensure_topology(js, NormalizerSettings())
    for raw in _raws():
        await publish_raw(js, raw)
    await _normalize_until(js, nats_url, 5)

    replayed = _scope(nats_url, "replay", "--source", "france_boamp", "--since", "2020-01-01")
    assert replayed.returncode == 0, replayed.stderr
    # Same raw content, same mapping: each version's message is dropped by its Msg-Id.
    assert replayed.stdout.strip().splitlines()[-1] == (
        "read 5, published 0, already published 5, failed 0"
    )
    assert await stream_messages(js, NOTICES_STREAM) == 5

    # A message the normalizer could not decode (dead-lettered when first consumed) is counted
    # as failed, and the replay goes on with the rest of the archive.
    await js.publish("scope.raw.france_boamp", b'{"schema_version": "not a raw notice"}')
    replayed = _scope(nats_url, "replay", "--source", "france_boamp")
    assert replayed.returncode == 1, replayed.stderr  # some did not map: exit code 1
    assert replayed.stdout.strip().splitlines()[-1] == (
        "read 6, published 0, already published 5, failed 1"
    )
    assert '"error_type":"ValidationError"' in replayed.stderr
    assert await stream_messages(js, NOTICES_STREAM) == 5

    nothing = _scope(nats_url, "replay", "--source", "europe_ted")
    assert nothing.stdout.strip().splitlines()[-1] == (
        "read 0, published 0, already published 0, failed 0"
    )


async def test_operator_commands_leave_the_streams_as_the_services_declared_them(
    js: JetStreamContext, nats_url: str
) -> None:
    """Run from a shell without the deployment's SCOPE_STREAM_* settings, a command must not
    set the streams back to its own defaults."""
    deployed = NormalizerSettings(nats_url=[nats_url], raw_max_age_days=90)
    await ensure_topology(js, deployed)
    before = {name: (await js.stream_info(name)).config for name in (RAW_STREAM, DEAD_STREAM)}
    assert _scope(nats_url, "dead-letters", "list").returncode == 0
    assert _scope(nats_url, "replay", "--source", "france_boamp").returncode == 0
    after = {name: (await js.stream_info(name)).config for name in (RAW_STREAM, DEAD_STREAM)}
    assert after == before
    assert after[RAW_STREAM].max_age == 90 * 86400


@pytest.mark.parametrize(
    "command", [("dead-letters", "list"), ("replay", "--source", "france_boamp"), ("sources",)]
)
def test_a_command_without_nats_says_so_and_exits_2(command: tuple[str, ...]) -> None:
    """Not a traceback, not a wait without end, not the code of a command's own failures."""
    done = _scope(f"nats://127.0.0.1:{free_port()}", *command)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "scope: lost or refused by NATS: NoServersError" in done.stderr
    assert "Traceback" not in done.stderr
