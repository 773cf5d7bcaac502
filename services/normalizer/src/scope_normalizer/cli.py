"""The normalizer's `scope` subcommands: `normalize` (offline, on files) and `replay`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from scope_normalizer.detect import split_file
from scope_normalizer.pipeline import Normalizer
from scope_normalizer.replay import replay
from scope_normalizer.service import open_normalizer
from scope_normalizer.settings import NormalizerSettings
from scope_shared.bus import open_jetstream
from scope_shared.config import load_settings
from scope_shared.errors import PermanentError
from scope_shared.logging import configure_logging
from scope_shared.schema import RawFormat, make_raw_notice

EXIT_ALL_MAPPED = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    normalize = subparsers.add_parser(
        "normalize",
        help="map files as harvested to canonical notices, one JSON line per notice",
        description=(
            "Reads raw files (a BOAMP API response or record, an eForms or TED XML notice, a "
            "DECP file, an OCDS package, an RSS feed), detects their format unless --format is "
            "given, and prints one canonical Notice per line as JSON, exactly as on the bus. "
            "What cannot be mapped is reported on stderr. Exit 0 if everything mapped, 1 if "
            "something did not, 2 on usage errors."
        ),
    )
    normalize.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    normalize.add_argument("--format", choices=[f.value for f in RawFormat], default=None)
    normalize.add_argument(
        "--source", default=None, help="source name to give the notices (default: by format)"
    )
    normalize.set_defaults(func=normalize_command)

    replay = subparsers.add_parser(
        "replay", help="re-normalise raw notices from the archive without re-harvesting"
    )
    replay.add_argument("--source", required=True)
    replay.add_argument(
        "--since", type=_utc_date, default=None, help="raw notices stored since DATE (ISO)"
    )
    replay.set_defaults(func=replay_command)


def _utc_date(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def replay_command(args: argparse.Namespace) -> int:
    return asyncio.run(_replay(args.source, args.since))


async def _replay(source: str, since: datetime | None) -> int:
    settings = load_settings(NormalizerSettings, service_prefix="NORMALIZER_")
    configure_logging("normalizer", settings.log_level, settings.log_format)
    async with open_jetstream(settings, "scope-replay", declare=False, persistent=False) as js:
        counts = await replay(js, await open_normalizer(js), source=source, since=since)
    print(  # noqa: T201 - command output
        f"read {counts.read}, published {counts.published}, "
        f"already published {counts.duplicates}, failed {counts.failed}"
    )
    return EXIT_SOME_FAILED if counts.failed else EXIT_ALL_MAPPED


DEFAULT_SOURCES: dict[RawFormat, str] = {
    RawFormat.BOAMP_JSON: "france_boamp",
    RawFormat.BOAMP_XML: "france_boamp",
    RawFormat.EFORMS_XML: "europe_ted",
    RawFormat.TED_XML: "europe_ted",
    RawFormat.TED_API_JSON: "europe_ted",
    RawFormat.DECP_2019_JSON: "france_decp",
    RawFormat.DECP_2019_XML: "france_decp",
    RawFormat.DECP_2024_JSON: "france_decp",
    RawFormat.DECP_2024_XML: "france_decp",
    RawFormat.OCDS_RELEASE: "ocds_api",
    RawFormat.RSS_ITEM: "rss_feed",
}


def normalize_command(args: argparse.Namespace) -> int:
    fmt = RawFormat(args.format) if args.format else None
    return asyncio.run(_normalize_files(args.paths, fmt, args.source))


async def _normalize_files(paths: list[Path], fmt: RawFormat | None, source: str | None) -> int:
    normalizer = Normalizer.in_memory()
    encoder = msgspec.json.Encoder(decimal_format="number")
    out = sys.stdout.buffer
    failures = 0
    for path in paths:
        skipped: list[str] = []
        try:
            data = path.read_bytes()
            items = split_file(data, path.resolve().as_uri(), fmt, skipped=skipped.append)
        except (OSError, PermanentError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)  # noqa: T201 - command output
            failures += 1
            continue
        for reason in skipped:
            # A notice the file holds but that cannot be identified: not printed, so reported.
            print(f"{path}: {reason}", file=sys.stderr)  # noqa: T201 - command output
            failures += 1
        fetched_at = datetime.now(UTC)
        for item in items:
            raw = make_raw_notice(
                source=source or DEFAULT_SOURCES[item.format],
                source_id=item.source_id,
                format=item.format,
                payload=item.payload,
                url=path.resolve().as_uri(),
                content_type="application/xml" if item.payload[:1] == b"<" else "application/json",
                run_id="offline",
                published_at=item.published_at,
                attributes=item.attributes,
                fetched_at=fetched_at,
            )
            try:
                result = await normalizer.normalize(raw, item.payload)
            except (PermanentError, msgspec.ValidationError) as exc:
                where = getattr(exc, "field_path", None)
                detail = f" at {where}" if where else ""
                print(f"{path} [{item.source_id}]: {exc}{detail}", file=sys.stderr)  # noqa: T201
                failures += 1
                continue
            out.write(encoder.encode(result.notice) + b"\n")
    out.flush()
    return EXIT_SOME_FAILED if failures else EXIT_ALL_MAPPED
