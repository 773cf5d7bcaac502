"""RFC 9457 problem details: every error the API answers, as `application/problem+json`.

Handlers raise `ProblemError`; the error middleware turns it (and aiohttp's own HTTP errors,
such as 404 for an unknown path) into a problem document. Problem types are URNs listed in
docs/api.md ("Errors"); `title` is fixed per type, `detail` says what happened this time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from scope_search_api.views import InvalidParam, Problem

PROBLEM_CONTENT_TYPE = "application/problem+json"
_PREFIX = "urn:scope:problem:"

INVALID_PARAMETER = _PREFIX + "invalid-parameter"
UNKNOWN_PARAMETER = _PREFIX + "unknown-parameter"
NOT_FOUND = _PREFIX + "not-found"
STORE_UNAVAILABLE = _PREFIX + "store-unavailable"
SOURCES_UNAVAILABLE = _PREFIX + "sources-unavailable"
HTTP_ERROR = "about:blank"
"""aiohttp's own errors (unknown path, method not allowed): RFC 9457 §4.2.1 `about:blank`."""
INTERNAL = _PREFIX + "internal-error"

TITLES = {
    INVALID_PARAMETER: "Invalid query parameter",
    UNKNOWN_PARAMETER: "Unknown query parameter",
    NOT_FOUND: "Resource not found",
    STORE_UNAVAILABLE: "Search store unavailable",
    SOURCES_UNAVAILABLE: "Harvester states unavailable",
    INTERNAL: "Internal error",
}

STORE_RETRY_AFTER = 5
"""Seconds a client should wait after a 503: about one store timeout."""


class ProblemError(Exception):
    """An error answered as a problem document.

    Attributes:
        status: HTTP status.
        type: One of the URNs above.
        detail: What happened, for a human.
        invalid_params: For 400s, each offending parameter with the reason and allowed values.
        headers: Extra response headers (`Retry-After`).
    """

    def __init__(
        self,
        status: int,
        type_: str,
        detail: str,
        *,
        invalid_params: Sequence[InvalidParam] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.type = type_
        self.detail = detail
        self.invalid_params = list(invalid_params)
        self.headers = dict(headers or {})

    def problem(self, instance: str, request_id: str | None, title: str | None = None) -> Problem:
        return Problem(
            type=self.type,
            title=title or TITLES.get(self.type, "Error"),
            status=self.status,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            invalid_params=self.invalid_params,
        )


def invalid(name: str, reason: str, allowed: Sequence[str] | None = None) -> ProblemError:
    """A 400 for one bad parameter, naming it and, when the values are a list, the allowed ones."""
    param = InvalidParam(name=name, reason=reason, allowed=list(allowed) if allowed else None)
    return ProblemError(400, INVALID_PARAMETER, f"{name}: {reason}", invalid_params=[param])


def not_found(what: str) -> ProblemError:
    return ProblemError(404, NOT_FOUND, f"{what} does not exist")


def _unavailable(type_: str, detail: str) -> ProblemError:
    return ProblemError(503, type_, detail, headers={"Retry-After": str(STORE_RETRY_AFTER)})


def store_unavailable(detail: str) -> ProblemError:
    return _unavailable(STORE_UNAVAILABLE, detail)


def sources_unavailable(detail: str) -> ProblemError:
    return _unavailable(SOURCES_UNAVAILABLE, detail)


_encoder = msgspec.json.Encoder()


def encode_problem(problem: Problem) -> bytes:
    return _encoder.encode(problem)
