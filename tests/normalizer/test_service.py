"""The normalizer service on a real nats-server: raw stream in, notices out, dead letters kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import nats
import pytest
from nats.js import JetStreamContext

from scope_normalizer.detect import split_file
from scope_normalizer.service import run_normalizer
from scope_normalizer.settings import NormalizerSettings
from scope_normalizer.versions import VersionLedger
from scope_shared.bus import (
    DEAD_STREAM,
    NOTICE_VERSIONS_BUCKET,
    NOTICES_STREAM,
    NatsKeyValue,
    decode_notice,
    encode,
    ensure_topology,
    headers,
    kv_bucket,
    publish_raw,
)
from scope_shared.errors import RetryableError
from scope_shared.schema import RawNotice, make_raw_notice
from tests.support.bus import stream_messages
from tests.support.ports import free_port
from tests.support.processes import service_process, stop_with_sigterm

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLES = {
    "france_boamp": [
        FIXTURES / "france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json",
        *sorted((FIXTURES / "france_boamp/dila-xml").glob("*.xml")),
    ],
    "europe_ted": sorted((FIXTURES / "europe_ted/r2.0.9").glob("*.xml")),
    "france_decp": [FIXTURES / "france_decp/real-2019/marches-publics.info_extract.json"],
}
MANY = {"france_decp": [FIXTURES / "france_decp/real-2019/e-marchespublics.json"]}


def _raw_notices(samples: dict[str, list[Path]] = SAMPLES) -> list[RawNotice]:
    raws = []
    for source, paths in samples.items():
        for path in paths:
            for item in split_file(path.read_bytes(), path.as_uri()):
                raws.append(
                    make_raw_notice(
                        source=source,
                        source_id=item.source_id,
                        format=item.format,
                        payload=item.payload,
                        url=path.as_uri(),
                        content_type="application/octet-stream",
                        run_id="test",
                        attributes=item.attributes,
                    )
                )
    return raws


async def _wait_for(js: JetStreamContext, stream: str, count: int, limit: float = 60) -> None:
    async with asyncio.timeout(limit):
        while await stream_messages(js, stream) < count:  # noqa: ASYNC110 - polls the stream
            await asyncio.sleep(0.005)


async def _notice_keys(js: JetStreamContext) -> list[tuple[str, int]]:
    info = await js.stream_info(NOTICES_STREAM)
    keys = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        notice = decode_notice((await js.get_msg(NOTICES_STREAM, seq)).data)
        keys.append((notice.id, notice.version))
    return keys


async def test_raw_notices_become_canonical_and_bad_ones_dead_letters(
    js: JetStreamContext, nats_url: str
) -> None:
    settings = NormalizerSettings(nats_url=[nats_url], normalizer_metrics_port=0)
    await ensure_topology(js, settings)
    raws = _raw_notices()
    for raw in raws:
        await publish_raw(js, raw)
    await js.publish("scope.raw.france_boamp", b"not a raw notice")
    stop = asyncio.Event()
    task = asyncio.create_task(run_normalizer(settings, stop))
    await _wait_for(js, NOTICES_STREAM, len(raws))
    await _wait_for(js, DEAD_STREAM, 1)
    stop.set()
    await asyncio.wait_for(task, 15)
    keys = await _notice_keys(js)
    assert sorted(keys) == sorted({(f"{r.source}:{r.source_id}", 1) for r in raws})
    dead = await js.get_msg(DEAD_STREAM, 1)
    assert dead.data == b"not a raw notice"
    assert dead.headers is not None and dead.headers[headers.DEAD_STAGE] == "normalize"
    notices = [
        decode_notice((await js.get_msg(NOTICES_STREAM, seq)).data)
        for seq in range(1, len(keys) + 1)
    ]
    award = next(n for n in notices if n.id == "france_boamp:16-138580")
    assert award.procedure_id == "france_boamp:16-119846"


async def test_normalizer_killed_mid_stream_loses_nothing_and_duplicates_nothing(
    js: JetStreamContext, nats_url: str
) -> None:
    settings = NormalizerSettings(
        nats_url=[nats_url], normalizer_metrics_port=0, normalizer_ack_wait=1.0,
        normalizer_batch_size=8, normalizer_concurrency=2,
    )  # fmt: skip
    await ensure_topology(js, settings)
    raws = _raw_notices(MANY)
    for raw in raws:
        await publish_raw(js, raw)
    stored = await stream_messages(js, "SCOPE_RAW")
    first = asyncio.create_task(run_normalizer(settings, asyncio.Event()))
    await _wait_for(js, NOTICES_STREAM, 10)
    first.cancel()  # a crash: no drain, in-flight messages unacknowledged
    await asyncio.gather(first, return_exceptions=True)
    assert await stream_messages(js, NOTICES_STREAM) < stored

    stop = asyncio.Event()
    second = asyncio.create_task(run_normalizer(settings, stop))
    await _wait_for(js, NOTICES_STREAM, stored)
    await asyncio.sleep(2.5)  # past the ack wait: any redelivery would have produced a copy
    stop.set()
    await asyncio.wait_for(second, 15)
    keys = await _notice_keys(js)
    # The real file repeats a few contracts: each distinct content is one raw notice.
    assert stored == len({r.msg_id for r in raws})
    assert len(keys) == len(set(keys)) == stored
    nc = await nats.connect(nats_url)
    info = await nc.jetstream().consumer_info("SCOPE_RAW", "normalizer")
    assert info.num_pending == 0 and info.num_ack_pending == 0
    await nc.close()


async def test_raw_notice_speaking_for_another_source_is_dead_lettered(
    js: JetStreamContext, nats_url: str
) -> None:
    """An editor's credentials allow `scope.raw.<its source>` only; a body naming BOAMP, or a
    Msg-Id that is not its own, must not reach BOAMP's notices."""
    settings = NormalizerSettings(nats_url=[nats_url], normalizer_metrics_port=0)
    await ensure_topology(js, settings)
    genuine, other = _raw_notices({"france_boamp": SAMPLES["france_boamp"][:1]})[:2]
    spoofed = encode(genuine)
    await js.publish("scope.raw.france_editor", spoofed)
    forged_id = msgspec.structs.replace(other, source="france_editor")
    await js.publish(
        "scope.raw.france_editor", encode(forged_id), headers={headers.MSG_ID: genuine.msg_id}
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run_normalizer(settings, stop))
    await _wait_for(js, DEAD_STREAM, 2)
    stop.set()
    await asyncio.wait_for(task, 15)
    assert await stream_messages(js, NOTICES_STREAM) == 0
    reasons = []
    for seq in (1, 2):
        dead = await js.get_msg(DEAD_STREAM, seq)
        assert dead.headers is not None
        reasons.append((dead.headers[headers.DEAD_FIELD], dead.headers[headers.DEAD_ERROR]))
    assert reasons == [
        ("$.source", "source 'france_boamp' published on scope.raw.france_editor"),
        (headers.MSG_ID, f"Msg-Id {genuine.msg_id!r} is not {forged_id.msg_id!r}"),
    ]


