"""A real single-node OpenSearch for development and tests, without Docker.

Only the `integ-test-zip` distribution is published on Maven Central, and in 2.19 it ships the
`transport-netty4` module alone: no French analysis, percolator, `_reindex` or `scaled_float`.
The modules Scope relies on are published as plain jars, so `install()` fetches the zip and
those jars with Maven (cached under `cache_dir`) and assembles the missing `modules/<name>/`
folders, each with the `plugin-descriptor.properties` (and security policy) that the Gradle
build would have generated. OpenSearch refuses to run as root, so under root the node runs as a
dedicated unprivileged user through `runuser`.

Everything the node writes (config copy, data, logs, pid file) lives under `data_dir`; the
install under `cache_dir` stays read-only and is shared by every data directory and port.
The module is standard library only so that dev tooling can import it before anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json  # noqa: TID251 - stdlib only: this launcher must run before project deps exist.
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OPENSEARCH_VERSION = "2.19.6"
"""Newest 2.19 resolving on Maven Central (2.19.7 does not); 3.x would need Java 21+."""

MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
"""Pinned: Maven 3.8.7's super-POM default (2.8) cannot run `copy` without a project."""

DISTRIBUTION_ARTIFACT = (
    f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
)
SERVICE_USER = "scope-opensearch"
CLUSTER_NAME = "scope-dev"
JAVA_VERSIONS = range(17, 22)
"""OpenSearch 2.19 supports Java 17 and 21; Java 24+ removed the Security Manager it needs."""

DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
DESCRIPTOR_JAVA_VERSION = "11"
"""What the official 2.19 module descriptors declare (the minimum, not the runtime)."""

INSTALL_MARKER = ".scope-install.json"

_V = OPENSEARCH_VERSION
_ASM = "9.7"
_HTTPCORE = "4.4.16"

PAINLESS_POLICY = """\
grant {
  permission java.lang.RuntimePermission "createClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
};
"""
"""Painless compiles scripts into classes loaded by its own class loader."""

REINDEX_POLICY = """\
grant {
  permission java.net.SocketPermission "*", "connect";
};

grant codeBase "${codebase.opensearch-rest-client}" {
  permission java.net.NetPermission "getProxySelector";
};

grant codeBase "${codebase.httpasyncclient}" {
  permission java.net.NetPermission "getProxySelector";
};
"""
"""Reindex-from-remote opens sockets through the low-level REST client."""


@dataclass(frozen=True)
class ModuleSpec:
    """One `modules/<name>/` folder the integ-test-zip lacks.

    `artifacts` are `groupId:artifactId:version` jars copied into the folder; none may also be
    in OpenSearch's `lib/`, since the jar-hell check rejects a class present twice.
    """

    name: str
    description: str
    classname: str
    artifacts: tuple[str, ...]
    extended_plugins: tuple[str, ...] = ()
    security_policy: str | None = None


