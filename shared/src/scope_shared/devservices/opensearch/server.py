"""A real single-node OpenSearch for development and tests, without Docker.

OpenSearch refuses to run as root, so under root the node runs as a dedicated unprivileged
user through `runuser`. Everything the node writes (config copy, data, logs, pid file) lives
under `data_dir`; the install under `cache_dir` stays read-only and is shared by every data
directory and port.
"""

from __future__ import annotations

import contextlib
import json  # noqa: TID251 - health answers are read before any schema applies
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scope_shared.devservices.opensearch.install import find_java_home, install
from scope_shared.devservices.opensearch.modules import OPENSEARCH_VERSION
from scope_shared.logging import get_logger

log = get_logger(component="opensearch")

SERVICE_USER = "scope-opensearch"
CLUSTER_NAME = "scope-dev"


class OpenSearchServer:
    """A single-node OpenSearch on 127.0.0.1 whose lifecycle a dev tool or test session owns."""

    def __init__(
        self, cache_dir: Path, data_dir: Path, port: int = 9200, heap: str = "512m"
    ) -> None:
        self.cache_dir = Path(cache_dir).expanduser().resolve()
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.port = port
        self.heap = heap

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def _root(self) -> Path:
        return self.cache_dir / f"opensearch-{OPENSEARCH_VERSION}"

    @property
    def _home(self) -> Path:
        return self._root / "home"

    @property
    def _conf_dir(self) -> Path:
        return self.data_dir / "config"

    @property
    def _logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "opensearch.pid"

    @property
    def _console_log(self) -> Path:
        return self._logs_dir / "console.log"

    def install(self) -> Path:
        """An OpenSearch home with Scope's modules, built once per version (see install.py)."""
        return install(self._root)

    def is_running(self) -> bool:
        """Whether an OpenSearch node answers `GET /` on the port (ours or not)."""
        return self._root_info() is not None

    def start(self, timeout: float = 180) -> str:
        """Start the node (or reuse one already on the port) and wait until it is yellow."""
        deadline = time.monotonic() + timeout
        info = self._root_info()
        if info is not None:
            version = _version_of(info)
            if version != OPENSEARCH_VERSION:
                log.warning(
                    "opensearch_version_differs", found=version, expected=OPENSEARCH_VERSION
                )
            log.info("opensearch_reused", version=version, url=self.url)
            self._wait_for_yellow(deadline, watch=False)
            return self.url
        if self._pid() is None:
            self._launch(self.install())
        self._wait_for_yellow(deadline, watch=True)
        log.info("opensearch_ready", version=OPENSEARCH_VERSION, url=self.url)
        return self.url

    def stop(self, timeout: float = 60) -> None:
        """Stop the node started from this data directory: SIGTERM, wait, SIGKILL at timeout."""
        pid = self._pid()
        if pid is not None:
            log.info("opensearch_stopping", pid=pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not self._wait_for_exit(pid, timeout):
                log.warning("opensearch_killed", pid=pid, ignored_sigterm_for=timeout)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                self._wait_for_exit(pid, 10)
        self._pid_file.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        info = self._root_info()
        return {
            "running": info is not None,
            "url": self.url,
            "version": _version_of(info) if info is not None else None,
            "pid": self._pid(),
        }

    def _launch(self, home: Path) -> None:
        """Run `bin/opensearch -d`, which returns once the JVM is forked into the background."""
        java_home = find_java_home()
        user = _service_user() if os.geteuid() == 0 else None
        self._prepare_data_dir(home, user)
        command = [str(home / "bin" / "opensearch"), "-d", "-p", str(self._pid_file)]
        command += [f"-E{key}={value}" for key, value in self._settings().items()]
        if user is not None:
            command = ["runuser", "-u", user, "--", *command]
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "JAVA_HOME": str(java_home),
            "OPENSEARCH_PATH_CONF": str(self._conf_dir),
        }
        log.info("opensearch_starting", port=self.port, data_dir=str(self.data_dir))
        with self._console_log.open("ab") as console:
            launcher = subprocess.run(
                command,
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
            )
        if launcher.returncode != 0:
            raise RuntimeError(self._failure(f"launcher exited with {launcher.returncode}"))

    def _settings(self) -> dict[str, str]:
        return {
            "cluster.name": CLUSTER_NAME,
            "node.name": CLUSTER_NAME,
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": str(self.port),
            "path.data": str(self.data_dir / "data"),
            "path.logs": str(self._logs_dir),
            "cluster.routing.allocation.disk.threshold_enabled": "false",
        }

    def _prepare_data_dir(self, home: Path, user: str | None) -> None:
        """Give the node its own config copy, since it writes there (keystore) and in logs/."""
        for directory in (self._conf_dir / "jvm.options.d", self.data_dir / "data", self._logs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        for name in ("opensearch.yml", "log4j2.properties"):
            if not (self._conf_dir / name).exists():
                shutil.copyfile(home / "config" / name, self._conf_dir / name)
        template = (home / "config" / "jvm.options").read_text()
        (self._conf_dir / "jvm.options").write_text(
            _jvm_options(template, self.heap, self._logs_dir)
        )
        if user is not None:
            account = pwd.getpwnam(user)
            _chown_tree(self.data_dir, account.pw_uid, account.pw_gid)
            _make_traversable(home)
            _make_traversable(self.data_dir)

    def _wait_for_yellow(self, deadline: float, *, watch: bool) -> None:
        """Poll cluster health until yellow; when `watch`, fail early if our JVM has died."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(self._failure("timed out waiting for yellow health"))
            wait = max(1, min(10, int(remaining)))
            try:
                health = self._get(
                    f"/_cluster/health?wait_for_status=yellow&timeout={wait}s", wait + 5
                )
            except (OSError, ValueError):
                health = None
            if health is not None and health.get("status") in ("yellow", "green"):
                return
            if watch and self._pid() is None:
                raise RuntimeError(self._failure("OpenSearch exited during start-up"))
            if health is None:
                time.sleep(0.25)

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while _is_node_process(pid, self._conf_dir):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)
        return True

    def _pid(self) -> int | None:
        """The live node of this data directory: pid file first, else a scan of /proc.

        The scan matches the config path on the java command line, which also finds a JVM that
        has not written its pid file yet and never mistakes a recycled pid for ours.
        """
        try:
            pid = int(self._pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid > 0 and _is_node_process(pid, self._conf_dir):
            return pid
        return next(
            (p for p in _proc_pids() if _is_node_process(p, self._conf_dir)),
            None,
        )

    def _root_info(self) -> dict[str, Any] | None:
        try:
            info = self._get("/", 2)
        except (OSError, ValueError):
            return None
        version = info.get("version")
        if not isinstance(version, dict) or version.get("distribution") != "opensearch":
            return None
        return info

    def _get(self, path: str, timeout: float) -> dict[str, Any]:
        request = urllib.request.Request(self.url + path, method="GET")  # noqa: S310 - loopback http
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body: Any = json.loads(response.read())
        if not isinstance(body, dict):
            raise ValueError(f"unexpected answer from {path}: {body!r}")
        return body

    def _failure(self, reason: str) -> str:
        pid = self._pid()
        if pid is not None:
            reason += f" (JVM pid {pid} still running: stop() ends it)"
        tails = [
            f"--- {path} ---\n{_tail(path, 40)}"
            for path in (self._logs_dir / f"{CLUSTER_NAME}.log", self._console_log)
            if path.exists()
        ]
        return "\n".join([f"OpenSearch at {self.url}: {reason}", *tails])


def _jvm_options(template: str, heap: str, logs_dir: Path) -> str:
    """The stock jvm.options with our heap, and GC/error logs moved out of the read-only home.

    The JVM resolves `logs/…` and `data` against the home, which the node cannot write.
    """
    return "".join(f"{_jvm_option(line, heap, logs_dir)}\n" for line in template.splitlines())


def _jvm_option(line: str, heap: str, logs_dir: Path) -> str:
    if line.startswith(("-Xms", "-Xmx")):
        return f"{line[:4]}{heap}"
    if line == "-XX:HeapDumpPath=data":
        return f"-XX:HeapDumpPath={logs_dir}"
    return line.replace("=logs/", f"={logs_dir}/").replace(":logs/", f":{logs_dir}/")


def _service_user() -> str:
    """The unprivileged account OpenSearch runs as under root, created on first use."""
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        log.info("system_user_created", user=SERVICE_USER)
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SERVICE_USER


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for path in (root, *root.rglob("*")):
        owner = path.lstat()
        if (owner.st_uid, owner.st_gid) != (uid, gid):
            os.lchown(path, uid, gid)


def _make_traversable(path: Path) -> None:
    """Let the service user reach `path`: add search (not read) permission to its ancestors.

    Needed because the default cache lives under root's home, which is mode 700.
    """
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning(
                "directory_made_traversable",
                directory=str(parent),
                user=SERVICE_USER,
                target=str(path),
            )
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _proc_pids() -> Iterator[int]:
    return (int(path.name) for path in Path("/proc").iterdir() if path.name.isdigit())


def _is_node_process(pid: int, conf_dir: Path) -> bool:
    """Whether `pid` is a live OpenSearch JVM using `conf_dir` (zombies have no cmdline)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return (
        b"org.opensearch.bootstrap.OpenSearch" in argv
        and f"-Dopensearch.path.conf={conf_dir}".encode() in argv
    )


def _version_of(info: dict[str, Any]) -> str | None:
    version = info.get("version")
    number = version.get("number") if isinstance(version, dict) else None
    return number if isinstance(number, str) else None


def _tail(path: Path, lines: int) -> str:
    """The last lines of a log without Java stack frames, which would crowd out the causes."""
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(unreadable: {error})"
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(("at ", "..."))]
    return "\n".join(kept[-lines:])
