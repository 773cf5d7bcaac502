"""Container health check for every Scope service: `python healthcheck.py [service]`.

The image runs one service per container, chosen by its command (`scope run normalizer`).
Docker's HEALTHCHECK is one command for the whole image, so this script finds which service
runs (the argument, else PID 1's command line) and asks that service's HTTP endpoint:
the workers answer /healthz on their metrics port (503 once their event loop has stalled for a
minute, scope_shared.metrics), the search API on its own port. Ports follow the services'
settings, so a deployment that moves a port with SCOPE_<SERVICE>_METRICS_PORT or
SCOPE_API_PORT is still checked on the right one.

Standard library only: it runs every few seconds and must start fast.
Exit 0 when healthy, 1 when not or when there is nothing to check (Docker reserves 2).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

PORTS = {
    "harvester": ("SCOPE_HARVESTER_METRICS_PORT", 9101),
    "normalizer": ("SCOPE_NORMALIZER_METRICS_PORT", 9102),
    "indexer": ("SCOPE_INDEXER_METRICS_PORT", 9103),
    "search-api": ("SCOPE_API_PORT", 8080),
}
TIMEOUT_SECONDS = 3.0
"""Below Docker's default 30 s check timeout, above any healthy answer (milliseconds)."""


def service_of(argv: list[str]) -> str | None:
    """The service of a `scope run <service>` command line, if it is one."""
    # PID 1 of `scope run normalizer` is `/app/.venv/bin/python /app/.venv/bin/scope run
    # normalizer`: the interpreter first, then the script.
    for index in range(1, len(argv) - 1):
        if argv[index] == "run" and Path(argv[index - 1]).name == "scope":
            return argv[index + 1]
    return None


def pid1_argv(proc: Path = Path("/proc/1/cmdline")) -> list[str]:
    try:
        raw = proc.read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def health_url(service: str, env: dict[str, str]) -> str | None:
    """The URL to probe, or None when the service exposes no endpoint (port 0)."""
    variable, default = PORTS[service]
    port = int(env.get(variable, default))
    if port == 0:
        return None
    return f"http://127.0.0.1:{port}/healthz"


def check(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - fixed http URL
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    service = argv[1] if len(argv) > 1 else service_of(pid1_argv())
    if service not in PORTS:
        print(f"healthcheck: no Scope service to check ({service!r})", file=sys.stderr)  # noqa: T201
        return 1
    url = health_url(service, dict(os.environ))
    if url is None:
        print(f"healthcheck: {service} has no health port (set to 0)", file=sys.stderr)  # noqa: T201
        return 1
    if check(url):
        return 0
    print(f"healthcheck: {service} did not answer on {url}", file=sys.stderr)  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
