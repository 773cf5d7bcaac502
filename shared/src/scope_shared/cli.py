"""The `scope` command.

Built-in: `scope services up|down|status` (local NATS and OpenSearch for development).
Each service adds its own subcommands through the entry-point group `scope.commands`: an entry
point names a function `register(subparsers)` that adds parsers whose `func(args)` returns the
exit code. So the command line grows with the installed services while this package imports
none of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

import nats

from scope_shared.config import CommonSettings, load_settings
from scope_shared.deadletters_cli import add_dead_letters_command
from scope_shared.devservices.demo import command as demo
from scope_shared.devservices.stack import DevStack
from scope_shared.errors import ConfigError

COMMANDS_GROUP = "scope.commands"
SERVICES_GROUP = "scope.services"
"""Entry points naming each long-running service's `main() -> int`, for `scope run <service>`."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope", description="Scope: public-procurement notices, gathered and searchable."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_services_command(subparsers)
    _add_run_command(subparsers)
    add_dead_letters_command(subparsers)
    demo.register(subparsers)
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        entry.load()(subparsers)
    return parser


def _add_services_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    services = subparsers.add_parser(
        "services", help="start, stop or show the local NATS and OpenSearch servers"
    )
    services.add_argument("action", choices=["up", "down", "status"])
    services.add_argument(
        "--opensearch",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="include OpenSearch (default: yes)",
    )
    services.set_defaults(func=_services)


def _add_run_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    services = {entry.name: entry for entry in entry_points(group=SERVICES_GROUP)}
    run = subparsers.add_parser("run", help="run a long-lived service until SIGTERM")
    run.add_argument("service", choices=sorted(services))
    run.set_defaults(func=lambda args: services[args.service].load()())


def _services(args: argparse.Namespace) -> int:
    settings = load_settings(CommonSettings)
    stack = DevStack.from_settings(settings, with_opensearch=args.opensearch)
    if args.action == "up":
        for name, url in stack.up().items():
            print(f"{name:<11} {url}")  # noqa: T201 - command output
    elif args.action == "down":
        stack.down()
    else:
        for name, status in stack.status().items():
            print(f"{name:<11} {status}")  # noqa: T201 - command output
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"scope: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except nats.errors.Error as exc:
        # A command's connection does not reconnect: one line and 2, not a traceback and the
        # code a command gives its own failures.
        reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
        print(f"scope: lost or refused by NATS: {reason}", file=sys.stderr)  # noqa: T201
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
