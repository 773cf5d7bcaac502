"""The problem document (RFC 9457)."""

from __future__ import annotations

import msgspec


class InvalidParam(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One rejected query parameter."""

    name: str
    """The parameter, as spelled in the query string."""
    reason: str
    allowed: list[str] | None = None
    """The values it accepts, when they form a list (or the list of known parameters)."""


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An error (RFC 9457 problem details, `application/problem+json`)."""

    type: str
    """A URN naming the kind of problem (`urn:scope:problem:invalid-parameter`), or
    `about:blank` for plain HTTP errors (unknown path, method not allowed)."""
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    """The request path."""
    request_id: str | None = None
    """The `X-Request-Id` of the request, to quote when reporting the problem."""
    invalid_params: list[InvalidParam] = msgspec.field(default_factory=list)
