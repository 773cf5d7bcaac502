"""Building an OpenSearch home with Scope's modules from Maven Central, once per version.

Only the `integ-test-zip` distribution is published on Maven Central, and in 2.19 it ships the
`transport-netty4` module alone; the modules Scope relies on are published as plain jars. The
result is cached under the cache directory and never modified afterwards.
"""

from __future__ import annotations

import hashlib
import json  # noqa: TID251 - the marker is read before the node (and any schema) exists
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from scope_shared.devservices.opensearch.modules import (
    MODULES,
    OPENSEARCH_VERSION,
    ModuleSpec,
    descriptor,
)
from scope_shared.logging import get_logger

log = get_logger(component="opensearch")

MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
"""Pinned: Maven 3.8.7's super-POM default (2.8) cannot run `copy` without a project."""

DISTRIBUTION_ARTIFACT = (
    f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
)
JAVA_VERSIONS = range(17, 22)
"""OpenSearch 2.19 supports Java 17 and 21; Java 24+ removed the Security Manager it needs."""
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
INSTALL_MARKER = ".scope-install.json"


def install(root: Path) -> Path:
    """An OpenSearch home under `root` with Scope's modules, assembled once per version."""
    home = root / "home"
    if _read_marker(home) == _install_fingerprint():
        return home
    artifacts = root / "artifacts"
    zip_path = _maven_copy(DISTRIBUTION_ARTIFACT, artifacts)
    jars = {a: _maven_copy(a, artifacts) for m in MODULES for a in m.artifacts}
    staging = root / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    log.info("opensearch_assembling", version=OPENSEARCH_VERSION, home=str(home))
    staged_home = _extract_zip(zip_path, staging)
    for module in MODULES:
        _assemble_module(staged_home, module, [jars[a] for a in module.artifacts])
    _write_marker(staged_home)
    shutil.rmtree(home, ignore_errors=True)
    staged_home.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    return home


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
        log.debug("java_skipped", java_home=str(home), version=major)
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
    log.info("artifact_downloading", coordinates=coordinates)
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
    (folder / "plugin-descriptor.properties").write_text(descriptor(module))
    if module.security_policy is not None:
        (folder / "plugin-security.policy").write_text(module.security_policy)
    for path in folder.iterdir():
        path.chmod(0o644)


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
