"""The search API's settings (`SCOPE_API_*` plus the common ones, `SCOPE_STORE` among them)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from scope_shared.config import CommonSettings

DEFAULT_CSV_ROWS = 10_000
"""A CSV export stops after this many rows: 100 store pages of 100, a few MB, a few seconds."""


class ApiSettings(CommonSettings, frozen=True, kw_only=True):
    """Attributes:
    api_host: Interface to listen on; all of them by default, since the API runs in a
        container behind a load balancer.
    api_port: TCP port.
    api_public_url: Base URL the API is reached at (`https://api.example.org`), used in feed
        and `next` links; empty to use the request's own scheme and host.
    api_cors_origins: Front-end origins allowed to call the API from a browser
        (`https://app.example.org`); `*` allows any origin; empty allows none.
    api_store_timeout: Seconds one store (or NATS KV) call may take before the request is
        answered 503. 5 s is far above a healthy search (tens of ms) and below the 30-60 s
        after which browsers, proxies and users give up.
    api_max_csv_rows: Largest CSV export, in rows (see `DEFAULT_CSV_ROWS`).
    api_cache_max_age: Seconds a client or proxy may reuse a search, feed or notice answer:
        notices arrive every few minutes, so one minute of staleness is invisible.
    api_ocds_prefix: The OCDS ocid prefix of releases built from Scope's own procedure ids.
        `ocds-` followed by six characters as the OCDS registry assigns them; the default is a
        placeholder until a prefix is registered for a deployment.
    api_shutdown_timeout: Seconds in-flight requests get to finish on SIGTERM.
    api_gzip_level: ISA-L (igzip) level of compressed answers, 0 (fastest) to 3. A 40 KB
        search page: level 1 gives 5.6 KB in 22 us, where zlib's level 1 took 131 us for 5.8 KB
        and its default level 6 282 us for 4.9 KB.
    """

    api_host: str = "0.0.0.0"  # noqa: S104 - the API is served to the outside by design
    api_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8080
    api_public_url: str = ""
    api_cors_origins: list[str] = msgspec.field(default_factory=list)
    api_store_timeout: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    api_max_csv_rows: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = DEFAULT_CSV_ROWS
    api_cache_max_age: Annotated[int, msgspec.Meta(ge=0)] = 60
    api_ocds_prefix: Annotated[str, msgspec.Meta(pattern="^ocds-[a-z0-9]{6}$")] = "ocds-sc0pe0"
    api_shutdown_timeout: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    api_gzip_level: Annotated[int, msgspec.Meta(ge=0, le=3)] = 1
