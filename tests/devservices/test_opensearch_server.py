"""The OpenSearch node the project starts is complete: the modules Scope needs are loaded."""

from __future__ import annotations

import urllib.request

import msgspec


def _call(url: str, method: str = "GET", body: object | None = None) -> dict[str, object]:
    data = None if body is None else msgspec.json.encode(body)
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, object] = msgspec.json.decode(response.read())
    return result


def test_node_loads_the_modules_scope_needs(opensearch_url: str) -> None:
    nodes = _call(f"{opensearch_url}/_nodes/plugins")["nodes"]
    assert isinstance(nodes, dict)
    (node,) = nodes.values()
    modules = {m["name"] for m in node["modules"]}
    assert {"analysis-common", "lang-painless", "percolator", "reindex", "mapper-extras"} <= modules
    assert node["version"].startswith("2.19.")


def test_french_analyzer_stems_folds_and_drops_stop_words(opensearch_url: str) -> None:
    result = _call(
        f"{opensearch_url}/_analyze",
        "POST",
        {"analyzer": "french", "text": "Les marchés publics de travaux"},
    )
    tokens = [t["token"] for t in result["tokens"]]  # type: ignore[union-attr,index]
    assert tokens == ["march", "public", "traval"]
