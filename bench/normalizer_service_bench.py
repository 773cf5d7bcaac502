"""Normalizer service benchmark: notices per second through `run_normalizer` on a real
nats-server, next to the bus work alone measured in the same run.

N raw notices are published on SCOPE_RAW first (untimed): the real DECP 2019 contracts of the
samples (the format with the most samples), repeated under distinct source ids. Then, each on
its own durable consumer of those N messages, with the service's batch size and concurrency:

- **bus floor**: the ConsumerRunner decodes each raw message, publishes a notice (one real
  mapped notice under the message's id, through `publish_notice`: encoding, digest, PubAck)
  and acks: what the service costs without mapping, procedure linking and versioning;
- **service**: `run_normalizer` as deployed: mapping, linking and the version ledger on the
  NATS key-value buckets, publishing, acking.

The nats-server runs here (scope_shared.devservices) on loopback, JetStream on disk.

    .venv/bin/python bench/normalizer_service_bench.py [--n 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from normalizer_bench import _samples  # noqa: E402

from scope_normalizer.pipeline import map_raw  # noqa: E402
from scope_normalizer.service import run_normalizer  # noqa: E402
from scope_normalizer.settings import NormalizerSettings  # noqa: E402
from scope_shared.bus import (  # noqa: E402
    NOTICES_STREAM,
    ConsumerRunner,
    decode_raw,
    ensure_topology,
    per_message,
    publish_notice,
    publish_raw,
)
from scope_shared.bus.topology import NORMALIZER_CONSUMER  # noqa: E402
from scope_shared.devservices.nats import NatsServer  # noqa: E402
from scope_shared.logging import configure_logging  # noqa: E402
from scope_shared.schema import Notice, RawFormat, RawNotice  # noqa: E402


def _raws(n: int) -> list[RawNotice]:
    samples = _samples()[RawFormat.DECP_2019_JSON]
    return [
        msgspec.structs.replace(
            samples[i % len(samples)],
            source="france_decp",
            source_id=f"{samples[i % len(samples)].source_id}-{i}",
        )
        for i in range(n)
    ]


async def _count(js: JetStreamContext) -> int:
    return (await js.stream_info(NOTICES_STREAM)).state.messages


async def _until(js: JetStreamContext, count: int, started: float) -> float:
    while await _count(js) < count:  # noqa: ASYNC110 - polls the stream
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def bus_floor(js: JetStreamContext, settings: NormalizerSettings, n: int,
                    template: Notice) -> float:  # fmt: skip
    """Seconds for the bus work of N notices (see the module docstring)."""

    async def handle(msg: Msg) -> None:
        raw = decode_raw(msg.data)
        notice = msgspec.structs.replace(
            template, id=f"floor:{raw.source_id}", source_id=raw.source_id
        )
        await publish_notice(js, notice)

    spec = msgspec.structs.replace(NORMALIZER_CONSUMER, durable="bench-floor")
    runner = ConsumerRunner(
        js, spec, stage="bench",
        batch_handler=per_message(handle, settings.normalizer_concurrency),
        batch_size=settings.normalizer_batch_size,
    )  # fmt: skip
    stop = asyncio.Event()
    before = await _count(js)
    started = time.perf_counter()
    task = asyncio.create_task(runner.run(stop))
    elapsed = await _until(js, before + n, started)
    stop.set()
    await task
    return elapsed


async def service(js: JetStreamContext, settings: NormalizerSettings, n: int) -> float:
    stop = asyncio.Event()
    before = await _count(js)
    started = time.perf_counter()
    task = asyncio.create_task(run_normalizer(settings, stop))
    elapsed = await _until(js, before + n, started)
    stop.set()
    await task
    return elapsed


async def main(args: argparse.Namespace) -> None:
    configure_logging("bench", "WARNING", "json")
    raws = _raws(args.n)
    template = map_raw(raws[0], raws[0].payload or b"")
    with tempfile.TemporaryDirectory() as tmp:
        server = NatsServer(Path(tmp) / "nats", port=_free_port())
        url = server.start()
        try:
            settings = NormalizerSettings(nats_url=[url], normalizer_metrics_port=0)
            nc = await nats.connect(url)
            js = nc.jetstream()
            await ensure_topology(js, settings)
            for raw in raws:
                await publish_raw(js, raw)
            floor = await bus_floor(js, settings, args.n, template)
            mapped = await service(js, settings, args.n)
            await nc.close()
        finally:
            server.stop()
    print(f"{args.n:,} DECP 2019 contracts, batches of {settings.normalizer_batch_size}, "
          f"{settings.normalizer_concurrency} in flight, one process")  # fmt: skip
    print(f"  bus floor  {args.n / floor:8,.0f} notices/s")
    print(f"  service    {args.n / mapped:8,.0f} notices/s   ({floor / mapped:.0%} of the floor)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="raw notices")
    asyncio.run(main(parser.parse_args()))
