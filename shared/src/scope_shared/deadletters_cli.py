"""`scope dead-letters list|show|retry`: inspect and retry what a stage could not process."""

from __future__ import annotations

import argparse
import asyncio
import sys

from nats.js import JetStreamContext

from scope_shared.bus import Stage, open_jetstream
from scope_shared.bus.deadletters import (
    DeadLetter,
    NotRetryableError,
    get_dead_letter,
    iter_dead_letters,
    retry_dead_letter,
)
from scope_shared.config import CommonSettings, load_settings

PREVIEW_BYTES = 4000


def add_dead_letters_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = subparsers.add_parser(
        "dead-letters", help="list, show or retry messages a stage could not process"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="one line per dead letter")
    show = actions.add_parser("show", help="one dead letter: headers and payload")
    show.add_argument("sequence", type=int)
    show.add_argument("--full", action="store_true", help="print the whole payload")
    retry = actions.add_parser("retry", help="send dead letters back to their stage")
    retry.add_argument("sequences", type=int, nargs="*", metavar="SEQUENCE")
    retry.add_argument("--all", action="store_true", help="every dead letter matching filters")
    for sub in (listing, retry):
        sub.add_argument("--stage", default=None)
        sub.add_argument("--source", default=None)
    parser.set_defaults(func=lambda args: asyncio.run(_run(args)))


async def _run(args: argparse.Namespace) -> int:
    settings = load_settings(CommonSettings)
    async with open_jetstream(settings, "scope-cli", declare=False, persistent=False) as js:
        if args.action == "list":
            return await _list(js, args)
        if args.action == "show":
            return await _show(js, args.sequence, full=args.full)
        return await _retry(js, args)


def _out(text: str) -> None:
    print(text)  # noqa: T201 - command output


async def _list(js: JetStreamContext, args: argparse.Namespace) -> int:
    _out(f"{'SEQ':>6}  {'STAGE':<10} {'SOURCE':<16} {'ERROR TYPE':<20} {'FIELD':<24} ERROR")
    async for letter in iter_dead_letters(js, stage=args.stage, source=args.source):
        _out(
            f"{letter.sequence:>6}  {letter.stage:<10} {letter.source:<16} "
            f"{letter.error_type:<20} {letter.field_path or '-':<24} {letter.error[:80]}"
        )
    return 0


async def _show(js: JetStreamContext, sequence: int, *, full: bool) -> int:
    letter = await get_dead_letter(js, sequence)
    if letter is None:
        print(f"no dead letter {sequence}", file=sys.stderr)  # noqa: T201
        return 1
    for key, value in sorted(letter.headers.items()):
        _out(f"{key}: {value}")
    _out("")
    text = letter.data.decode("utf-8", errors="replace")
    _out(text if full or len(text) <= PREVIEW_BYTES else text[:PREVIEW_BYTES] + "\n[...]")
    return 0


async def _retry(js: JetStreamContext, args: argparse.Namespace) -> int:
    letters: list[DeadLetter] = []
    if args.all:
        found = [x async for x in iter_dead_letters(js, stage=args.stage, source=args.source)]
        # `--all` means every letter that can go back: a harvest letter cannot.
        letters = [x for x in found if x.stage != Stage.HARVEST]
        if kept := len(found) - len(letters):
            print(f"{kept} harvest dead letters left as they are: not retried", file=sys.stderr)  # noqa: T201
    for sequence in args.sequences:
        letter = await get_dead_letter(js, sequence)
        if letter is None:
            print(f"no dead letter {sequence}", file=sys.stderr)  # noqa: T201
            return 1
        letters.append(letter)
    refused = 0
    for letter in letters:
        try:
            await retry_dead_letter(js, letter)
        except NotRetryableError as exc:
            print(exc, file=sys.stderr)  # noqa: T201
            refused += 1
            continue
        _out(f"retried {letter.sequence} -> {letter.original_subject}")
    return 1 if refused else 0
