"""Request id, access log, metrics, compression and the error-to-problem mapping.

Order (outermost first): `observe` gives each request its id (`X-Request-Id`, taken from the
client when well-formed), binds it in structlog's context, times the request, logs one
`request_served` event and counts it; `problems` turns every error into a problem document.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import unquote, unquote_to_bytes

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_response import ContentCoding
from isal import isal_zlib

from scope_search_api.keys import METRICS, SETTINGS
from scope_search_api.problems import (
    HTTP_ERROR,
    INTERNAL,
    PROBLEM_CONTENT_TYPE,
    ProblemError,
    encode_problem,
    invalid,
)

# structlog's lazy proxy, resolved at first use: a logger bound at import time (before
# `configure_logging` runs in `main`) would keep structlog's default configuration.
log = structlog.get_logger(component="http")

REQUEST_ID = web.RequestKey("request_id", str)
REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""A client's id is kept only if it is short and safe to log and echo."""
COMPRESS_MIN_BYTES = 1024
"""Below about a kilobyte gzip saves less than its own framing and the CPU it costs."""
LOGGED_QUERY_CHARS = 500


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _route(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "unmatched"


def accepted_coding(request: web.Request) -> ContentCoding | None:
    """gzip when the client accepts it, else deflate, else none (`q=0` refuses a coding)."""
    accepted = set()
    for item in request.headers.get("Accept-Encoding", "").lower().split(","):
        name, _, params = item.strip().partition(";")
        if params.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}:
            accepted.add(name.strip())
    for coding in (ContentCoding.gzip, ContentCoding.deflate):
        if coding.value in accepted:
            return coding
    return None


_WBITS = {
    ContentCoding.gzip: 16 + isal_zlib.MAX_WBITS,
    ContentCoding.deflate: isal_zlib.MAX_WBITS,
}
"""Window bits for each coding: the gzip container, or the zlib one (HTTP `deflate`)."""


def _compress(request: web.Request, response: web.StreamResponse) -> None:
    """Compress a whole response body in place with ISA-L, at the configured level.

    Done here rather than with aiohttp's `enable_compression`, which compresses with zlib at
    its default level 6 and hands bodies over 4 KiB to a thread. ISA-L's deflate (the same
    format, any gzip reader decodes it) at level 1 compresses a 40 KB search page in 22 us
    to 5.6 KB: zlib took 131 us at level 1 (5.8 KB) and 282 us at level 6 (4.9 KB), which was
    an eighth of the API's CPU per search.
    """
    if not isinstance(response, web.Response) or response.prepared:
        return
    body = response.body
    if isinstance(body, bytes) and len(body) >= COMPRESS_MIN_BYTES:
        coding = accepted_coding(request)
        if coding is not None:
            compressor = isal_zlib.compressobj(
                request.app[SETTINGS].api_gzip_level, wbits=_WBITS[coding]
            )
            response.body = compressor.compress(body) + compressor.flush()
            response.headers[hdrs.CONTENT_ENCODING] = coding.value
            if hdrs.ACCEPT_ENCODING not in response.headers.get(hdrs.VARY, ""):
                response.headers.add(hdrs.VARY, hdrs.ACCEPT_ENCODING)


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    start = time.perf_counter()
    status = 499  # stays so when the client goes away before the answer
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
            _compress(request, response)
            return response
        finally:
            duration = time.perf_counter() - start
            route = _route(request)
            metrics = request.app[METRICS]
            labels = (route, request.method, str(status))
            metrics.requests.labels(*labels).inc()
            metrics.latency.labels(*labels).observe(duration)
            log.info(
                "request_served",
                method=request.method,
                path=request.path,
                query=request.query_string[:LOGGED_QUERY_CHARS] or None,
                route=route,
                status=status,
                duration_ms=round(duration * 1000, 2),
            )


async def add_request_id(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """`on_response_prepare` signal: every response, streamed ones too, carries the id."""
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id


def problem_response(
    request: web.Request, error: ProblemError, title: str | None = None
) -> web.Response:
    problem = error.problem(request.path, request.get(REQUEST_ID), title)
    return web.Response(
        body=encode_problem(problem),
        status=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers={"Cache-Control": "no-store", **error.headers},
    )


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        _check_query_encoding(request.rel_url.raw_query_string)
        return await handler(request)
    except ProblemError as error:
        return problem_response(request, error)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        http_error = ProblemError(exc.status, HTTP_ERROR, exc.reason, headers=headers)
        return problem_response(request, http_error, title=exc.reason)
    except Exception:
        log.exception("request_failed")
        internal = ProblemError(500, INTERNAL, "an unexpected error occurred; quote the request id")
        return problem_response(request, internal)


def _check_query_encoding(raw_query: str) -> None:
    """A parameter whose percent-encoded bytes are not UTF-8 (`q=caf%E9`, Latin-1) is a 400:
    decoded as aiohttp does, its bad bytes would silently become U+FFFD and search for
    something else."""
    if "%" not in raw_query:
        return
    for part in raw_query.split("&"):
        try:
            unquote_to_bytes(part.replace("+", " ")).decode()
        except (UnicodeDecodeError, UnicodeEncodeError):
            # Encode: a raw byte that is not UTF-8, which aiohttp's pure-Python parser hands
            # over as a surrogate.
            name = unquote(part.partition("=")[0], errors="replace")
            raise invalid(name, "not UTF-8: percent-encode the text's UTF-8 bytes") from None