MODULES: tuple[ModuleSpec, ...] = (
    ModuleSpec(
        name="lang-painless",
        description="An easy, safe and fast scripting language for OpenSearch",
        classname="org.opensearch.painless.PainlessPlugin",
        artifacts=(
            f"org.opensearch.plugin:lang-painless:{_V}",
            f"org.opensearch.plugin:opensearch-scripting-painless-spi:{_V}",
            "org.antlr:antlr4-runtime:4.13.1",
            f"org.ow2.asm:asm:{_ASM}",
            f"org.ow2.asm:asm-analysis:{_ASM}",
            f"org.ow2.asm:asm-commons:{_ASM}",
            f"org.ow2.asm:asm-tree:{_ASM}",
            f"org.ow2.asm:asm-util:{_ASM}",
        ),
        security_policy=PAINLESS_POLICY,
    ),
    ModuleSpec(
        name="analysis-common",
        description='Adds "built in" analyzers to OpenSearch.',
        classname="org.opensearch.analysis.common.CommonAnalysisPlugin",
        artifacts=(f"org.opensearch.plugin:analysis-common:{_V}",),
        extended_plugins=("lang-painless",),
    ),
    ModuleSpec(
        name="mapper-extras",
        description="Adds advanced field mappers",
        classname="org.opensearch.index.mapper.MapperExtrasPlugin",
        artifacts=(f"org.opensearch.plugin:mapper-extras-client:{_V}",),
    ),
    ModuleSpec(
        name="percolator",
        description="Percolator module adds capability to index queries and query these queries "
        "by specifying documents",
        classname="org.opensearch.percolator.PercolatorPlugin",
        artifacts=(f"org.opensearch.plugin:percolator-client:{_V}",),
    ),
    ModuleSpec(
        name="reindex",
        description="The Reindex module adds APIs to reindex from one index to another or update "
        "documents in place.",
        classname="org.opensearch.index.reindex.ReindexPlugin",
        artifacts=(
            f"org.opensearch.plugin:reindex-client:{_V}",
            f"org.opensearch.client:opensearch-rest-client:{_V}",
            f"org.opensearch:opensearch-ssl-config:{_V}",
            "org.apache.httpcomponents:httpclient:4.5.14",
            f"org.apache.httpcomponents:httpcore:{_HTTPCORE}",
            "org.apache.httpcomponents:httpasyncclient:4.1.5",
            f"org.apache.httpcomponents:httpcore-nio:{_HTTPCORE}",
            "commons-codec:commons-codec:1.18.0",
            "commons-logging:commons-logging:1.2",
        ),
        security_policy=REINDEX_POLICY,
    ),
)
"""Assembled modules. The rest client's reactor-core and reactive-streams are already in lib/."""


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
        """Return an OpenSearch home with Scope's modules, building it once per version."""
        home = self._home
        if _read_marker(home) == _install_fingerprint():
            return home
        artifacts = self._root / "artifacts"
        zip_path = _maven_copy(DISTRIBUTION_ARTIFACT, artifacts)
        jars = {a: _maven_copy(a, artifacts) for m in MODULES for a in m.artifacts}
        staging = self._root / f".staging-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        log.info("assembling OpenSearch %s in %s", OPENSEARCH_VERSION, home)
        staged_home = _extract_zip(zip_path, staging)
        for module in MODULES:
            _assemble_module(staged_home, module, [jars[a] for a in module.artifacts])
        _write_marker(staged_home)
        shutil.rmtree(home, ignore_errors=True)
        staged_home.rename(home)
        shutil.rmtree(staging, ignore_errors=True)
        return home

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
                    "reusing OpenSearch %s at %s, not %s", version, self.url, OPENSEARCH_VERSION
                )
            log.info("reusing OpenSearch %s at %s", version, self.url)
            self._wait_for_yellow(deadline, watch=False)
            return self.url
        if self._pid() is None:
            self._launch(self.install())
        self._wait_for_yellow(deadline, watch=True)
        log.info("OpenSearch %s ready at %s", OPENSEARCH_VERSION, self.url)
        return self.url

    def stop(self, timeout: float = 60) -> None:
        """Stop the node started from this data directory: SIGTERM, wait, SIGKILL at timeout."""
        pid = self._pid()
        if pid is not None:
            log.info("stopping OpenSearch (pid %d)", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not self._wait_for_exit(pid, timeout):
                log.warning("OpenSearch pid %d ignored SIGTERM for %.0fs; killing it", pid, timeout)
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
        log.info("starting OpenSearch on port %d (data in %s)", self.port, self.data_dir)
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


def find_java_home() -> Path:
    """JAVA_HOME when its Java suits OpenSearch 2.19, else the machine's default Java."""
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]))
    java = shutil.which("java")
    if java is not None:
        candidates.append(Path(java).resolve().parent.parent)
    candidates.append(DEFAULT_JAVA_HOME)
    for home in candidates:
        major = _java_major(home)
        if major in JAVA_VERSIONS:
            return home
        log.debug("skipping Java at %s (version %s)", home, major)
    raise RuntimeError(
        f"no Java {JAVA_VERSIONS.start}-{JAVA_VERSIONS.stop - 1} found for OpenSearch "
        f"{OPENSEARCH_VERSION}; tried {', '.join(map(str, candidates))}"
    )


