"""`python -m scope_shared.devservices.opensearch start|stop|status`, for debugging."""

from __future__ import annotations

import argparse
import json  # noqa: TID251 - prints the status dict as is
import sys
from pathlib import Path

from scope_shared.devservices.opensearch.server import OpenSearchServer
from scope_shared.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    """`python -m scope_shared.devservices.opensearch start|stop|status` for debugging."""
    parser = argparse.ArgumentParser(description="A local OpenSearch node for Scope.")
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "scope")
    parser.add_argument("--data-dir", type=Path, help="default: <cache-dir>/opensearch-data-PORT")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--heap", default="512m")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args(argv)
    configure_logging("opensearch-dev")
    data_dir = args.data_dir or args.cache_dir / f"opensearch-data-{args.port}"
    server = OpenSearchServer(args.cache_dir, data_dir, port=args.port, heap=args.heap)
    if args.command == "start":
        sys.stdout.write(server.start(timeout=args.timeout) + "\n")
    elif args.command == "stop":
        server.stop(timeout=args.timeout)
    else:
        sys.stdout.write(json.dumps(server.status(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
