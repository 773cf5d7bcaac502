"""NATS security as shipped in deploy/nats/, on real nats-server processes.

Editors are isolated accounts that may only publish their own raw subject (and get the
JetStream ack); Scope's services run as their own users with exact permission lists, checked
by running the services' real bus operations and reading the server's log for violations;
an editor's leaf node relays its notices into the hub's raw stream over TLS.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import nats
import pytest
from aiohttp.test_utils import TestServer
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from scope_harvester.conformance import check_messages
from scope_harvester.service import run_harvester
from scope_harvester.settings import HarvesterSettings
from scope_harvester.state import StateStore
from scope_normalizer.service import run_normalizer
from scope_normalizer.settings import NormalizerSettings
from scope_shared.bus import (
    DEAD_STREAM,
    HARVESTER_STATE_BUCKET,
    INDEXER_CONSUMER,
    NOTICES_STREAM,
    RAW_STREAM,
    ConsumerRunner,
    NatsKeyValue,
    Stage,
    connect,
    ensure_topology,
    harvester_state_bucket,
    publish_dead_letter,
    publish_raw,
)
from scope_shared.bus.topology import MAX_MESSAGE_BYTES
from scope_shared.config import CommonSettings
from scope_shared.devservices.replay.boamp import BoampReplay, load_recorded_records
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat, RawNotice, make_raw_notice
from tests.deploy import nats_servers
from tests.deploy.nats_servers import NATS_DIR, NatsProcess
from tests.support.bus import reset_bus, stream_messages
from tests.support.recent import boamp_records_of_yesterday

pytestmark = [pytest.mark.nats, pytest.mark.integration]

EDITOR_A = "france_exemple_a"
EDITOR_B = "france_exemple_b"
FIXTURES = Path(__file__).parents[1] / "fixtures"
BOAMP_RECORDS = (
    FIXTURES / "france_boamp/ods/records_v2.1_where-dateparution-ge-2026-01-01_limit5.json"
)
REFUSED_TIMEOUT = 0.5
"""A refused publish gets no reply: waiting half a second for one is enough on loopback."""


def _raw(source: str, source_id: str = "1", payload: bytes = b'{"id": "1"}') -> RawNotice:
    return make_raw_notice(
        source=source, source_id=source_id, format=RawFormat.OCDS_RELEASE, payload=payload,
        url="https://example.org/notices/1", content_type="application/json", run_id="test",
    )  # fmt: skip


class Client:
    """A connection as one configured user, keeping the asynchronous errors it received."""

    def __init__(self, nc: NatsClient, errors: list[str]) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.errors = errors


async def _client(server: NatsProcess, user: str, password_variable: str) -> Client:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(
        server.url(), user=user, password=server.env[password_variable],
        error_cb=on_error, connect_timeout=5, max_reconnect_attempts=0,
    )  # fmt: skip
    return Client(nc, errors)


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsProcess]:
    server = nats_servers.hub(tmp_path_factory.mktemp("hub")).start()
    yield server
    server.stop()


@pytest.fixture
async def ops(hub_server: NatsProcess) -> AsyncIterator[Client]:
    """The operators' user, with an empty bus and the topology declared."""
    client = await _client(hub_server, "ops", "NATS_OPS_PASSWORD")
    await reset_bus(client.js)
    await ensure_topology(client.js, CommonSettings())
    yield client
    await client.nc.close()


@pytest.fixture
async def editor_a(hub_server: NatsProcess) -> AsyncIterator[Client]:
    client = await _client(hub_server, EDITOR_A, "NATS_EDITOR_FRANCE_EXEMPLE_A_PASSWORD")
    yield client
    await client.nc.close()


async def _eventually(errors: list[str], count: int) -> list[str]:
    """Permission errors arrive asynchronously, just after the refused operation."""
    async with asyncio.timeout(5):
        while len(errors) < count:  # noqa: ASYNC110 - polls a list filled by a callback
            await asyncio.sleep(0.01)
    return errors


