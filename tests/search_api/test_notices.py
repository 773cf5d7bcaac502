"""GET /v1/notices/{id} and its history and procedure, on both stores; then the HTTP layer:
ETag/304, gzip, CORS, request ids, access log, metrics, probes and the documentation."""

from __future__ import annotations

import gzip
from collections import Counter
from typing import Any
from urllib.parse import quote

import jsonschema
import msgspec
import pytest
from aiohttp import hdrs

from scope_search_api.diff import notice_changes
from scope_shared.logging import configure_logging
from scope_shared.schema import Notice
from scope_shared.store import SearchStore, procedure_card
from tests.search_api.conftest import FRONT_END, Client, MakeClient, get_json
from tests.search_api.model import stamp


def _path(notice_id: str, suffix: str = "") -> str:
    return f"/v1/notices/{quote(notice_id, safe=':')}{suffix}"


def _by_procedure(notices: list[Notice]) -> dict[str, list[Notice]]:
    found: dict[str, list[Notice]] = {}
    for notice in notices:
        found.setdefault(notice.procedure_id, []).append(notice)
    return found


async def test_notice_is_the_latest_version_with_links_and_its_procedure(
    api: Client, notices: list[Notice]
) -> None:
    procedures = _by_procedure(notices)
    notice = next(n for n in notices if len(procedures[n.procedure_id]) > 1 and n.source_url)
    body = await get_json(api, _path(notice.id))
    assert body["notice"] == msgspec.to_builtins(notice)
    siblings = sorted(
        (n for n in procedures[notice.procedure_id] if n.id != notice.id),
        key=lambda n: (n.published_at, n.id),
    )
    assert body["procedure"]["procedure_id"] == notice.procedure_id
    assert [r["id"] for r in body["procedure"]["notices"]] == [n.id for n in siblings]
    first = body["procedure"]["notices"][0]
    assert first["url"] == _path(siblings[0].id)
    assert first["published_at"] == stamp(siblings[0].published_at)
    links = body["links"]
    assert links["self"].endswith(_path(notice.id))
    assert links["history"].endswith(_path(notice.id, "/history"))
    assert links["procedure"].endswith(_path(notice.id, "/procedure"))
    assert links["ocds"].endswith(_path(notice.id, "/ocds"))
    assert links["source"] == notice.source_url


async def test_notice_ids_with_a_slash_work_percent_encoded(
    api: Client, notices: list[Notice]
) -> None:
    slashed = [n for n in notices if "/" in n.id]
    assert slashed
    for notice in slashed:
        body = await get_json(api, _path(notice.id))
        assert body["notice"]["id"] == notice.id
        assert "%2F" in body["links"]["self"]


async def test_unknown_notice_is_a_404_problem(api: Client) -> None:
    for suffix in ("", "/history", "/procedure", "/ocds"):
        response = await api.get(_path("france_boamp:does-not-exist", suffix))
        assert response.status == 404
        body = await response.json(content_type="application/problem+json")
        assert body["type"] == "urn:scope:problem:not-found"
        assert "france_boamp:does-not-exist" in body["detail"]


async def test_history_lists_versions_with_field_changes(
    api: Client, corpus: list[Notice], notices: list[Notice]
) -> None:
    versions = Counter(n.id for n in corpus)
    notice_id = max(versions, key=lambda i: (versions[i], i))
    assert versions[notice_id] >= 3
    body = await get_json(api, _path(notice_id, "/history"))
    stored = sorted({n.version: n for n in corpus if n.id == notice_id}.values(),
                    key=lambda n: n.version)  # fmt: skip
    assert body["notice_id"] == notice_id
    assert [v["version"] for v in body["versions"]] == [n.version for n in stored]
    assert body["versions"][0]["changes"] == []
    for index in range(1, len(stored)):
        expected = msgspec.to_builtins(notice_changes(stored[index - 1], stored[index]))
        assert body["versions"][index]["changes"] == expected
        assert expected, "consecutive versions differ in content"
        assert body["versions"][index]["raw_sha256"] == stored[index].raw_sha256
    assert body["versions"][-1]["notice"] == msgspec.to_builtins(
        next(n for n in notices if n.id == notice_id)
    )


async def test_procedure_endpoint_returns_the_card_and_every_notice(
    api: Client, notices: list[Notice]
) -> None:
    procedures = _by_procedure(notices)
    procedure_id = max(procedures, key=lambda p: (len(procedures[p]), p))
    members = procedures[procedure_id]
    assert len(members) >= 2
    body = await get_json(api, _path(members[0].id, "/procedure"))
    card = procedure_card(members)
    assert body["procedure_id"] == procedure_id
    assert body["card"] == msgspec.to_builtins(card)
    ordered = sorted(members, key=lambda n: (n.published_at, n.id))
    assert [n["id"] for n in body["notices"]] == [n.id for n in ordered]


