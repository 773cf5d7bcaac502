"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

import msgspec

CheckStatus = Literal["ok", "unavailable"]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: Literal["ok"] = "ok"


class ReadinessChecks(msgspec.Struct, frozen=True, kw_only=True):
    store: CheckStatus
    """The search store answered a ping within the store timeout."""
    nats: CheckStatus
    """The NATS connection (used only by /v1/sources) is up."""


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """`ready`: everything answers; `degraded`: the search works but /v1/sources does not
    (NATS down; still HTTP 200); `unavailable`: the store does not answer (HTTP 503)."""

    status: Literal["ready", "degraded", "unavailable"]
    checks: ReadinessChecks