def test_shipped_configs_are_valid_and_a_missing_secret_is_named(tmp_path: Path) -> None:
    env = nats_servers.hub_secrets()
    ok = nats_servers.check_config(NATS_DIR / "hub.conf", env)
    assert ok.returncode == 0, ok.stderr
    assert "is valid" in ok.stderr + ok.stdout
    del env["NATS_INDEXER_PASSWORD"]
    missing = nats_servers.check_config(NATS_DIR / "hub.conf", env)
    assert missing.returncode == 1
    assert "variable reference for 'NATS_INDEXER_PASSWORD'" in missing.stderr


def test_hub_limits_match_the_bus_topology(hub_server: NatsProcess) -> None:
    varz = hub_server.monitor("varz")
    assert varz["max_payload"] == MAX_MESSAGE_BYTES
    jetstream = varz["jetstream"]
    assert isinstance(jetstream, dict)
    assert jetstream["config"]["domain"] == "scope"


async def test_editor_publishes_its_own_raw_notice_with_a_jetstream_ack(
    ops: Client, editor_a: Client
) -> None:
    ack = await publish_raw(editor_a.js, _raw(EDITOR_A))
    assert (ack.stream, ack.seq, ack.domain, ack.duplicate) == (RAW_STREAM, 1, "scope", None)
    again = await publish_raw(editor_a.js, _raw(EDITOR_A))
    assert again.duplicate is True
    assert await stream_messages(ops.js, RAW_STREAM) == 1
    stored = await ops.js.get_msg(RAW_STREAM, 1)
    assert stored.subject == f"scope.raw.{EDITOR_A}"
    assert editor_a.errors == []


async def test_editor_publishing_as_another_editor_is_refused(
    ops: Client, editor_a: Client, hub_server: NatsProcess
) -> None:
    # publish_raw waits ten seconds for an ack that will never come: stop waiting earlier.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(publish_raw(editor_a.js, _raw(EDITOR_B)), REFUSED_TIMEOUT)
    with pytest.raises(NatsError):
        await editor_a.js.publish("scope.raw.france_boamp", b"{}", timeout=REFUSED_TIMEOUT)
    errors = await _eventually(editor_a.errors, 2)
    assert errors == [
        f'nats: permissions violation for publish to "scope.raw.{EDITOR_B}"',
        'nats: permissions violation for publish to "scope.raw.france_boamp"',
    ]
    assert await stream_messages(ops.js, RAW_STREAM) == 0
    assert hub_server.violations(EDITOR_A)[-2:] == [
        f'"EDITOR_FRANCE_EXEMPLE_A/user:{EDITOR_A}" - Publish Violation - Subject '
        f'"scope.raw.{EDITOR_B}"',
        f'"EDITOR_FRANCE_EXEMPLE_A/user:{EDITOR_A}" - Publish Violation - Subject '
        '"scope.raw.france_boamp"',
    ]


async def test_editor_cannot_read_the_raw_stream_nor_scope_state(
    ops: Client, editor_a: Client
) -> None:
    await publish_raw(ops.js, _raw("france_boamp"))
    received: list[str] = []

    async def keep(msg: nats.aio.msg.Msg) -> None:
        received.append(msg.subject)

    await editor_a.nc.subscribe("scope.raw.>", cb=keep)
    await editor_a.nc.flush()
    await publish_raw(ops.js, _raw("france_boamp", "2"))
    js = editor_a.nc.jetstream(timeout=REFUSED_TIMEOUT)
    with pytest.raises(NatsError):
        await js.pull_subscribe(
            "scope.raw.>", durable="spy", stream=RAW_STREAM, config=INDEXER_CONSUMER.config()
        )
    with pytest.raises(NatsError):
        await js.key_value(HARVESTER_STATE_BUCKET)
    errors = await _eventually(editor_a.errors, 3)
    # nats-py lower-cases the server's error text.
    assert errors == [
        'nats: permissions violation for subscription to "scope.raw.>"',
        'nats: permissions violation for publish to "$js.api.consumer.info.scope_raw.spy"',
        'nats: permissions violation for publish to "$js.api.stream.info.kv_scope_harvester_state"',
    ]
    assert received == []
    assert await stream_messages(ops.js, RAW_STREAM) == 2


