"""Response helpers: JSON encoding, absolute links, ETag and Cache-Control with 304s."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from aiohttp import web
from aiohttp.helpers import ETag
from multidict import MultiMapping

from scope_search_api.keys import SETTINGS

JSON = "application/json"
_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def base_url(request: web.Request) -> str:
    """`api_public_url` when set (behind a proxy), else the request's scheme and host."""
    public = request.app[SETTINGS].api_public_url
    return public.rstrip("/") if public else f"{request.scheme}://{request.host}"


def notice_path(notice_id: str, suffix: str = "") -> str:
    """The API path of a notice; ids hold `/` (OCDS sources), so they are percent-encoded."""
    return f"/v1/notices/{quote(notice_id, safe=':')}{suffix}"


def absolute(request: web.Request, path: str, query: MultiMapping[str] | None = None) -> str:
    url = base_url(request) + path
    if query:
        url += "?" + urlencode(list(query.items()))
    return url


def _etag(body: bytes) -> str:
    # SHA-256 runs on the CPU's SHA extensions: the fastest digest at hand for 100 KB pages.
    return hashlib.sha256(body).hexdigest()[:32]


def cached(
    request: web.Request,
    body: bytes,
    *,
    content_type: str = JSON,
    charset: str | None = None,
    max_age: int | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A response with a weak ETag over its body and Cache-Control; 304 on a matching
    If-None-Match. Weak, because compression changes the bytes but not the meaning."""
    etag = _etag(body)
    age = request.app[SETTINGS].api_cache_max_age if max_age is None else max_age
    common = {"Cache-Control": f"public, max-age={age}", "Vary": "Accept-Encoding"}
    common.update(headers or {})
    if any(tag.value in {etag, "*"} for tag in request.if_none_match or ()):
        response = web.Response(status=304, headers=common)
    else:
        response = web.Response(
            body=body, content_type=content_type, charset=charset, headers=common
        )
    response.etag = ETag(value=etag, is_weak=True)
    return response


def json_response(
    value: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """An uncached JSON answer (health, sources)."""
    return web.Response(
        body=encode(value),
        status=status,
        content_type=JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
