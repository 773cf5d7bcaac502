"""OCDS API harvester against a local paged replay of real recorded OCDS packages.

The releases and records are real (tests/fixtures/ocds/, see PROVENANCE.md); the paging by
`links.next` is the replay's own (tests/support/replay/ocds.py), since no paged OCDS API was
recorded.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import msgspec
import pytest
from aiohttp import web
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from scope_harvester.base import Window
from scope_harvester.http import PoliteClient
from scope_harvester.settings import SourceConfig
from scope_harvester.sources.ocds_api import OcdsApi
from scope_harvester.state import StateStore
from scope_shared.devservices.replay.faults import Faults
from scope_shared.devservices.replay.ocds import PACKAGES_PATH, OcdsReplay, load_package
from scope_shared.errors import ConfigError, PermanentError
from scope_shared.schema import RawFormat
from tests.harvester.conftest import FAST, HarvestFn
from tests.support.bus import published_ids, published_raws

OCDS = Path(__file__).parents[1] / "fixtures/ocds"
MEXICO = load_package(OCDS / "release-package-1.json")
PARAGUAY = load_package(OCDS / "release-package_1.1-2.json")
FRANCE = load_package(OCDS / "decp-rama_001_marche_simple.expected-ocds.json")
MEXICO_RECORD = load_package(OCDS / "record-package-1.json")
LINKED_RECORD = load_package(OCDS / "fictional-1.1_record_ocds-213czf-000-00001.json")

RELEASE_IDS = sorted(
    [
        "OCDS-87SD3T-AD-SF-DRM-063-2015/01",
        "OCDS-87SD3T-AD-SF-DRM-063-2015/02",
        "ocds-03ad3f-246807/246807-11-setiembre-srl-4-contract",
        "ocds-78apv2-200013183000212018MAPA20180500/ocds-78apv2-200013183000212018MAPA20180500-00",
    ]
)
ONE_PER_PAGE = 1
"""Mexico's two releases on pages 1 and 2, Paraguay's on page 3, France's on page 4."""
PARAGUAY_PAGE = 3


def _page(url: str, number: int) -> str:
    return f"{url}{PACKAGES_PATH}" + ("" if number == 1 else f"?page={number}")


