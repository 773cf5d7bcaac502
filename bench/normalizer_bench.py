"""Normalizer throughput per format, next to a bare decode or parse of the same payloads.

    .venv/bin/python bench/normalizer_bench.py [--seconds 3]

For each raw format with real samples, the payloads are split exactly as the harvesters split
them, then timed three ways in this one run, on one core:
- bare: `msgspec.json.decode` (JSON formats) or `lxml.etree.fromstring` (XML formats);
- full decode: the bare decode plus that of the JSON documents a record carries as strings
  (BOAMP's `gestion` and `donnees`); the bare figure for the other formats;
- mapper: the format's mapper alone (what the targets speak of);
- pipeline: mapper + procedure linking + version ledger (in-memory key-value store);
- output floor: `msgspec.json.decode` of the mapper's own output (the canonical Notices, as
  the bus carries them) into `Notice`: what building those objects costs msgspec's C decoder,
  with no mapping at all. A mapper that returns a Notice cannot be much cheaper than this, in
  any language, so "floor vs bare" says how far below the target the objects alone already
  are.
Targets (issue 4): JSON mappers within 4x of the bare decode, XML within 3x of the bare parse.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import msgspec
from lxml import etree

from scope_normalizer.detect import split_file
from scope_normalizer.formats import FORMATS
from scope_normalizer.pipeline import Normalizer
from scope_normalizer.values import caches, identifiers
from scope_shared import dates
from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, RawFormat, RawNotice, make_raw_notice

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
XML_FORMATS = {
    RawFormat.BOAMP_XML,
    RawFormat.EFORMS_XML,
    RawFormat.TED_XML,
    RawFormat.DECP_2019_XML,
    RawFormat.DECP_2024_XML,
}
TARGET = {True: 3.0, False: 4.0}


def _samples() -> dict[RawFormat, list[RawNotice]]:
    found: dict[RawFormat, list[RawNotice]] = defaultdict(list)
    for path in sorted(FIXTURES.rglob("*")):
        if (
            path.suffix not in {".json", ".xml"}
            or "schema" in path.name
            or path.parent.name == "editor_package"
        ):
            continue
        try:
            items = split_file(path.read_bytes(), path.as_uri())
        except (PermanentError, ValueError):
            continue
        for item in items:
            raw = make_raw_notice(
                source="bench", source_id=item.source_id, format=item.format,
                payload=item.payload, url="file:", content_type="", run_id="bench",
                attributes=item.attributes,
            )  # fmt: skip
            try:
                FORMATS[raw.format](raw, item.payload)
            except (PermanentError, msgspec.ValidationError):
                continue
            found[raw.format].append(raw)
    return found


def _rate(work: Callable[[], None], count: int, seconds: float) -> float:
    """Items per second of `work` (which handles `count` items), repeated for `seconds`."""
    rounds, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        rounds += 1
    return rounds * count / (time.perf_counter() - start)


def _bare(fmt: RawFormat, raws: list[RawNotice]) -> Callable[[], None]:
    payloads = [r.payload or b"" for r in raws]
    if fmt in XML_FORMATS:
        return lambda: [etree.fromstring(p) for p in payloads] and None
    return lambda: [msgspec.json.decode(p) for p in payloads] and None


EMBEDDED_JSON = {RawFormat.BOAMP_JSON: ("gestion", "donnees")}
"""Formats whose record carries JSON documents as strings, decoded by the mapper."""


def _bare_full(fmt: RawFormat, raws: list[RawNotice]) -> Callable[[], None]:
    """The bare decode plus that of the embedded JSON strings (the notice body of a BOAMP
    record is in `donnees`); the plain bare figure for the other formats."""
    fields = EMBEDDED_JSON.get(fmt)
    if fields is None:
        return _bare(fmt, raws)
    payloads = [r.payload or b"" for r in raws]

    def run() -> None:
        for payload in payloads:
            record = msgspec.json.decode(payload)
            for field in fields:
                if isinstance(embedded := record.get(field), str):
                    msgspec.json.decode(embedded)

    return run


def _cold_caches() -> None:
    """Each round starts with empty value caches: only the repeats inside the samples (the
    same buyer, the same day) hit them, as in one real file, not the previous round's."""
    dates.clear_cache()
    identifiers.clear_cache()
    caches.clear()


def _mapper(fmt: RawFormat, raws: list[RawNotice]) -> Callable[[], None]:
    mapper = FORMATS[fmt]

    def run() -> None:
        _cold_caches()
        for raw in raws:
            mapper(raw, raw.payload or b"")

    return run


def _output_floor(fmt: RawFormat, raws: list[RawNotice]) -> Callable[[], None]:
    mapper = FORMATS[fmt]
    outputs = [msgspec.json.encode(mapper(raw, raw.payload or b"")) for raw in raws]
    decoder = msgspec.json.Decoder(Notice)
    return lambda: [decoder.decode(output) for output in outputs] and None


def _pipeline(raws: list[RawNotice]) -> Callable[[], None]:
    loop = asyncio.new_event_loop()

    async def run() -> None:
        _cold_caches()
        normalizer = Normalizer.in_memory()
        for raw in raws:
            await normalizer.normalize(raw, raw.payload or b"")

    return lambda: loop.run_until_complete(run())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    parser.add_argument(
        "--format", action="append", choices=[fmt.value for fmt in RawFormat], default=[],
        help="only this format (repeatable); every format with samples by default",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"# Normalizer, one core, {platform.python_implementation()} {platform.python_version()}")
    print(
        "| format | samples | bare /s | full decode /s | mapper /s | pipeline /s "
        "| mapper vs bare | vs full decode | output floor vs bare | target |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for fmt, raws in sorted(_samples().items()):
        if args.format and fmt.value not in args.format:
            continue
        n = len(raws)
        bare = _rate(_bare(fmt, raws), n, args.seconds)
        full = _rate(_bare_full(fmt, raws), n, args.seconds) if fmt in EMBEDDED_JSON else bare
        mapped = _rate(_mapper(fmt, raws), n, args.seconds)
        piped = _rate(_pipeline(raws), n, args.seconds)
        floor = _rate(_output_floor(fmt, raws), n, args.seconds)
        xml = fmt in XML_FORMATS
        ratio = bare / mapped
        verdict = "ok" if ratio <= TARGET[xml] else "missed"
        print(
            f"| {fmt.value} | {n} | {bare:,.0f} | {full:,.0f} | {mapped:,.0f} | {piped:,.0f} | "
            f"{ratio:.1f}x | {full / mapped:.1f}x | {bare / floor:.1f}x | "
            f"{TARGET[xml]:.0f}x {verdict} |"
        )


if __name__ == "__main__":
    main()