# --- HTTP layer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/v1/notices?cpv=45", _path("france_boamp:26-7109"), _path("france_boamp:26-7109", "/ocds"),
     _path("france_boamp:26-7109", "/history"), "/v1/notices.atom?cpv=45",
     "/v1/notices.rss?cpv=45", "/v1/reference/regions", "/openapi.json"],
)  # fmt: skip
async def test_etag_gives_304_on_if_none_match(embedded_api: Client, path: str) -> None:
    first = await embedded_api.get(path)
    assert first.status == 200
    etag = first.headers[hdrs.ETAG]
    assert etag.startswith('W/"')
    assert first.headers[hdrs.CACHE_CONTROL].startswith("public, max-age=")
    again = await embedded_api.get(path, headers={hdrs.IF_NONE_MATCH: etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers[hdrs.ETAG] == etag
    other = await embedded_api.get(path, headers={hdrs.IF_NONE_MATCH: 'W/"other"'})
    assert other.status == 200


async def test_search_cache_lifetime_follows_the_setting(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await make_client(embedded_store, api_cache_max_age=17)
    response = await client.get("/v1/notices")
    assert response.headers[hdrs.CACHE_CONTROL] == "public, max-age=17"


async def test_responses_are_gzipped_when_the_client_accepts_it(embedded_api: Client) -> None:
    response = await embedded_api.get(
        "/v1/notices", headers={hdrs.ACCEPT_ENCODING: "gzip"}, auto_decompress=False
    )
    assert response.headers[hdrs.CONTENT_ENCODING] == "gzip"
    raw = await response.read()
    body = msgspec.json.decode(gzip.decompress(raw))
    assert len(body["hits"]) == 20
    assert len(raw) < len(gzip.decompress(raw)) / 3
    plain = await embedded_api.get(
        "/v1/notices", headers={hdrs.ACCEPT_ENCODING: "identity"}, auto_decompress=False
    )
    assert hdrs.CONTENT_ENCODING not in plain.headers
    refused = await embedded_api.get(
        "/v1/notices", headers={hdrs.ACCEPT_ENCODING: "gzip;q=0"}, auto_decompress=False
    )
    assert hdrs.CONTENT_ENCODING not in refused.headers
    small = await embedded_api.get(
        "/healthz", headers={hdrs.ACCEPT_ENCODING: "gzip"}, auto_decompress=False
    )
    assert hdrs.CONTENT_ENCODING not in small.headers


async def test_cors_preflight_allows_the_configured_front_end_only(embedded_api: Client) -> None:
    preflight = {
        hdrs.ORIGIN: FRONT_END,
        hdrs.ACCESS_CONTROL_REQUEST_METHOD: "GET",
        hdrs.ACCESS_CONTROL_REQUEST_HEADERS: "If-None-Match",
    }
    response = await embedded_api.options("/v1/notices", headers=preflight)
    assert response.status == 200
    assert response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] == FRONT_END
    assert "GET" in response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS]
    assert "IF-NONE-MATCH" in response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS].upper()
    stranger = await embedded_api.options(
        "/v1/notices", headers={**preflight, hdrs.ORIGIN: "https://evil.example"}
    )
    assert stranger.status == 403
    simple = await embedded_api.get("/v1/notices", headers={hdrs.ORIGIN: FRONT_END})
    assert simple.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] == FRONT_END
    exposed = simple.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS].upper()
    assert {"ETAG", "LINK", "X-REQUEST-ID"} <= {h.strip() for h in exposed.split(",")}
    # The answer depends on the Origin: a shared cache must keep one per origin.
    varies = ",".join(simple.headers.getall(hdrs.VARY)).upper()
    assert "ORIGIN" in {v.strip() for v in varies.split(",")}


