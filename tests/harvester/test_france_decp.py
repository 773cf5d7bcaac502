"""DECP harvester against a local replay of file hosting, serving the real DECP files."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pytest
from nats.js import JetStreamContext

from scope_harvester.base import HarvestRun, Page
from scope_harvester.http import PoliteClient
from scope_harvester.settings import SourceConfig
from scope_harvester.sources.france_decp import FranceDecp
from scope_harvester.state import StateStore
from scope_shared.devservices.replay.decp import DecpReplay
from scope_shared.devservices.replay.faults import Faults
from scope_shared.documents.decp import iter_decp_json, iter_decp_xml
from scope_shared.schema import RawFormat
from scope_shared.schema.harvest import RunCounts
from tests.conftest import SAMPLES
from tests.harvester.conftest import FAST, HarvestFn
from tests.support.bus import published_ids, published_raws

FOLDER = SAMPLES / "france_decp"
EMP = "/real-2019/e-marchespublics.json"
ONE_FILE = {"urls": [EMP], "items_per_page": 100}
"""470 contracts make 5 pages."""


def _expected_ids(*paths: str) -> list[str]:
    """Source ids of the distinct contracts (id and content) the splitter finds in the files."""
    distinct = set()
    for path in paths:
        split = iter_decp_xml if path.endswith(".xml") else iter_decp_json
        with (FOLDER / path.lstrip("/")).open("rb") as stream:
            distinct |= {(i.source_id, hashlib.sha256(i.payload).digest()) for i in split(stream)}
    return sorted(source_id for source_id, _ in distinct)


EMP_IDS = _expected_ids(EMP)


def _cursor(text: str | None) -> dict[str, Any]:
    assert text is not None
    decoded: dict[str, Any] = msgspec.json.decode(text)
    return decoded


async def test_every_contract_published_once_with_cursor_and_validators(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    url = await serve(replay.app())
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert report.status == "ok"
    # The file lists two contracts twice, byte for byte: JetStream keeps one of each.
    assert (report.counts.pages, report.counts.fetched) == (5, 470)
    assert (report.counts.published, report.counts.duplicates) == (468, 2)
    assert len(EMP_IDS) == 468
    assert await published_ids(js) == EMP_IDS
    assert {raw.format for raw in await published_raws(js)} == {RawFormat.DECP_2019_JSON}
    hosted = replay.files[EMP]
    assert _cursor(await states.cursor("france_decp", "live")) == {
        "url": url + EMP, "items": 470, "etag": hosted.etag,
        "last_modified": hosted.last_modified,
    }  # fmt: skip
    validators = await states.validators("france_decp")
    assert validators[url + EMP].etag == hosted.etag


async def test_unchanged_file_answers_304_and_nothing_is_fetched(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    url = await serve(replay.app())
    await harvest(FranceDecp, url, options=ONE_FILE)
    again = await harvest(FranceDecp, url, options=ONE_FILE)
    assert again.status == "ok"
    assert (again.counts.pages, again.counts.fetched, again.counts.published) == (0, 0, 0)
    assert replay.served == [(EMP, 200), (EMP, 304)]


async def test_changed_file_publishes_only_the_new_contracts(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    url = await serve(replay.app())
    await harvest(FranceDecp, url, options=ONE_FILE)
    # The platform adds three real contracts (taken from another platform's real file).
    added = msgspec.json.decode(
        (FOLDER / "real-2019/marches-publics.info_extract.json").read_bytes(),
        type=dict[str, list[msgspec.Raw]],
    )["marches"][:3]
    body = replay.files[EMP].body
    end = body.rindex(b"]")
    replay.put(EMP, body[:end] + b"," + b",".join(bytes(r) for r in added) + body[end:])
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert (report.counts.fetched, report.counts.published, report.counts.duplicates) == (
        473, 3, 470,
    )  # fmt: skip
    new_ids = sorted({raw.source_id for raw in await published_raws(js)} - set(EMP_IDS))
    assert len(new_ids) == 3
    assert _cursor(await states.cursor("france_decp", "live"))["etag"] == replay.files[EMP].etag


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "truncated", "cut", "reset"])
async def test_transient_fault_is_retried_and_nothing_lost(
    fault: str, serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    faults = Faults(stall_seconds=3.0)
    # aiohttp retries once by itself a GET whose connection was reset, so a reset reaches the
    # client's own retries only the second time in a row.
    faults.inject(fault, *(["reset"] if fault == "reset" else []))
    url = await serve(DecpReplay.of_folder(FOLDER, faults).app())
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert report.status == "ok"
    assert report.counts.failed_requests == 1
    assert await published_ids(js) == EMP_IDS


async def test_transfer_cut_midway_is_downloaded_again(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    replay.cut_next.add(EMP)
    url = await serve(replay.app())
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert report.status == "ok"
    assert (report.counts.failed_requests, report.counts.published) == (1, 468)
    assert replay.served == [(EMP, 200), (EMP, 200)]
    assert await published_ids(js) == EMP_IDS


async def test_short_body_is_downloaded_again_and_resumed_where_it_stopped(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    replay.short_next.add(EMP)
    url = await serve(replay.app())
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert report.status == "ok"
    # The pages read before the cut are skipped, not published again: only the file's own
    # two repeated contracts are duplicates.
    assert (report.counts.published, report.counts.duplicates) == (468, 2)
    assert report.counts.fetched == 470
    assert report.counts.failed_requests == 1
    assert await published_ids(js) == EMP_IDS


class _KilledError(Exception):
    pass


async def test_run_killed_mid_file_resumes_inside_the_file(
    serve, harvest: HarvestFn, js: JetStreamContext, states: StateStore
) -> None:
    url = await serve(DecpReplay.of_folder(FOLDER).app())

    def die_on_second_page(page: Page, counts: RunCounts) -> None:
        # Raised after page 2 is stored and before its cursor is saved: the worst moment.
        if counts.pages == 2:
            raise _KilledError

    config = SourceConfig(base_url=url, options=ONE_FILE)
    async with PoliteClient(FAST) as http:
        harvester = FranceDecp("france_decp", config, http)
        killed = await HarvestRun(harvester, js, states, on_page=die_on_second_page).run()
    assert killed.status == "failed"
    assert _cursor(await states.cursor("france_decp", "live"))["items"] == 100
    assert url + EMP not in await states.validators("france_decp")

    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert report.status == "ok"
    assert (report.counts.pages, report.counts.fetched) == (4, 370)
    assert await published_ids(js) == EMP_IDS
    assert _cursor(await states.cursor("france_decp", "live"))["items"] == 470


async def test_xml_files_of_both_generations(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    files = [
        "/v1.5-2019/paquet.xml",
        "/v2-2024/Marche.xml",
        "/v2-2024/Contrat-concession-modification.xml",
    ]
    url = await serve(DecpReplay.of_folder(FOLDER).app())
    report = await harvest(FranceDecp, url, options={"urls": files})
    assert report.status == "ok"
    published = await published_raws(js)
    assert sorted(raw.source_id for raw in published) == _expected_ids(*files)
    assert (
        sorted(raw.format for raw in published)
        == [RawFormat.DECP_2019_XML] * 4 + [RawFormat.DECP_2024_XML] * 2
    )
    assert {raw.content_type for raw in published} == {"application/xml"}
    assert {raw.url for raw in published} == {url + f for f in files}


async def test_json_files_of_2024(serve, harvest: HarvestFn, js: JetStreamContext) -> None:
    files = [
        "/v2-2024/marches_concessions.json", "/v2-2024/marches_avec_modifications.json",
        "/v2-2024/concessions_avec_modifications.json",
    ]  # fmt: skip
    url = await serve(DecpReplay.of_folder(FOLDER).app())
    report = await harvest(FranceDecp, url, options={"urls": files})
    # marches_concessions.json repeats the two marchés of marches_avec_modifications.json.
    assert (report.status, report.counts.fetched, report.counts.published) == ("ok", 8, 6)
    published = await published_raws(js)
    assert sorted(raw.source_id for raw in published) == _expected_ids(*files)
    assert {raw.format for raw in published} == {RawFormat.DECP_2024_JSON}


async def test_file_that_is_not_decp_fails_the_run(serve, harvest: HarvestFn) -> None:
    url = await serve(DecpReplay.of_folder(FOLDER).app())
    report = await harvest(FranceDecp, url, options={"urls": ["/v1.5-2019/marches.schema.json"]})
    assert report.status == "failed"
    assert report.error is not None and "not a DECP JSON document" in report.error


async def test_no_urls_fetches_nothing(serve, harvest: HarvestFn) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    url = await serve(replay.app())
    report = await harvest(FranceDecp, url)
    assert (report.status, report.counts.requests, replay.served) == ("ok", 0, [])


async def test_slow_transfer_outlasting_the_request_timeout_completes(
    serve, harvest: HarvestFn, js: JetStreamContext
) -> None:
    replay = DecpReplay.of_folder(FOLDER)
    # 7 chunks of 64 KiB, 0.2 s apart: 1.4 s in all, over the one-second timeout of FAST,
    # which bounds each read of a download, not the whole transfer.
    replay.chunk_delay = 0.2
    url = await serve(replay.app())
    report = await harvest(FranceDecp, url, options=ONE_FILE)
    assert (report.status, report.counts.failed_requests) == ("ok", 0)
    assert await published_ids(js) == EMP_IDS
