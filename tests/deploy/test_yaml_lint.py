"""Every YAML file under deploy/ passes yamllint with deploy/.yamllint.yaml, warnings included."""

from __future__ import annotations

from tests.deploy import tools
from tests.deploy.nats_servers import DEPLOY


def test_deploy_yaml_passes_yamllint() -> None:
    files = sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})
    assert len(files) >= 15  # compose, Kubernetes base and overlay, Helm values, kustomizations
    result = tools.run("yamllint", "--strict", "-c", DEPLOY / ".yamllint.yaml", *files)
    assert result.returncode == 0, result.stdout + result.stderr