async def test_no_cors_headers_without_configured_origins(
    embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await make_client(embedded_store, api_cors_origins=[])
    response = await client.get("/v1/notices", headers={hdrs.ORIGIN: FRONT_END})
    assert hdrs.ACCESS_CONTROL_ALLOW_ORIGIN not in response.headers


@pytest.mark.parametrize(
    ("query", "name"),
    [("q=caf%E9", "q"), ("buyer_name=%FF%FEx", "buyer_name"), ("page_size=1&q=%C3", "q")],
)
async def test_a_parameter_that_is_not_utf8_is_refused(
    embedded_api: Client, query: str, name: str
) -> None:
    """Latin-1 `café` would otherwise search for `caf` (the byte became U+FFFD)."""
    response = await embedded_api.get(f"/v1/notices?{query}")
    assert response.status == 400
    problem = await response.json()
    assert [p["name"] for p in problem["invalid_params"]] == [name]
    assert "UTF-8" in problem["detail"]
    accented = await embedded_api.get("/v1/notices?q=caf%C3%A9")
    assert accented.status == 200


async def test_request_id_is_echoed_or_made_and_logged_once(
    embedded_api: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("search-api", fmt="json")
    capsys.readouterr()
    mine = await embedded_api.get("/v1/notices", headers={"X-Request-Id": "front-42.a"})
    made = await embedded_api.get("/v1/notices?sort=bad")
    unsafe = await embedded_api.get("/healthz", headers={"X-Request-Id": "a b\tc"})
    logs = [msgspec.json.decode(line) for line in capsys.readouterr().err.splitlines()]
    assert mine.headers["X-Request-Id"] == "front-42.a"
    assert len(made.headers["X-Request-Id"]) == 32
    assert (await made.json(content_type=None))["request_id"] == made.headers["X-Request-Id"]
    assert unsafe.headers["X-Request-Id"] != "a b\tc"
    served = [e for e in logs if e["event"] == "request_served"]
    assert [(e["path"], e["status"], e["route"]) for e in served] == [
        ("/v1/notices", 200, "/v1/notices"),
        ("/v1/notices", 400, "/v1/notices"),
        ("/healthz", 200, "/healthz"),
    ]
    assert served[0]["request_id"] == "front-42.a"
    assert served[1]["query"] == "sort=bad"
    assert served[0]["method"] == "GET"
    assert isinstance(served[0]["duration_ms"], float)


async def test_metrics_count_requests_by_route_and_status(embedded_api: Client) -> None:
    await embedded_api.get("/v1/notices")
    await embedded_api.get("/v1/notices?sort=bad")
    await embedded_api.get(_path("france_boamp:26-7109"))
    text = await (await embedded_api.get("/metrics")).text()
    assert (
        'scope_search_api_requests_total{method="GET",route="/v1/notices",status="200"} 1.0' in text
    )
    assert 'route="/v1/notices",status="400"} 1.0' in text
    assert (
        'scope_search_api_requests_total{method="GET",route="/v1/notices/{id}",status="200"}'
        in text
    )
    assert "scope_search_api_request_duration_seconds_bucket" in text
    assert 'scope_search_api_store_duration_seconds_count{operation="search"} 1.0' in text
    # The process itself, as the workers export it: memory, CPU, collections.
    assert "process_resident_memory_bytes" in text
    assert "python_gc_collections_total" in text


async def test_health_and_readiness_report_store_and_nats(embedded_api: Client) -> None:
    assert await get_json(embedded_api, "/healthz") == {"status": "ok"}
    ready = await get_json(embedded_api, "/readyz")
    assert ready == {"status": "degraded", "checks": {"store": "ok", "nats": "unavailable"}}


async def test_openapi_document_and_docs_page_are_served(embedded_api: Client) -> None:
    spec: dict[str, Any] = await get_json(embedded_api, "/openapi.json")
    assert spec["openapi"] == "3.1.0"
    assert {"/v1/notices", "/v1/notices/{id}/ocds", "/v1/sources", "/readyz"} <= set(spec["paths"])
    search = spec["paths"]["/v1/notices"]["get"]
    documented = {p["name"]: p for p in search["parameters"]}
    assert documented["sort"]["schema"]["enum"] == ["relevance", "newest", "deadline", "value"]
    assert documented["page_size"]["schema"]["maximum"] == 100
    assert all(p["description"] for p in search["parameters"])
    assert "SearchPage" in spec["components"]["schemas"]
    # A hit's notice is sent as the store's JSON of it, and documented as the Notice it is.
    hit = spec["components"]["schemas"]["SearchHit"]["properties"]["notice"]
    assert hit == {"$ref": "#/components/schemas/Notice"}
    assert "Notice" in spec["components"]["schemas"]
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    page = await embedded_api.get("/docs")
    html = await page.text()
    assert "/docs/static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    bundle = await embedded_api.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.status == 200
    assert len(await bundle.read()) > 1_000_000
    css = await embedded_api.get("/docs/static/swagger-ui.css")
    assert css.status == 200
