"""GET /v1/sources against a real nats-server, with states written by the harvester's own
StateStore (so the API's reading is checked against the writer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from scope_harvester.state import StateStore
from scope_shared.bus import NatsKeyValue, harvester_state_bucket
from scope_shared.bus.kv import decode_key, encode_key
from scope_shared.schema.harvest import RunCounts, SourceState
from scope_shared.store import SearchStore
from tests.search_api.conftest import Client, MakeClient, get_json

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def _write_states(js: JetStreamContext) -> None:
    bucket = await harvester_state_bucket(js)
    states = StateStore(NatsKeyValue(bucket))
    await states.save(
        SourceState(
            source="france_boamp", kind="france_boamp", status="ok", last_run_id="r2",
            last_run_started_at=NOW - timedelta(minutes=12),
            last_run_finished_at=NOW - timedelta(minutes=10),
            last_success_at=NOW - timedelta(minutes=10),
            last_published_at=NOW - timedelta(hours=2),
            last_run=RunCounts(pages=3, fetched=250, published=240, duplicates=10, requests=3),
            totals=RunCounts(pages=90, fetched=9000, published=8800, duplicates=200, failed=1,
                             requests=95, failed_requests=2),
        )
    )  # fmt: skip
    await states.save(
        SourceState(
            source="france_megalis", kind="rss_feed", status="failed",
            last_error="HTTP 503 from marches.megalis.bretagne.bzh",
            last_error_at=NOW - timedelta(minutes=1),
        )
    )  # fmt: skip
    await states.save_cursor("france_boamp", "live", "2026-11-29T10:00:00Z")
    await states.save_cursor("france_boamp", "backfill", "2019-01-01")
    await bucket.put(encode_key("junk"), b"not json")


async def _client(make_client: MakeClient, store: SearchStore, nats_url: str) -> Client:
    return await make_client(
        store, clock=lambda: NOW, nats_url=[nats_url], nats_connect_timeout=5.0
    )


async def test_sources_lists_each_harvester_state_with_lag_and_counts(
    js: JetStreamContext, nats_url: str, embedded_store: SearchStore, make_client: MakeClient
) -> None:
    await _write_states(js)
    client = await _client(make_client, embedded_store, nats_url)
    body = await get_json(client, "/v1/sources")
    assert body["checked_at"] == "2026-11-29T12:00:00Z"
    assert [s["source"] for s in body["sources"]] == ["france_boamp", "france_megalis"]
    boamp, megalis = body["sources"]
    assert boamp["status"] == "ok"
    assert boamp["kind"] == "france_boamp"
    assert boamp["lag_seconds"] == 7200.0
    assert boamp["last_success_at"] == "2026-11-29T11:50:00Z"
    assert boamp["last_run"]["published"] == 240
    assert boamp["totals"] == {"pages": 90, "fetched": 9000, "published": 8800,
                               "duplicates": 200, "failed": 1, "rejected": 0, "requests": 95,
                               "failed_requests": 2}  # fmt: skip
    assert megalis["status"] == "failed"
    assert megalis["kind"] == "rss_feed"
    assert megalis["last_error"] == "HTTP 503 from marches.megalis.bretagne.bzh"
    assert megalis["lag_seconds"] is None
    ready = await get_json(client, "/readyz")
    assert ready == {"status": "ready", "checks": {"store": "ok", "nats": "ok"}}


async def test_sources_is_empty_when_no_harvester_ran(
    js: JetStreamContext, nats_url: str, embedded_store: SearchStore, make_client: MakeClient
) -> None:
    client = await _client(make_client, embedded_store, nats_url)
    assert (await get_json(client, "/v1/sources"))["sources"] == []


async def test_sources_is_a_503_problem_without_nats_while_search_works(
    embedded_api: Client,
) -> None:
    response = await embedded_api.get("/v1/sources")
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    body = await response.json(content_type="application/problem+json")
    assert body["type"] == "urn:scope:problem:sources-unavailable"
    assert (await embedded_api.get("/v1/notices")).status == 200


def test_state_keys_decode_as_the_bus_encodes_them() -> None:
    for key in ("france_boamp", "france_boamp.cursor.live", "a:b/c"):
        assert decode_key(encode_key(key)) == key
    assert decode_key("%%%") is None