async def test_core_services_do_their_jobs_within_their_permissions(
    ops: Client, hub_server: NatsProcess, tmp_path: Path
) -> None:
    settings = {"nats_url": [hub_server.url()], "log_format": "json"}

    def credentials(user: str, variable: str) -> dict[str, str]:
        return {"nats_user": user, "nats_password": hub_server.env[variable]}

    # Harvester: the real service, on a local replay of BOAMP's API (five recorded notices).
    records = boamp_records_of_yesterday(load_recorded_records(BOAMP_RECORDS))
    replay = TestServer(BoampReplay(records).app(), host="127.0.0.1")
    await replay.start_server()
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[sources.france_boamp]\nbase_url = "{str(replay.make_url("")).rstrip("/")}"\n'
        f"interval = 3600\nrate = 1000.0\noptions = {{ first_run_days = 1 }}\n"
    )
    harvester_settings = HarvesterSettings(
        **settings, **credentials("harvester", "NATS_HARVESTER_PASSWORD"),
        harvester_sources_file=str(sources), harvester_metrics_port=0,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(run_harvester(harvester_settings, stop))
    states = await StateStore.on_bus(ops.js)
    async with asyncio.timeout(30):
        while (await states.load("france_boamp")).status != "ok":  # noqa: ASYNC110 - polls KV
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 15)
    await replay.close()

    # The harvester's user also offloads a large payload and may publish any raw subject.
    harvester = await connect(harvester_settings, "test-harvester")
    large = _raw("france_boamp", "large", b'{"padding": "' + b"x" * 3_000_000 + b'"}')
    await publish_raw(harvester.jetstream(), large)
    # Again: the object is not stored again, the message is a duplicate.
    assert (await publish_raw(harvester.jetstream(), large)).duplicate is True
    await harvester.jetstream().publish("scope.raw.france_boamp", b"not a raw notice")
    # A record that names no notice is kept as a dead letter of the harvest stage.
    await publish_dead_letter(
        harvester.jetstream(), stage=Stage.HARVEST, source="france_boamp", data=b'{"objet":"x"}',
        original_headers={}, error=PermanentError("the record has no idweb"),
        original_subject="scope.raw.france_boamp", msg_id="harvest:france_boamp:test",
    )  # fmt: skip
    await harvester.close()
    assert await stream_messages(ops.js, RAW_STREAM) == 7

    # Normalizer: the real service maps the five notices, reads the large payload from the
    # object store and dead-letters it (not BOAMP), and dead-letters the malformed message.
    normalizer_settings = NormalizerSettings(
        **settings, **credentials("normalizer", "NATS_NORMALIZER_PASSWORD"),
        normalizer_metrics_port=0,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(run_normalizer(normalizer_settings, stop))
    async with asyncio.timeout(30):
        while (  # noqa: ASYNC110 - polls the streams
            await stream_messages(ops.js, NOTICES_STREAM) < 5
            or await stream_messages(ops.js, DEAD_STREAM) < 2
        ):
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 15)

    # Indexer: its consumer runner over the notices, one of which the store rejects.
    indexer_settings = CommonSettings(**settings, **credentials("indexer", "NATS_INDEXER_PASSWORD"))
    indexer = await connect(indexer_settings, "test-indexer")
    await ensure_topology(indexer.jetstream(), indexer_settings)
    seen: list[str] = []

    async def write(msgs: list[nats.aio.msg.Msg]) -> list[BaseException | None]:
        seen.extend(m.subject for m in msgs)
        return [PermanentError("mapping refused") if i == 0 and len(seen) == len(msgs) else None
                for i in range(len(msgs))]  # fmt: skip

    stop = asyncio.Event()
    runner = ConsumerRunner(
        indexer.jetstream(), INDEXER_CONSUMER, stage=Stage.INDEX, batch_handler=write,
        batch_size=500, fetch_timeout=0.2,
    )  # fmt: skip
    task = asyncio.create_task(runner.run(stop))
    async with asyncio.timeout(15):
        while runner.counts.acked + runner.counts.dead_lettered < 5:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 10)
    await indexer.close()

    # Search API: reads the harvesters' states, read-only.
    search_settings = CommonSettings(
        **settings, **credentials("search_api", "NATS_SEARCH_API_PASSWORD")
    )
    search = await connect(search_settings, "test-search-api")
    bucket = await harvester_state_bucket(search.jetstream())
    state = await NatsKeyValue(bucket).get("france_boamp")
    keys = await bucket.keys()
    impatient = search.jetstream(timeout=REFUSED_TIMEOUT)
    with pytest.raises(NatsError):
        await (await impatient.key_value(HARVESTER_STATE_BUCKET)).put("forged", b"{}")
    await search.close()

    assert (runner.counts.acked, runner.counts.dead_lettered) == (4, 1)
    assert await stream_messages(ops.js, NOTICES_STREAM) == 5
    dead = [(await ops.js.get_msg(DEAD_STREAM, seq)).subject for seq in (1, 2, 3, 4)]
    assert sorted(dead) == [
        "scope.dead.harvest.france_boamp",
        "scope.dead.index.france_boamp",
        "scope.dead.normalize.france_boamp",
        "scope.dead.normalize.france_boamp",
    ]
    assert state is not None
    assert msgspec.json.decode(state[0])["status"] == "ok"
    assert len(keys) == 3  # the state, the live cursor and the HTTP validators
    assert hub_server.violations("search_api") == [
        '"SCOPE/user:search_api" - Publish Violation - Subject "$KV.scope_harvester_state.forged"'
    ]
    for user in ("harvester", "normalizer", "indexer"):
        assert hub_server.violations(user) == [], user