def _java_major(java_home: Path) -> int | None:
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    result = subprocess.run(
        [str(java), "-XshowSettings:properties", "-version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for line in result.stderr.splitlines():
        key, _, value = line.strip().partition(" = ")
        if key == "java.specification.version":
            return int(value.removeprefix("1.").split(".")[0])
    return None


def _maven_copy(coordinates: str, directory: Path) -> Path:
    """Copy one artifact from Maven (local repo or Central) unless it is already cached."""
    parts = coordinates.split(":")
    extension = parts[3] if len(parts) > 3 else "jar"
    target = directory / f"{parts[1]}-{parts[2]}.{extension}"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(f"Maven (mvn) is needed to download {coordinates}")
    download = directory / f".download-{os.getpid()}"
    log.info("downloading %s", coordinates)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={coordinates}",
            f"-DoutputDirectory={download}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not (download / target.name).exists():
        raise RuntimeError(
            f"mvn could not copy {coordinates}:\n{(result.stdout + result.stderr)[-3000:]}"
        )
    (download / target.name).rename(target)
    shutil.rmtree(download, ignore_errors=True)
    return target


def _extract_zip(zip_path: Path, destination: Path) -> Path:
    """Unpack keeping Unix modes: zipfile drops them, and bin/ must stay executable."""
    with zipfile.ZipFile(zip_path) as archive:
        for entry in archive.infolist():
            path = Path(archive.extract(entry, destination))
            mode = (entry.external_attr >> 16) & 0o777
            if mode:
                path.chmod(mode)
    homes = [path for path in destination.iterdir() if (path / "bin" / "opensearch").exists()]
    if len(homes) != 1:
        raise RuntimeError(f"unexpected layout in {zip_path}: {sorted(destination.iterdir())}")
    return homes[0]


def _assemble_module(home: Path, module: ModuleSpec, jars: list[Path]) -> None:
    """Lay out `modules/<name>/` as the Gradle build would, world-readable for the service user."""
    folder = home / "modules" / module.name
    folder.mkdir(mode=0o755, parents=True)
    lib_jars = {path.name for path in (home / "lib").glob("*.jar")}
    for jar in jars:
        if jar.name in lib_jars:
            raise RuntimeError(f"{jar.name} is already in lib/: jar hell in module {module.name}")
        shutil.copyfile(jar, folder / jar.name)
    (folder / "plugin-descriptor.properties").write_text(_descriptor(module))
    if module.security_policy is not None:
        (folder / "plugin-security.policy").write_text(module.security_policy)
    for path in folder.iterdir():
        path.chmod(0o644)


def _descriptor(module: ModuleSpec) -> str:
    properties = {
        "description": module.description,
        "version": OPENSEARCH_VERSION,
        "name": module.name,
        "classname": module.classname,
        "java.version": DESCRIPTOR_JAVA_VERSION,
        "opensearch.version": OPENSEARCH_VERSION,
        "custom.foldername": "",
        "extended.plugins": ",".join(module.extended_plugins),
        "has.native.controller": "false",
    }
    return "".join(f"{key}={value}\n" for key, value in properties.items())


def _install_fingerprint() -> str:
    """Changes whenever the distribution or module table does, forcing a re-assembly."""
    return hashlib.sha256(repr((DISTRIBUTION_ARTIFACT, MODULES)).encode()).hexdigest()


def _read_marker(home: Path) -> str | None:
    try:
        marker: Any = json.loads((home / INSTALL_MARKER).read_text())
    except (OSError, ValueError):
        return None
    fingerprint = marker.get("fingerprint") if isinstance(marker, dict) else None
    return fingerprint if isinstance(fingerprint, str) else None


def _write_marker(home: Path) -> None:
    marker = {
        "fingerprint": _install_fingerprint(),
        "version": OPENSEARCH_VERSION,
        "modules": [module.name for module in MODULES],
    }
    (home / INSTALL_MARKER).write_text(json.dumps(marker, indent=2) + "\n")


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
        log.info("creating system user %s", SERVICE_USER)
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
            log.warning("adding o+x to %s so that %s can reach %s", parent, SERVICE_USER, path)
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


def main(argv: list[str] | None = None) -> int:
    """`python -m scope_shared.devservices.opensearch start|stop|status` for debugging."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "scope")
    parser.add_argument("--data-dir", type=Path, help="default: <cache-dir>/opensearch-data-PORT")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--heap", default="512m")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
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
