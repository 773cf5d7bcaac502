"""nats-server processes started from deploy/nats/ exactly as shipped, on free loopback ports.

The shipped files name container paths and ports (`/data/jetstream`, leaf port 7422). A test
copies them to a temporary directory and changes only those lines, each of which must occur
exactly once, so the test fails if the shipped file drifts from what it replaces. The client
and monitoring ports are set with nats-server's own flags, which override the file.
Secrets are the environment variables the files reference, fresh random values per server.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from scope_shared.devservices.nats import nats_server_binary
from scope_shared.devservices.process import port_open
from tests.support.ports import free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NATS_DIR = DEPLOY / "nats"
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
"""nats-server is ready in milliseconds; JetStream recovery of an empty store is as quick."""
VIOLATION = re.compile(r'"[A-Za-z0-9_$]+/user:[^"]+" - \w+ Violation - .*$')
"""A log line's violation: `"<ACCOUNT>/user:<name>" - Publish Violation - Subject "..."`."""
ENV_REFERENCE = re.compile(r":\s*\$([A-Z][A-Z0-9_]*)")


def referenced_variables(*paths: Path) -> set[str]:
    """The environment variables a configuration file (and the files it includes) reads."""
    names: set[str] = set()
    for path in paths:
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#"):
                names |= set(ENV_REFERENCE.findall(line))
    return names


def new_password() -> str:
    """A password as the deployment guide generates them.

    nats-server parses a variable's value as a configuration value: `-x`, `a,b` or `true`
    would not be a string. A letter followed by hex digits always is.
    """
    return "p" + secrets.token_hex(24)


def hub_secrets() -> dict[str, str]:
    """A random value for every password variable of the hub's configuration."""
    names = referenced_variables(*NATS_DIR.glob("*.conf"))
    return {n: new_password() for n in sorted(names) if n.endswith("_PASSWORD")}


def replace_once(text: str, old: str, new: str, name: str) -> str:
    count = text.count(old)
    if count != 1:
        raise AssertionError(f"{name}: expected {old!r} once, found it {count} times")
    return text.replace(old, new)


@dataclass
class NatsProcess:
    """One nats-server child process and what a test needs to talk to it."""

    name: str
    workdir: Path
    config: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    leaf_port: int = 0
    """The hub's leaf-node port (0 for a server that accepts no leaf nodes)."""
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def url(self, scheme: str = "nats") -> str:
        return f"{scheme}://{HOST}:{self.port}"

    def start(self) -> NatsProcess:
        command = [
            str(nats_server_binary()), "-c", str(self.config),
            "-a", HOST, "-p", str(self.port), "-m", str(self.http_port), "-l", str(self.log),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.workdir,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                raise RuntimeError(f"{self.name} exited: {err.decode(errors='replace')}")
            if port_open(HOST, self.port) and port_open(HOST, self.http_port):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def monitor(self, endpoint: str) -> dict[str, object]:
        """A monitoring endpoint (`varz`, `leafz`, `jsz`) as a dict."""
        url = f"http://{HOST}:{self.http_port}/{endpoint}"
        with urllib.request.urlopen(url, timeout=5) as response:
            result: dict[str, object] = msgspec.json.decode(response.read())
        return result

    def violations(self, user: str | None = None) -> list[str]:
        """Permission violations the server logged, optionally only those of one user."""
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        found = [m.group(0) for line in lines if (m := VIOLATION.search(line))]
        if user is None:
            return found
        return [line for line in found if f'/user:{user}"' in line]


def hub(
    workdir: Path, *, tls: bool = False, extra_env: dict[str, str] | None = None
) -> NatsProcess:
    """The hub from hub.conf (or hub-tls.conf), its JetStream and leaf port made local."""
    conf_dir = workdir / "hub-config"
    conf_dir.mkdir(parents=True)
    for path in NATS_DIR.glob("*.conf"):
        shutil.copy(path, conf_dir / path.name)
    leaf_port = free_port()
    text = (conf_dir / "hub.conf").read_text()
    text = replace_once(
        text, "store_dir: /data/jetstream", f'store_dir: "{workdir / "jetstream"}"', "hub.conf"
    )
    text = replace_once(text, "listen: 0.0.0.0:7422", f"listen: {HOST}:{leaf_port}", "hub.conf")
    (conf_dir / "hub.conf").write_text(text)
    if tls:
        tls_conf = conf_dir / "hub-tls.conf"
        tls_text = replace_once(
            tls_conf.read_text(), "listen: 0.0.0.0:7422", f"listen: {HOST}:{leaf_port}", "hub-tls"
        )
        tls_conf.write_text(tls_text)
    env = {"PATH": "/usr/bin:/bin", **hub_secrets(), **(extra_env or {})}
    config = conf_dir / ("hub-tls.conf" if tls else "hub.conf")
    return NatsProcess("hub", workdir, config, env, leaf_port=leaf_port)


def leaf(workdir: Path, hub_server: NatsProcess, *, ca_file: Path) -> NatsProcess:
    """An editor's leaf node from leaf-editor.conf, linked to `hub_server` over TLS."""
    conf_dir = workdir / "leaf-config"
    conf_dir.mkdir(parents=True)
    config = conf_dir / "leaf-editor.conf"
    shutil.copy(NATS_DIR / "leaf-editor.conf", config)
    user = "france_exemple_a_leaf"
    password = hub_server.env["NATS_EDITOR_FRANCE_EXEMPLE_A_LEAF_PASSWORD"]
    leaf_port = hub_server.leaf_port
    env = {
        "PATH": "/usr/bin:/bin",
        # The hub's certificate names localhost: dial it by that name so the leaf verifies it.
        "SCOPE_HUB_LEAF_URL": f"nats-leaf://{user}:{password}@localhost:{leaf_port}",
        "HUB_CA_FILE": str(ca_file),
        "LOCAL_HARVESTER_PASSWORD": new_password(),
        "EDITOR_STORE_DIR": str(workdir / "leaf-jetstream"),
    }
    return NatsProcess("leaf", workdir, config, env)


def check_config(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`nats-server -t`: parse and validate a configuration without starting."""
    return subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)],
        env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip


def make_test_ca(directory: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1, with openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is required to make the test certificates")
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca-key.pem"
    cert, key, csr = directory / "server.pem", directory / "server-key.pem", directory / "s.csr"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    steps = [
        [openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=Scope test CA"],
        [openssl, "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "1", "-extfile", ext],
    ]  # fmt: skip
    for step in steps:
        subprocess.run([str(a) for a in step], capture_output=True, check=True, timeout=30)
    return {"ca": ca, "cert": cert, "key": key}