async def test_every_release_published_once_across_pages_and_cursor_on_last_page(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = OcdsReplay([MEXICO, PARAGUAY, FRANCE], ONE_PER_PAGE, latin1_pages={PARAGUAY_PAGE})
    url = await serve(replay.app())
    report = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert report.status == "ok"
    assert (report.counts.pages, report.counts.published, report.counts.duplicates) == (4, 4, 0)
    assert [q.get("page") for q in replay.queries] == [None, "2", "3", "4"]
    assert replay.served_latin1 == [PARAGUAY_PAGE]
    raws = await published_raws(js)
    assert sorted(r.source_id for r in raws) == RELEASE_IDS
    assert {r.format for r in raws} == {RawFormat.OCDS_RELEASE}
    # The ISO-8859-1 page was transcoded: the release is the recorded one, accents intact.
    paraguay = next(r for r in raws if r.source_id.startswith("ocds-03ad3f"))
    assert paraguay.payload is not None
    assert msgspec.json.decode(paraguay.payload) == PARAGUAY["releases"][0]
    package = msgspec.json.decode(paraguay.attributes["package"])
    assert package["publisher"]["name"] == PARAGUAY["publisher"]["name"]
    assert await states.cursor("world_ocds", "live") == _page(url, 4)


async def test_rerun_fetches_only_the_last_page_and_follows_what_was_added(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    # Two per page: Mexico's first release alone on page 1, its second withheld for now.
    replay = OcdsReplay([MEXICO, PARAGUAY], per_page=2)
    second, paraguay = replay.entries.pop(1), replay.entries.pop()
    url = await serve(replay.app())
    first = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert (first.counts.pages, first.counts.published) == (1, 1)
    assert await states.cursor("world_ocds", "live") == _page(url, 1)

    unchanged = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert (unchanged.counts.published, unchanged.counts.duplicates) == (0, 1)

    replay.append(second)  # the publisher appends to its last page...
    replay.append(paraguay)  # ...and adds a page after it.
    replay.queries.clear()
    grown = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert [q.get("page") for q in replay.queries] == [None, "2"]
    assert (grown.counts.published, grown.counts.duplicates) == (2, 1)
    assert await states.cursor("world_ocds", "live") == _page(url, 2)

    replay.queries.clear()
    again = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert [q.get("page") for q in replay.queries] == ["2"]
    assert (again.counts.published, again.counts.duplicates) == (0, 1)
    assert await published_ids(js) == RELEASE_IDS[:3]  # Mexico and Paraguay, not France


async def test_record_package_linked_releases_are_skipped_and_counted(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = OcdsReplay([MEXICO_RECORD, LINKED_RECORD], per_page=1)
    url = await serve(replay.app())
    sample = "scope_harvester_ocds_releases_skipped_total"
    labels = {"source": "world_records", "reason": "linked"}
    before = REGISTRY.get_sample_value(sample, labels) or 0.0
    with capture_logs() as logs:
        report = await harvest(OcdsApi, _page(url, 1), name="world_records")
    assert report.status == "ok"
    assert (report.counts.pages, report.counts.published) == (2, 2)
    # The linked record yields its compiled release; its six linked releases are counted.
    assert await published_ids(js) == [
        "ocds-07smqs-993235/993235",
        "ocds-213czf-000-00001/ocds-213czf-000-00001-2011-01-10T09:30:00Z",
    ]
    skipped = [e for e in logs if e["event"] == "releases_skipped"]
    assert [(e["url"], e["count"], e["reasons"]) for e in skipped] == [
        (_page(url, 2), 6, {"linked": 6})
    ]
    assert REGISTRY.get_sample_value(sample, labels) == before + 6


async def test_since_window_is_sent_as_the_publishers_parameter(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = OcdsReplay([MEXICO, PARAGUAY, FRANCE], ONE_PER_PAGE)
    url = await serve(replay.app())
    report = await harvest(
        OcdsApi,
        _page(url, 1),
        name="world_ocds",
        window=Window(since=date(2017, 1, 1)),
        options={"since_parameter": "since"},
    )
    # Mexico's 2015 release is filtered out at the source; the others are on 3 pages.
    assert [q.get("since") for q in replay.queries] == ["2017-01-01"] * 3
    assert report.counts.published == 3
    assert await published_ids(js) == [i for i in RELEASE_IDS if not i.endswith("/01")]
    cursor = await states.cursor("world_ocds", "live")
    assert cursor == f"{url}{PACKAGES_PATH}?since=2017-01-01&page=3"


async def test_max_pages_bounds_a_run_and_the_next_run_continues(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = OcdsReplay([MEXICO, PARAGUAY, FRANCE], ONE_PER_PAGE)
    url = await serve(replay.app())
    options = {"max_pages": 2}
    first = await harvest(OcdsApi, _page(url, 1), name="world_ocds", options=options)
    assert (first.counts.pages, first.counts.published) == (2, 2)
    assert await states.cursor("world_ocds", "live") == _page(url, 2)
    second = await harvest(OcdsApi, _page(url, 1), name="world_ocds", options=options)
    assert (second.counts.published, second.counts.duplicates) == (1, 1)
    third = await harvest(OcdsApi, _page(url, 1), name="world_ocds", options=options)
    assert (third.counts.published, third.counts.duplicates) == (1, 1)
    assert await published_ids(js) == RELEASE_IDS
    assert await states.cursor("world_ocds", "live") == _page(url, 4)


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "truncated", "cut", "reset"])
async def test_transient_fault_is_retried_and_nothing_lost(
    fault: str, serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults(stall_seconds=3.0)
    # aiohttp retries a reset kept-alive connection once by itself (see test_france_boamp).
    faults.inject("ok", fault, *(["reset"] if fault == "reset" else []))
    replay = OcdsReplay([MEXICO, PARAGUAY, FRANCE], ONE_PER_PAGE, faults=faults)
    url = await serve(replay.app())
    report = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert report.status == "ok"
    assert (report.counts.published, report.counts.failed_requests) == (4, 1)
    assert await published_ids(js) == RELEASE_IDS


async def test_publisher_that_keeps_failing_fails_the_run_and_keeps_the_cursor(
    serve, harvest: HarvestFn, states: StateStore
) -> None:
    faults = Faults()
    faults.inject(*["503"] * 50)
    url = await serve(OcdsReplay([MEXICO], ONE_PER_PAGE, faults=faults).app())
    await states.save_cursor("world_ocds", "live", _page(url, 2))
    report = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert report.status == "failed"
    assert report.error is not None and "HTTP 503" in report.error
    assert faults.served[0] == "503"
    assert await states.cursor("world_ocds", "live") == _page(url, 2)


async def test_json_answer_that_is_no_package_fails_the_run_without_retrying(
    serve, harvest: HarvestFn
) -> None:
    requests = 0

    async def quota_message(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        return web.json_response({"message": "API quota exceeded"})

    app = web.Application()
    app.router.add_get(PACKAGES_PATH, quota_message)
    url = await serve(app)
    report = await harvest(OcdsApi, _page(url, 1), name="world_ocds")
    assert report.status == "failed"
    assert report.error == "PermanentError: package has neither releases nor records"
    assert requests == 1


async def test_instance_without_base_url_is_a_config_error() -> None:
    async with PoliteClient(FAST) as http:
        with pytest.raises(ConfigError, match=r"sources\.world_ocds: base_url is required"):
            OcdsApi("world_ocds", SourceConfig(kind="ocds_api"), http)


@pytest.mark.parametrize(
    ("base", "link", "followed"),
    [
        ("https://api.publisher.example", "https://api.publisher.example/p2", True),
        ("https://api.publisher.example", "https://cdn.publisher.example/p2", True),
        ("https://api.publisher.example", "http://169.254.169.254/latest/meta-data", False),
        ("https://api.publisher.example", "http://10.0.0.7:9200/_cat/indices", False),
        ("https://api.publisher.example", "http://localhost:8222/varz", False),
        ("https://api.publisher.example", "file:///etc/passwd", False),
        ("https://api.publisher.example", "http://0xa9fea9fe/latest/meta-data/", False),
        ("https://api.publisher.example", "http://0x7f.1:8222/varz", False),
        ("https://api.publisher.example", "http://127.1/", False),
        ("https://api.publisher.example", "http://localhost./", False),
        ("https://api.publisher.example", "http://[::ffff:127.0.0.1]/", False),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/p2", True),  # a local replay
    ],
)
def test_a_document_cannot_lead_the_harvester_inside_the_deployment(
    base: str, link: str, followed: bool
) -> None:
    """A publisher's `links.next` (or a notice's XML link) is checked before it is fetched."""
    harvester = OcdsApi("ocds_api", SourceConfig(base_url=base), PoliteClient(FAST))
    if followed:
        assert harvester.followed(link) == link
    else:
        with pytest.raises(PermanentError, match="a document leads to"):
            harvester.followed(link)
