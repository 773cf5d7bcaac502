"""Bad input: every parameter answers 400 problem+json naming it and what it accepts; unknown
parameters are rejected on every endpoint; bounds are enforced before the store is asked."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from multidict import MultiDict

from scope_search_api.cursor import fingerprint
from scope_search_api.param_table import FILTER_PARAMS, MAX_VALUES, PAGE_PARAMS, Param
from scope_search_api.params import parse_all, parse_datetime, search_query
from scope_search_api.problems import ProblemError
from scope_shared.reference import departments, regions
from scope_shared.schema import ContractNature, NoticeStatus, NoticeType, ProcedureType
from scope_shared.store import FACETS
from tests.search_api.conftest import Client

PROBLEM = "application/problem+json"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
INVALID = "urn:scope:problem:invalid-parameter"

BAD_VALUES: dict[str, tuple[str, list[str] | None]] = {
    "q": ("x" * 501, None),
    "cpv": ("4", None),
    "department": ("99", [d.code for d in departments()]),
    "region": ("99", [r.code for r in regions()]),
    "nuts": ("F1", None),
    "buyer": ("b" * 201, None),
    "buyer_name": ("b" * 513, None),
    "source": ("France-BOAMP", None),
    "notice_type": ("tender", [t.value for t in NoticeType]),
    "procedure_type": ("mapa", [t.value for t in ProcedureType]),
    "contract_nature": ("goods", [t.value for t in ContractNature]),
    "status": ("open", [t.value for t in NoticeStatus]),
    "open": ("yes", ["true", "false"]),
    "published_after": ("2026-13-01", None),
    "published_before": ("yesterday", None),
    "deadline_after": ("01/02/2026", None),
    "deadline_before": ("2026-02-30", None),
    "value_min": ("-1", None),
    "value_max": ("lots", None),
    "sort": ("oldest", ["relevance", "newest", "deadline", "value"]),
    "page_size": ("101", None),
    "cursor": ("not-a-cursor", None),
    "facets": ("cpv", list(FACETS)),
    "facet_size": ("0", None),
    "highlight": ("maybe", ["true", "false"]),
    "group": ("buyer", ["procedure"]),
}


def test_every_search_parameter_has_a_bad_value_case() -> None:
    assert set(BAD_VALUES) == {p.name for p in FILTER_PARAMS + PAGE_PARAMS}


async def _problem(client: Client, path: str, params: Any, status: int = 400) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status == status
    assert response.content_type == PROBLEM
    body: dict[str, Any] = msgspec.json.decode(await response.read())
    assert body["status"] == status
    assert body["instance"] == path
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
async def test_bad_value_is_a_problem_naming_the_parameter(embedded_api: Client, name: str) -> None:
    value, allowed = BAD_VALUES[name]
    body = await _problem(embedded_api, "/v1/notices", {name: value})
    assert body["type"] == INVALID
    assert body["title"] == "Invalid query parameter"
    [param] = body["invalid_params"]
    assert param["name"] == name
    assert body["detail"].startswith(f"{name}: ")
    assert param.get("allowed") == allowed


@pytest.mark.parametrize("path", ["/v1/notices", "/v1/notices.atom", "/v1/notices.rss",
                                  "/v1/notices.csv", "/v1/reference/cpv"])  # fmt: skip
async def test_bad_value_on_other_endpoints_is_a_problem_too(
    embedded_api: Client, path: str
) -> None:
    body = await _problem(embedded_api, path, {"q": "x" * 501})
    assert body["invalid_params"][0]["name"] == "q"


@pytest.mark.parametrize(
    "path",
    ["/v1/notices", "/v1/notices.atom", "/v1/notices.rss", "/v1/notices.csv", "/v1/sources",
     "/v1/notices/france_boamp:26-7109", "/v1/notices/france_boamp:26-7109/history",
     "/v1/notices/france_boamp:26-7109/ocds", "/v1/notices/france_boamp:26-7109/procedure",
     "/v1/reference/cpv", "/v1/reference/regions", "/v1/reference/departments", "/healthz",
     "/readyz", "/openapi.json", "/docs"],
)  # fmt: skip
async def test_unknown_parameter_is_rejected_with_the_known_ones(
    embedded_api: Client, path: str
) -> None:
    body = await _problem(embedded_api, path, {"sortt": "newest"})
    assert body["type"] == "urn:scope:problem:unknown-parameter"
    assert body["invalid_params"][0]["name"] == "sortt"
    assert body["invalid_params"][0]["reason"] == "unknown parameter"
    assert "sortt" not in body["invalid_params"][0]["allowed"]


async def test_unknown_parameter_lists_every_known_search_parameter(embedded_api: Client) -> None:
    body = await _problem(embedded_api, "/v1/notices", {"pagesize": "5"})
    assert body["invalid_params"][0]["allowed"] == sorted(
        p.name for p in FILTER_PARAMS + PAGE_PARAMS
    )


async def test_single_valued_parameter_given_twice_is_rejected(embedded_api: Client) -> None:
    body = await _problem(embedded_api, "/v1/notices", [("sort", "newest"), ("sort", "value")])
    assert body["invalid_params"][0]["name"] == "sort"
    assert "more than once" in body["invalid_params"][0]["reason"]


async def test_too_many_values_for_one_parameter_are_rejected(embedded_api: Client) -> None:
    codes = ",".join(f"{n:02d}" for n in range(10, 10 + MAX_VALUES + 1))
    body = await _problem(embedded_api, "/v1/notices", {"cpv": codes})
    assert body["invalid_params"][0] == {"name": "cpv", "reason": f"at most {MAX_VALUES} values"}


async def test_inverted_ranges_are_rejected(embedded_api: Client) -> None:
    for low, high, a, b in (
        ("published_after", "published_before", "2020-01-02", "2020-01-01"),
        ("deadline_after", "deadline_before", "2020-01-02", "2020-01-01"),
        ("value_min", "value_max", "10", "9"),
    ):
        body = await _problem(embedded_api, "/v1/notices", {low: a, high: b})
        assert body["invalid_params"][0]["name"] == high


async def test_cursor_of_another_query_is_rejected(embedded_api: Client) -> None:
    first = await (await embedded_api.get("/v1/notices", params={"cpv": "45"})).json()
    body = await _problem(
        embedded_api, "/v1/notices", {"cpv": "72", "cursor": first["next_cursor"]}
    )
    assert body["invalid_params"][0]["name"] == "cursor"
    assert "another query" in body["invalid_params"][0]["reason"]
    same = await embedded_api.get(
        "/v1/notices", params={"cpv": "45", "cursor": first["next_cursor"], "page_size": "50"}
    )
    assert same.status == 200


async def test_well_formed_cursor_the_store_cannot_read_is_rejected(embedded_api: Client) -> None:
    forged = msgspec.json.encode(["garbage", fingerprint(search_query(_parse([]), NOW)), None])
    text = base64.urlsafe_b64encode(forged).decode().rstrip("=")
    body = await _problem(embedded_api, "/v1/notices", {"cursor": text})
    assert body["invalid_params"][0]["name"] == "cursor"


async def test_unknown_path_and_method_are_problems(embedded_api: Client) -> None:
    body = await _problem(embedded_api, "/v1/nothing", None, status=404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    response = await embedded_api.post("/v1/notices")
    assert response.status == 405
    assert response.content_type == PROBLEM
    assert "GET" in response.headers["Allow"]


async def test_cpv_reference_requires_q(embedded_api: Client) -> None:
    body = await _problem(embedded_api, "/v1/reference/cpv", None)
    assert body["invalid_params"][0]["name"] == "q"


# --- the parser alone --------------------------------------------------------------------------


def _parse(
    params: list[tuple[str, str]], table: tuple[Param, ...] = FILTER_PARAMS + PAGE_PARAMS
) -> dict[str, Any]:
    return parse_all(MultiDict(params), table)


def test_repeated_and_comma_separated_values_are_the_same_filter() -> None:
    assert _parse([("cpv", "45,72"), ("cpv", "72, 48")])["cpv"] == ["45", "72", "48"]
    assert _parse([("nuts", "frk26")])["nuts"] == ["FRK26"]
    assert _parse([("cpv", "45233140-2")])["cpv"] == ["45233140"]


def test_dates_accept_days_and_instants_in_utc() -> None:
    assert parse_datetime("x", "2026-03-01").isoformat() == "2026-03-01T00:00:00+00:00"
    assert parse_datetime("x", "2026-03-01T12:30:00+02:00").isoformat() == (
        "2026-03-01T10:30:00+00:00"
    )
    assert parse_datetime("x", "2026-03-01T12:30:00").isoformat() == "2026-03-01T12:30:00+00:00"
    assert parse_datetime("x", "2026-03-01t12:30:00z").isoformat() == "2026-03-01T12:30:00+00:00"
    # To the millisecond, as OpenSearch reads a bound (the embedded store read microseconds).
    assert parse_datetime("x", "2026-01-20T23:00:00.000599Z").isoformat() == (
        "2026-01-20T23:00:00+00:00"
    )
    assert parse_datetime("x", "2026-01-20T23:00:00.123456Z").microsecond == 123000
    with pytest.raises(ProblemError):
        parse_datetime("x", "2026-03-01 noon")
    # Valid ISO 8601, but out of range once in UTC: a 400 naming the parameter, not a 500.
    for text in ("9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"):
        with pytest.raises(ProblemError, match="out of range"):
            parse_datetime("x", text)


def test_default_sort_is_relevance_with_q_and_newest_without() -> None:
    now = NOW
    assert search_query(_parse([("q", "école")]), now).sort == "relevance"
    assert search_query(_parse([]), now).sort == "newest"
    query = search_query(_parse([("open", "true"), ("q", "  a   b ")]), now)
    assert (query.open_only, query.now, query.q) == (True, now, "a b")
    assert search_query(_parse([("open", "false")]), now).now is None


async def test_control_characters_in_free_text_are_rejected(embedded_api: Client) -> None:
    for name in ("q", "buyer"):
        body = await _problem(embedded_api, "/v1/notices.atom", {name: "travaux\x01"})
        assert body["invalid_params"][0] == {
            "name": name, "reason": "control characters are not allowed",
        }  # fmt: skip


@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("oeuvre", "92310000"),  # d'œuvres artistiques, typed without the ligature
        ("45233140-2", "45233140"),  # the check-digit form the API itself writes
        ("45", "45000000"),  # a code's start: the division first, not 14500000
        ("4523 routes", "45230000"),
    ],
)
async def test_cpv_reference_finds_what_people_type(
    embedded_api: Client, q: str, first: str
) -> None:
    response = await embedded_api.get("/v1/reference/cpv", params={"q": q})
    assert response.status == 200
    codes = [entry["code"] for entry in (await response.json())["items"]]
    assert codes and codes[0] == first, codes
    if q[:1].isdigit():
        prefix = q.split(maxsplit=1)[0].split("-", maxsplit=1)[0]
        assert all(code.startswith(prefix) for code in codes)
