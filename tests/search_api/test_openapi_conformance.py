"""schemathesis against the served OpenAPI document: generated requests for every operation,
every response checked (no 5xx, status codes, content types, headers and bodies as documented,
schema-valid requests accepted).

aiohttp is not ASGI, so the app runs for real on loopback (aiohttp's TestServer on its own
event loop in a thread, on the embedded store with the corpus) and schemathesis calls it
over HTTP like any client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import schemathesis
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from scope_search_api.app import create_app
from scope_search_api.openapi import build_openapi
from scope_search_api.settings import ApiSettings
from scope_shared.schema import Notice
from scope_shared.store.embedded import EmbeddedStore
from tests.search_api.conftest import api_settings

MAX_EXAMPLES = 25
"""Per operation: about 15 operations x 25 requests stays under half a minute."""


class ServedApi:
    """The app on a loopback port, served from a thread with its own event loop."""

    def __init__(self, path: Path, corpus: list[Notice], nats_url: str) -> None:
        self.path = path
        self.nats_url = nats_url
        self.corpus = corpus
        self.url = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),))

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        store = EmbeddedStore(self.path)
        await store.setup()
        await store.index(self.corpus)
        settings = api_settings(nats_url=[self.nats_url], nats_connect_timeout=5.0)
        # No aiohttp access log, as the service runs (`service.serve`): the API logs its own.
        server = TestServer(create_app(settings, store=store), host="127.0.0.1")
        await server.start_server(access_log=None)
        self.url = str(server.make_url("")).rstrip("/")
        self._ready.set()
        await self._stop.wait()
        await server.close()
        await store.close()

    def __enter__(self) -> ServedApi:
        self._thread.start()
        assert self._ready.wait(60), "the API did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self._loop.close()


@pytest.fixture(scope="module")
def served_api(
    tmp_path_factory: pytest.TempPathFactory, corpus: list[Notice], nats_url: str
) -> Iterator[str]:
    """The whole deployment: store with the corpus, and NATS (so /v1/sources answers)."""
    path = tmp_path_factory.mktemp("schemathesis") / "store.db"
    with ServedApi(path, corpus, nats_url) as served:
        yield served.url


@pytest.fixture(scope="module")
def api_schema(served_api: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{served_api}/openapi.json")


INVERTED_RANGE = "must not be before (or below)"
FOREIGN_CURSOR = "not a cursor returned by this API"
"""The two documented 400s a schema cannot express: `*_after` later than `*_before` (or
`value_min` above `value_max`), as JSON Schema describes each parameter alone; and a `cursor`
the API did not issue, as a cursor is opaque (any string is schema-valid)."""


def positive_data_accepted_except_inverted_ranges(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """schemathesis' `positive_data_acceptance`, letting through only the inverted-range 400."""
    if response.status_code == 400:
        problem = msgspec.json.decode(response.content)
        reasons = {p["reason"] for p in problem["invalid_params"]}
        if reasons and all(r.startswith((INVERTED_RANGE, FOREIGN_CURSOR)) for r in reasons):
            return None
    return positive_data_acceptance(ctx, response, case)


OPERATIONS = sorted(build_openapi(ApiSettings())["paths"])
"""Every documented path (all are GET): one test per operation, so a failure names it."""


@pytest.mark.parametrize("path", OPERATIONS)
def test_api_conforms_to_its_openapi_document(
    api_schema: schemathesis.BaseSchema, path: str
) -> None:
    # schemathesis' pytest plugin (`from_fixture`) reads a pytest attribute that pytest 9
    # removed, so the operation's Hypothesis strategy is driven directly.
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[positive_data_accepted_except_inverted_ranges],
        )

    check()