async def test_editor_checks_its_live_messages_with_its_own_credentials(
    ops: Client, editor_a: Client, hub_server: NatsProcess
) -> None:
    checker = await _client(hub_server, EDITOR_A, "NATS_EDITOR_FRANCE_EXEMPLE_A_PASSWORD")
    check = asyncio.create_task(
        check_messages(checker.nc, f"scope.raw.{EDITOR_A}", count=1, wait_seconds=10)
    )
    # `scope check-harvester` subscribes, then the editor's publisher runs: publish until the
    # check has seen one (a republished notice is a duplicate in the stream, not on the wire).
    async with asyncio.timeout(10):
        while not check.done():
            await publish_raw(editor_a.js, _raw(EDITOR_A))
            await asyncio.sleep(0.05)
    (checked,) = check.result()
    await checker.nc.close()
    assert checked.ok, checked.line(1)
    assert checker.errors == []
    assert await stream_messages(ops.js, RAW_STREAM) == 1


@pytest.mark.parametrize(
    ("user", "variable"),
    [
        ("harvester", "NATS_HARVESTER_PASSWORD"),
        ("normalizer", "NATS_NORMALIZER_PASSWORD"),
        ("indexer", "NATS_INDEXER_PASSWORD"),
    ],
)
async def test_each_worker_declares_the_topology_on_an_empty_server(
    ops: Client, hub_server: NatsProcess, user: str, variable: str
) -> None:
    await reset_bus(ops.js)
    settings = CommonSettings(
        nats_url=[hub_server.url()], nats_user=user, nats_password=hub_server.env[variable]
    )
    nc = await connect(settings, f"test-{user}")
    await ensure_topology(nc.jetstream(), settings)
    await ensure_topology(nc.jetstream(), settings)  # and again: info and update
    await nc.close()
    names = sorted([s.config.name for s in await ops.js.streams_info()])
    assert names == [
        "KV_scope_harvester_state", "KV_scope_notice_versions", "KV_scope_procedures",
        "OBJ_scope_raw_payloads", DEAD_STREAM, NOTICES_STREAM, RAW_STREAM,
    ]  # fmt: skip
    assert hub_server.violations(user) == []


async def test_search_api_cannot_declare_or_change_the_topology(
    ops: Client, hub_server: NatsProcess
) -> None:
    await reset_bus(ops.js)
    client = await _client(hub_server, "search_api", "NATS_SEARCH_API_PASSWORD")
    with pytest.raises(NatsError):
        await ensure_topology(client.nc.jetstream(timeout=REFUSED_TIMEOUT), CommonSettings())
    errors = await _eventually(client.errors, 1)
    await client.nc.close()
    assert errors == ['nats: permissions violation for publish to "$js.api.stream.info.scope_raw"']
    assert await ops.js.streams_info() == []