async def test_versions_given_at_once_on_the_real_bucket_are_distinct(
    js: JetStreamContext, nats_url: str
) -> None:
    """Eight contents of one notice versioned at once (replicas, a batch): no two get one
    version; one that loses the compare-and-set too often is retryable (redelivered), and
    gets the next version then. The same content asked again keeps its version."""
    await ensure_topology(js, NormalizerSettings(nats_url=[nats_url]))
    ledger = VersionLedger(NatsKeyValue(await kv_bucket(js, NOTICE_VERSIONS_BUCKET)))
    digests = [f"{i:x}" * 64 for i in range(8)]
    first = await asyncio.gather(
        *(ledger.version_for("x:1", d) for d in digests), return_exceptions=True
    )
    assert all(isinstance(r, tuple | RetryableError) for r in first)
    given = {d: r for d, r in zip(digests, first, strict=True) if isinstance(r, tuple)}
    for digest in digests:
        if digest not in given:
            given[digest] = await ledger.version_for("x:1", digest)
    assert sorted(version for version, _ in given.values()) == list(range(1, 9))
    assert all(new for _, new in given.values())
    for digest, (version, _) in given.items():
        assert await ledger.version_for("x:1", digest) == (version, False)


@pytest.mark.slow
async def test_the_normalizer_process_drains_on_sigterm(
    js: JetStreamContext, nats_url: str, tmp_path: Path
) -> None:
    """`scope run normalizer` stopped by SIGTERM mid-stream: it exits 0 and leaves no message
    in hand (every batch it held was settled), so nothing waits for `ack_wait` to come back."""
    settings = NormalizerSettings(nats_url=[nats_url])
    await ensure_topology(js, settings)
    # Enough that the stop comes mid-stream: the real contracts, four times under new ids.
    raws = [
        msgspec.structs.replace(raw, source_id=f"{raw.source_id}-{copy}")
        for copy in range(4)
        for raw in _raw_notices(MANY)
    ]
    for raw in raws:
        await publish_raw(js, raw)
    scope_settings = {
        "SCOPE_NATS_URL": nats_url, "SCOPE_DATA_DIR": str(tmp_path),
        "SCOPE_NORMALIZER_METRICS_PORT": str(free_port()), "SCOPE_NORMALIZER_ACK_WAIT": "120",
    }  # fmt: skip
    async with service_process("normalizer", scope_settings) as process:
        await _wait_for(js, NOTICES_STREAM, 20)
        returncode, events, stderr = await stop_with_sigterm(process, seconds=60)
    assert returncode == 0, stderr[-2000:]
    assert "consumer_stopped" in events
    info = await js.consumer_info("SCOPE_RAW", "normalizer")
    assert info.num_ack_pending == 0
    assert info.num_pending > 0, "stopped after the end: the test no longer tests a drain"
    # What was acked was published: the notices stream holds at least the acked messages.
    assert await stream_messages(js, NOTICES_STREAM) >= info.ack_floor.stream_seq
