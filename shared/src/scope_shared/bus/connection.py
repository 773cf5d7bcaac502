"""Connecting to NATS with the configured servers, credentials and TLS, and declaring topology."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType
from nats.js.errors import NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from scope_shared.bus.topology import (
    HARVESTER_STATE_BUCKET,
    KV_BUCKETS,
    RAW_PAYLOADS_BUCKET,
    stream_configs,
)
from scope_shared.config import CommonSettings
from scope_shared.logging import get_logger

log = get_logger(component="bus")

KV_HISTORY = 5
"""A few past values (a cursor's moves) help an operator see what happened; KV allows 64."""


async def connect(settings: CommonSettings, name: str, *, persistent: bool = True) -> NatsClient:
    """Connect with the settings' servers and credentials.

    Args:
        settings: Servers, credentials and TLS.
        name: Client name shown by the server's monitoring (`scope-normalizer`).
        persistent: A service's connection: tries until it connects, and reconnects forever.
            An operator's or editor's command passes False: a server that does not answer is
            tried twice, then `NoServersError`; a refusal (a wrong password) is raised at once;
            a lost connection ends the command (`scope` says so, exit 2).
    """
    client = NatsClient()

    async def on_disconnected() -> None:
        # A deliberate close or drain also reports a disconnection: only a lost one is news.
        if not (client.is_closed or client.is_draining):
            log.warning("nats_disconnected")

    options: dict[str, object] = {
        "servers": settings.nats_url,
        "name": name,
        "connect_timeout": settings.nats_connect_timeout,
        "max_reconnect_attempts": -1 if persistent else 1,
        "reconnect_time_wait": 2.0 if persistent else 0.5,
        "allow_reconnect": persistent,
        "error_cb": _on_error,
        "disconnected_cb": on_disconnected,
        "reconnected_cb": _on_reconnected,
    }
    if settings.nats_creds:
        options["user_credentials"] = settings.nats_creds
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password
    if settings.nats_tls_ca:
        options["tls"] = ssl.create_default_context(cafile=settings.nats_tls_ca)
    await client.connect(**options)  # type: ignore[arg-type]
    return client


async def _on_error(exc: Exception) -> None:
    log.warning("nats_error_received", error_type=type(exc).__name__, error=str(exc))


async def _on_reconnected() -> None:
    log.info("nats_reconnected")


async def ensure_streams(js: JetStreamContext, settings: CommonSettings) -> None:
    """Create the streams, or update them to the declared configuration. Idempotent."""
    for config in stream_configs(settings):
        assert config.name is not None
        try:
            await js.stream_info(config.name)
        except NotFoundError:
            await js.add_stream(config)
            log.info("stream_created", stream=config.name)
        else:
            await js.update_stream(config)


async def kv_bucket(js: JetStreamContext, name: str, replicas: int = 1) -> KeyValue:
    """One of the KV buckets declared in `KV_BUCKETS`, created on first use.

    A bucket on one server is created for direct gets (`allow_direct`, as `nats kv add`
    does): a value comes back as the message itself rather than base64 inside a JSON answer,
    which made the normaliser, eight key-value round trips a notice, 15 % faster. A
    replicated bucket keeps reads through its leader: a direct get may be answered by a
    follower a moment behind, and linking and versioning read to decide. A bucket created
    before is left as it is (changing it takes a permission the services do not have; an
    operator may: `nats stream edit KV_<bucket> --allow-direct`).
    """
    try:
        return await js.key_value(name)
    except nats.js.errors.BucketNotFoundError:
        return await js.create_key_value(
            KeyValueConfig(
                bucket=name,
                history=KV_HISTORY,
                storage=StorageType.FILE,
                description=KV_BUCKETS[name],
                replicas=replicas,
                direct=replicas <= 1,
            )
        )


async def harvester_state_bucket(js: JetStreamContext) -> KeyValue:
    """The KV bucket of harvester cursors and run states."""
    return await kv_bucket(js, HARVESTER_STATE_BUCKET)


async def raw_payloads_store(js: JetStreamContext, replicas: int = 1) -> ObjectStore:
    """The object store for payloads over the message limit, created on first use."""
    try:
        return await js.object_store(RAW_PAYLOADS_BUCKET)
    except nats.js.errors.BucketNotFoundError:
        return await js.create_object_store(
            RAW_PAYLOADS_BUCKET,
            config=ObjectStoreConfig(
                description="Raw payloads too large for one message, named <source>/<sha256>.",
                storage=StorageType.FILE,
                replicas=replicas,
            ),
        )


async def ensure_topology(js: JetStreamContext, settings: CommonSettings) -> None:
    """Everything a fresh server needs before any service runs."""
    await ensure_streams(js, settings)
    for name in KV_BUCKETS:
        await kv_bucket(js, name, settings.stream_replicas)
    await raw_payloads_store(js, settings.stream_replicas)


@asynccontextmanager
async def open_jetstream(
    settings: CommonSettings, name: str, *, declare: bool = True, persistent: bool = True
) -> AsyncIterator[JetStreamContext]:
    """Connect, declare the topology and yield JetStream; drain the connection on the way out.

    Draining (not closing) lets what the client still has in flight settle first: acks and
    naks of messages in hand, publishes awaiting their PubAck.

    Args:
        settings: Servers, credentials, TLS and the topology's limits.
        name: Client name shown by the server's monitoring (`scope-normalizer`).
        declare: Create or update the streams and buckets to `settings`. The services do; an
            operator's command must not (`declare=False`): run from a shell without the
            deployment's `SCOPE_STREAM_*` settings, it would set the streams back to the
            defaults (one replica, default retention).
        persistent: See `connect`; commands pass False.
    """
    nc = await connect(settings, name, persistent=persistent)
    try:
        js = nc.jetstream()
        if declare:
            await ensure_topology(js, settings)
        yield js
    finally:
        await nc.drain()
