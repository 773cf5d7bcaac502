"""A local replay of the TED Search API v3 and of TED's notice XML, from real recorded data.

Notices: the two of the stored real response (`europe_ted/api/`, the same notice twice, as
recorded), then one per published XML sample (`eforms-published/`, `r2.0.9/`) shaped like the
recorded notice: the recorded `links` with the sample's publication number in place of the
recorded one, `publication-number` and `ND` read from the XML, and `PD` (the OJ S day at
midnight in Brussels, written in UTC as the recorded `PD` is). Derived notices have no `RN`.
Each sample's XML is served at its notice's `links.xml.MUL`, rewritten to this server; the
recorded notice has no stored XML, so its link answers 404.

`POST /v3/notices/search` follows FORMATS.md: unknown body keys, `limit` over 250, a bad
`scope` or `paginationMode` are HTTP 400; `PAGE_NUMBER` mode (default) stops at 15,000 notices;
`ITERATION` mode pages with opaque tokens, each valid for its own iteration. The error body's
shape is not recorded: here `{"message": ...}`. Stricter than known: `fields` must be a
non-empty list and `page` is refused in ITERATION mode. A notice holds the requested fields it
has, plus `publication-number` and `links`, as in the recorded response.

Query subset understood: clauses joined by `AND`, optionally grouped in parentheses;
`publication-date` compared (`>=`, `<=`, `>`, `<`, `=`) with `YYYYMMDD` filters on the OJ S day;
any other clause (`buyer-country=FRA`, a group holding `OR`/`NOT`) is accepted and does not
filter, since the recorded notices do not carry those fields.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from scope_shared.devservices.replay.faults import Faults
from scope_shared.documents import eforms, ted

SEARCH_PATH = "/v3/notices/search"
MAX_LIMIT = 250
PAGE_NUMBER_CAP = 15_000
TED_SITE = "https://ted.europa.eu"
BODY_KEYS = frozenset(
    {"query", "fields", "page", "limit", "scope", "paginationMode", "iterationNextToken",
     "onlyLatestVersions", "checkQuerySyntax"}
)  # fmt: skip
ALWAYS = ("publication-number", "links")
_DATE_CLAUSE = re.compile(r"^publication-date\s*(>=|<=|>|<|=)\s*(\d{8})$")
_COMPARE = {
    ">=": date.__ge__, "<=": date.__le__, ">": date.__gt__, "<": date.__lt__, "=": date.__eq__,
}  # fmt: skip


@dataclass
class Notice:
    fields: dict[str, Any]
    day: date
    xml: bytes | None = None


@dataclass
class _Iteration:
    notices: list[Notice]
    fields: list[str]
    limit: int


class BadRequestError(Exception):
    pass


@dataclass
class TedReplay:
    notices: list[Notice]
    faults: Faults = field(default_factory=Faults)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    xml_requests: list[str] = field(default_factory=list)
    _iterations: dict[str, tuple[_Iteration, int]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.faults.middleware])
        app.router.add_post(SEARCH_PATH, self.search)
        app.router.add_get("/en/notice/{number}/xml", self.xml)
        return app

    async def xml(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        self.xml_requests.append(number)
        for notice in self.notices:
            if notice.fields["publication-number"] == number and notice.xml is not None:
                return web.Response(body=notice.xml, content_type="application/xml")
        return web.Response(status=404, text="notice not found")

    async def search(self, request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read())
            self.bodies.append(body)
            page = self._answer(body)
        except (msgspec.DecodeError, BadRequestError) as exc:
            return web.json_response({"message": str(exc)}, status=400)
        origin = str(request.url.origin())
        return web.Response(
            body=msgspec.json.encode(page).replace(TED_SITE.encode(), origin.encode()),
            content_type="application/json",
        )

    def _answer(self, body: object) -> dict[str, Any]:
        body = _validated(body)
        fields, limit = body["fields"], body.get("limit", 10)
        if body.get("paginationMode", "PAGE_NUMBER") == "PAGE_NUMBER":
            page = body.get("page", 1)
            if not isinstance(page, int) or page < 1:
                raise BadRequestError("page must be a positive integer")
            if page * limit > PAGE_NUMBER_CAP:
                raise BadRequestError("PAGE_NUMBER mode is limited to 15000 notices")
            matching = self._matching(body["query"])
            chunk = matching[(page - 1) * limit : page * limit]
            return _page(chunk, fields, len(matching), None)
        token = body.get("iterationNextToken")
        if token is None:
            iteration = _Iteration(self._matching(body["query"]), fields, limit)
            offset = 0
        elif token in self._iterations:
            iteration, offset = self._iterations[token]
        else:
            raise BadRequestError("unknown iterationNextToken")
        chunk = iteration.notices[offset : offset + iteration.limit]
        next_offset = offset + len(chunk)
        next_token = None
        if next_offset < len(iteration.notices):
            next_token = secrets.token_urlsafe(24)
            self._iterations[next_token] = (iteration, next_offset)
        return _page(chunk, iteration.fields, len(iteration.notices), next_token)

    def _matching(self, query: str) -> list[Notice]:
        tests = _date_tests(query)
        return [n for n in self.notices if all(_COMPARE[op](n.day, day) for op, day in tests)]


def _validated(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequestError("the body is not an object")
    unknown = set(body) - BODY_KEYS
    if unknown:
        raise BadRequestError(f"unknown properties: {sorted(unknown)}")
    if not isinstance(body.get("query"), str):
        raise BadRequestError("query is required")
    fields = body.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise BadRequestError("fields must be a non-empty list of field names")
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise BadRequestError(f"limit must be between 1 and {MAX_LIMIT}")
    if body.get("scope", "ALL") not in ("ALL", "ACTIVE", "LATEST"):
        raise BadRequestError("scope must be ALL, ACTIVE or LATEST")
    mode = body.get("paginationMode", "PAGE_NUMBER")
    if mode not in ("PAGE_NUMBER", "ITERATION"):
        raise BadRequestError("paginationMode must be PAGE_NUMBER or ITERATION")
    if mode == "ITERATION" and "page" in body:
        raise BadRequestError("page is not used in ITERATION mode")
    if not isinstance(body.get("onlyLatestVersions", False), bool):
        raise BadRequestError("onlyLatestVersions must be a boolean")
    return body


def _page(
    notices: list[Notice], fields: list[str], total: int, token: str | None
) -> dict[str, Any]:
    wanted = set(fields) | set(ALWAYS)
    shown = [{k: v for k, v in n.fields.items() if k in wanted} for n in notices]
    return {"notices": shown, "totalNoticeCount": total, "iterationNextToken": token}


def _date_tests(query: str) -> list[tuple[str, date]]:
    """The publication-date comparisons of the top-level AND clauses (and of AND-only groups)."""
    tests = []
    for clause in _and_clauses(query):
        if clause.startswith("(") and clause.endswith(")"):
            inner = clause[1:-1]
            if not re.search(r"\b(OR|NOT)\b", inner):
                tests.extend(_date_tests(inner))
        elif match := _DATE_CLAUSE.match(clause):
            op, text = match.groups()
            tests.append((op, datetime.strptime(text, "%Y%m%d").replace(tzinfo=UTC).date()))
    return tests


def _and_clauses(query: str) -> list[str]:
    """Split on AND outside parentheses."""
    clauses, depth, start = [], 0, 0
    for match in re.finditer(r"\(|\)|\bAND\b", query):
        token = match.group()
        depth += {"(": 1, ")": -1}.get(token, 0)
        if token == "AND" and depth == 0:  # noqa: S105 - a query keyword, not a secret
            clauses.append(query[start : match.start()].strip())
            start = match.end()
    clauses.append(query[start:].strip())
    return [c for c in clauses if c]


def load_notices(fixtures: Path) -> list[Notice]:
    """The recorded response's notices, then one per published XML sample (see module doc)."""
    recorded = msgspec.json.decode(
        (fixtures / "api/ted_api_v3_search_response_fixture.json").read_bytes()
    )
    notices = [Notice(n, _day(n["PD"])) for n in recorded["notices"]]
    template = recorded["notices"][0]
    for path in sorted((fixtures / "eforms-published").glob("*.xml")):
        notices.append(_derived(template, path.read_bytes(), eforms.split_eforms))
    for path in sorted((fixtures / "r2.0.9").glob("*.xml")):
        notices.append(_derived(template, path.read_bytes(), ted.split_ted_export))
    return notices


def _derived(template: dict[str, Any], xml: bytes, split: Any) -> Notice:
    (item,) = split(xml)
    number = item.source_id
    links = msgspec.json.decode(
        msgspec.json.encode(template["links"]).replace(
            template["publication-number"].encode(), number.encode()
        )
    )
    day = item.published_at.astimezone(ted.OJ_ZONE).date()
    pd = ted.oj_day_start(f"{day:%Y%m%d}")
    assert pd is not None
    fields = {
        "PD": pd.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publication-number": number,
        "ND": number,
        "links": links,
    }
    return Notice(fields, day, xml)


def _day(pd: str) -> date:
    found = ted.api_datetime(pd)
    assert found is not None
    return found.astimezone(ted.OJ_ZONE).date()