@pytest.fixture(scope="module")
def tls_federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A hub with TLS (hub-tls.conf) and an editor's leaf node (leaf-editor.conf) linked to it."""
    workdir = tmp_path_factory.mktemp("federation")
    certs = nats_servers.make_test_ca(workdir / "certs")
    tls_env = {
        "NATS_TLS_CERT_FILE": str(certs["cert"]),
        "NATS_TLS_KEY_FILE": str(certs["key"]),
        "NATS_TLS_CA_FILE": str(certs["ca"]),
    }
    hub_server = nats_servers.hub(workdir, tls=True, extra_env=tls_env).start()
    leaf_server = nats_servers.leaf(workdir, hub_server, ca_file=certs["ca"])
    try:
        leaf_server.start()
        _wait_for_leaf(hub_server)
        yield {"hub": hub_server, "leaf": leaf_server, "ca": certs["ca"]}
    finally:
        leaf_server.stop()
        hub_server.stop()


def _wait_for_leaf(hub_server: NatsProcess) -> None:
    """The leaf dials the hub at once, then retries every second: wait for the link."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if hub_server.monitor("leafz").get("leafnodes"):
            return
        time.sleep(0.05)
    raise AssertionError("the leaf node did not connect to the hub")


async def test_leaf_node_relays_the_editors_notices_into_the_hubs_raw_stream(
    tls_federation: dict[str, object],
) -> None:
    hub_server, leaf_server = tls_federation["hub"], tls_federation["leaf"]
    ca = tls_federation["ca"]
    assert isinstance(hub_server, NatsProcess) and isinstance(leaf_server, NatsProcess)
    assert isinstance(ca, Path)
    ops_settings = CommonSettings(
        nats_url=[hub_server.url("tls")], nats_user="ops",
        nats_password=hub_server.env["NATS_OPS_PASSWORD"], nats_tls_ca=str(ca),
    )  # fmt: skip
    ops = await connect(ops_settings, "test-ops")
    await reset_bus(ops.jetstream())
    await ensure_topology(ops.jetstream(), ops_settings)

    local = await _client(leaf_server, "harvester", "LOCAL_HARVESTER_PASSWORD")
    ack = await publish_raw(local.js, _raw(EDITOR_A))
    # The editor's own state lives in its leaf's JetStream domain, not in Scope's.
    cursors = await local.js.create_key_value(bucket="cursors")
    await cursors.put("live", b"2026-01-21")
    with pytest.raises(NatsError):
        await local.js.publish(f"scope.raw.{EDITOR_B}", b"{}", timeout=REFUSED_TIMEOUT)
    errors = await _eventually(local.errors, 1)

    assert (ack.stream, ack.seq, ack.domain) == (RAW_STREAM, 1, "scope")
    assert await stream_messages(ops.jetstream(), RAW_STREAM) == 1
    assert (await cursors.get("live")).value == b"2026-01-21"
    assert (await local.js.account_info()).domain == EDITOR_A
    assert errors == [f'nats: permissions violation for publish to "scope.raw.{EDITOR_B}"']
    assert "cursors" not in [s.config.name for s in await ops.jetstream().streams_info()]
    await local.nc.close()
    await ops.close()


async def test_scope_connects_to_the_tls_hub_only_with_its_ca(
    tls_federation: dict[str, object],
) -> None:
    hub_server = tls_federation["hub"]
    assert isinstance(hub_server, NatsProcess)
    settings = CommonSettings(
        nats_url=[hub_server.url("tls")], nats_user="ops",
        nats_password=hub_server.env["NATS_OPS_PASSWORD"], nats_connect_timeout=2,
    )  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):
        await nats.connect(
            hub_server.url("tls"), user="ops", password=hub_server.env["NATS_OPS_PASSWORD"],
            max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False,
        )  # fmt: skip
    ca = tls_federation["ca"]
    nc = await connect(msgspec.structs.replace(settings, nats_tls_ca=str(ca)), "test-tls")
    info = await nc.jetstream().account_info()
    assert info.domain == "scope"
    await nc.close()
