"""What only the OpenSearch store has: its template, analysis, versioning, bulk errors, reindex.

The behaviour both stores share is in test_contract.py; these tests run on the real node.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args, get_origin

import msgspec
import pytest
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import ConnectionTimeout, NotFoundError, TransportError

from scope_shared.schema import Amount, Notice, NoticeType, Place
from scope_shared.store import InvalidCursor, SearchQuery, procedure_card
from scope_shared.store.opensearch import OpenSearchStore, ReindexOptions
from scope_shared.store.opensearch.bulk import Action, request_failure, run_bulk
from scope_shared.store.opensearch.cursor import decode_cursor, encode_cursor
from scope_shared.store.opensearch.documents import derived_fields, notice_document
from scope_shared.store.opensearch.indexing import card_changes
from scope_shared.store.opensearch.template import NOTICE_PROPERTIES, index_template
from scope_shared.store.opensearch.textquery import Term, parse
from tests.support.ports import free_port

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def os_store(opensearch_url: str) -> AsyncIterator[OpenSearchStore]:
    store = OpenSearchStore(opensearch_url, index_prefix=f"test-{uuid.uuid4().hex[:12]}",
                            refresh=True)  # fmt: skip
    await store.setup()
    yield store
    await store.drop()
    await store.close()


def _by_id(corpus: list[Notice], notice_id: str) -> Notice:
    return next(n for n in corpus if n.id == notice_id)


def _copy(notice: Notice, suffix: str, **changes: Any) -> Notice:
    return msgspec.structs.replace(
        notice, id=f"{notice.id}-{suffix}", procedure_id=f"{notice.procedure_id}-{suffix}",
        **changes,
    )  # fmt: skip


# --- the template -------------------------------------------------------------------------


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    """The Struct inside `X | None`, `list[X]` or `Annotated[...]`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    for arg in get_args(annotation) if get_origin(annotation) is not None else ():
        found = _struct_type(arg)
        if found is not None:
            return found
    return None


def _assert_mapping_covers(struct: type[msgspec.Struct], properties: dict[str, Any]) -> None:
    fields = msgspec.structs.fields(struct)
    assert sorted(properties) == sorted(f.encode_name for f in fields), struct.__name__
    for field in fields:
        inner = _struct_type(field.type)
        if inner is not None:
            assert properties[field.encode_name].get("dynamic") == "strict", field.name
            _assert_mapping_covers(inner, properties[field.encode_name]["properties"])


def test_template_maps_every_notice_field_strictly() -> None:
    _assert_mapping_covers(Notice, NOTICE_PROPERTIES)
    template = index_template("x-notices-v*", "notices", replicas=0, shards=1)
    assert template["template"]["mappings"]["dynamic"] == "strict"
    assert template["template"]["settings"]["number_of_replicas"] == 0


async def test_every_corpus_notice_indexes_without_a_mapping_error(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    outcomes = await os_store.index(corpus)

    assert [o for o in outcomes if o.status == "failed"] == []
    count = await os_store._client.count(index=os_store.names.alias("notices"))
    assert count["count"] == len({n.id for n in corpus})
    history = await os_store._client.count(index=os_store.names.alias("history"))
    assert history["count"] == len({(n.id, n.version) for n in corpus})
    cards = await os_store._client.count(index=os_store.names.alias("procedures"))
    assert cards["count"] == len({n.procedure_id for n in corpus})


async def test_setup_gives_existing_indices_the_configured_replicas(
    os_store: OpenSearchStore, opensearch_url: str
) -> None:
    """A deployment grown to a cluster sets SCOPE_OPENSEARCH_REPLICAS: the next start applies
    it to the indices made before (on this one node the replicas stay unassigned)."""
    grown = OpenSearchStore(opensearch_url, index_prefix=os_store.names.prefix, replicas=1)
    try:
        await grown.setup()
        for kind in ("notices", "history", "procedures"):
            found = await grown._client.indices.get_settings(index=grown.names.alias(kind))
            (settings,) = found.values()
            assert settings["settings"]["index"]["number_of_replicas"] == "1", kind
    finally:
        await grown.close()


async def test_hand_edited_cursor_the_node_refuses_is_an_invalid_cursor(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    await os_store.index(corpus[:3])
    # Well-formed for this sort, but text where the publication date is sorted: the node's
    # 400 is the caller's bad cursor (a 400 in the API), not the store's failure (a 500).
    edited = encode_cursor("newest", False, ["yesterday", "france_boamp:1"])
    with pytest.raises(InvalidCursor, match="refused its values"):
        await os_store.search(SearchQuery(sort="newest", cursor=edited))


def test_card_changes_narrowed_to_some_procedures_still_know_a_moved_notice(
    corpus: list[Notice],
) -> None:
    """A card recomputed alone (its write conflicted) must still see that a notice of the
    batch moved away from it, or the notice stays on it."""
    moved = msgspec.structs.replace(corpus[0], procedure_id="procedure:b")
    changes = card_changes({moved.id: moved}, {moved.id: "procedure:a"})
    narrowed = changes.only({"procedure:a"})
    assert narrowed.upserts == {}
    assert narrowed.touched == {"procedure:a"}
    assert narrowed.batch() == {moved.id: moved}


class _NoMget:
    """The real client, but the read of where notices are fails (a timeout, a 429)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def mget(self, **kwargs: Any) -> Any:
        raise ConnectionTimeout("TIMEOUT", "mget timed out", None)


async def test_batch_is_failed_retryable_when_the_procedures_cannot_be_read(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    notice = corpus[0]
    real = os_store._client
    os_store._client = _NoMget(real)
    try:
        outcomes = await os_store.index([notice])
    finally:
        os_store._client = real
    assert [(o.status, o.retryable) for o in outcomes] == [("failed", True)]
    assert outcomes[0].reason is not None and "reading where the notices are" in outcomes[0].reason
    assert await os_store.get(notice.id) is None


async def test_get_returns_the_notice_exactly_as_indexed(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    with_amount = next(n for n in corpus if n.awards and n.awards[0].value)
    await os_store.index([with_amount])

    assert await os_store.get(with_amount.id) == with_amount


@pytest.mark.parametrize(
    ("notice_id", "tokens"),
    [
        # Elision (d'), stop words (de, pour, le), light stemming, accents folded (denrées).
        ("france_boamp:17-2599",
         ["fournitur", "denr", "alimentair", "centr", "comunal", "action", "social", "toulon"]),
        ("europe_ted:da4d46e9-490b-41ff-a2ae-8166d356a619-01",
         ["servic", "entretien", "remis", "etat", "netoyag", "espac", "vert"]),
        ("europe_ted:219998-2024",
         ["gestion", "exploit", "dechet", "intercomunal", "trioncel", "baie", "mahault"]),
    ],
)  # fmt: skip
async def test_french_analysis_of_real_titles(
    os_store: OpenSearchStore, corpus: list[Notice], notice_id: str, tokens: list[str]
) -> None:
    title = _by_id(corpus, notice_id).title
    result = await os_store._client.indices.analyze(
        index=os_store.names.alias("notices"), body={"field": "title", "text": title}
    )
    assert [t["token"] for t in result["tokens"]] == tokens


async def test_accents_elision_and_plurals_do_not_matter_to_search(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    await os_store.index(corpus)
    for q in ("dechetterie", "déchetteries", "DÉCHETTERIE", "l'exploitation intercommunales"):
        result = await os_store.search(SearchQuery(q=q))
        assert "europe_ted:219998-2024" in {h.notice.id for h in result.hits}, q


# --- versions --------------------------------------------------------------------------------


async def test_an_older_version_after_a_newer_one_is_stale_and_kept_in_history(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    v1 = _by_id(corpus, "france_boamp:17-2599")
    v2 = msgspec.structs.replace(v1, version=2, title="Fourniture de denrées (rectifié)")

    assert [o.status for o in await os_store.index([v2])] == ["indexed"]
    assert [o.status for o in await os_store.index([v1])] == ["stale"]

    assert await os_store.get(v1.id) == v2
    assert await os_store.history(v1.id) == [v1, v2]
    card = await os_store.procedure(v1.procedure_id)
    assert card is not None
    assert card.notice.title == v2.title


async def test_the_same_version_again_replaces_the_document(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    v1 = _by_id(corpus, "france_boamp:17-2599")
    remapped = msgspec.structs.replace(v1, title="Titre re-mappé")
    await os_store.index([v1])

    assert [o.status for o in await os_store.index([remapped])] == ["indexed"]
    assert await os_store.get(v1.id) == remapped


async def test_a_notice_moving_to_another_procedure_leaves_its_old_card(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    v1 = _by_id(corpus, "france_boamp:17-2599")
    v2 = msgspec.structs.replace(v1, version=2, procedure_id="france_boamp:other")
    await os_store.index([v1])
    await os_store.index([v2])

    assert await os_store.procedure(v1.procedure_id) is None
    moved = await os_store.procedure("france_boamp:other")
    assert moved is not None
    assert moved.notice_ids == [v1.id]


async def test_an_older_member_becomes_the_main_notice_when_the_main_one_leaves(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    base = _by_id(corpus, "france_boamp:17-2599")
    first = msgspec.structs.replace(
        base,
        id="france_boamp:call-0",
        procedure_id="p:calls",
        notice_type=NoticeType.CONTRACT_NOTICE,
        title="Premier appel",
    )
    second = msgspec.structs.replace(
        first,
        id="france_boamp:call-1",
        title="Second appel",
        published_at=first.published_at + timedelta(days=5),
    )
    moved = msgspec.structs.replace(second, version=2, procedure_id="p:elsewhere")
    await os_store.index([first])
    await os_store.index([second])
    card = await os_store.procedure("p:calls")
    assert card is not None and card.notice == second

    await os_store.index([moved])

    # The card held only a summary of the first call: the store read it back in full.
    assert await os_store.procedure("p:calls") == procedure_card([first])
    assert await os_store.procedure("p:elsewhere") == procedure_card([moved])
    assert await os_store.procedure_notices("p:calls") == [first]


async def test_a_stale_version_naming_another_procedure_stays_out_of_its_card(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    v1 = _by_id(corpus, "france_boamp:17-2599")
    v2 = msgspec.structs.replace(v1, version=2, procedure_id="p:now-here")
    await os_store.index([v2])

    assert [o.status for o in await os_store.index([v1])] == ["stale"]

    assert await os_store.procedure(v1.procedure_id) is None
    assert await os_store.procedure("p:now-here") == procedure_card([v2])


async def test_concurrent_batches_on_one_procedure_lose_no_card_member(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    base = _by_id(corpus, "france_boamp:17-2599")
    notices = [
        msgspec.structs.replace(base, id=f"france_boamp:race-{i}", procedure_id="p:race",
                                published_at=base.published_at + timedelta(days=i))
        for i in range(12)
    ]  # fmt: skip

    results = await asyncio.gather(*(os_store.index([n]) for n in notices))

    assert {o.status for batch in results for o in batch} == {"indexed"}
    card = await os_store.procedure("p:race")
    assert card is not None
    assert card.notice_ids == [n.id for n in notices]
    assert len(await os_store.procedure_notices("p:race")) == 12


# --- errors ----------------------------------------------------------------------------------


async def test_a_strict_mapping_error_fails_one_document_not_the_batch(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    good = corpus[:2]
    alias = os_store.names.alias("notices")
    bad_body = notice_document(good[0], NOW)[:-1] + b',"unexpected":1}'
    actions = [
        Action("index", {"_index": alias, "_id": good[0].id}, notice_document(good[0], NOW)),
        Action("index", {"_index": alias, "_id": "bad"}, bad_body),
        Action("index", {"_index": alias, "_id": good[1].id}, notice_document(good[1], NOW)),
    ]

    results = await run_bulk(os_store._client, actions, refresh="true", request_timeout=30)

    assert [r.status for r in results] == [201, 400, 201]
    assert results[1].error is not None
    assert results[1].error.startswith("strict_dynamic_mapping_exception: mapping set to strict")
    assert "[unexpected]" in results[1].error
    assert results[1].retryable is False


async def test_a_write_block_is_waited_out_not_dead_lettered(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    """A block on the index (flood-stage disk watermark, maintenance) refuses every item
    with 403 cluster_block_exception: the cluster's state, not the documents' fault."""
    alias = os_store.names.alias("notices")
    client = os_store._client
    await client.indices.put_settings(index=alias, body={"index.blocks.write": True})
    try:
        actions = [Action("index", {"_index": alias, "_id": n.id}, notice_document(n, NOW))
                   for n in corpus[:2]]  # fmt: skip
        results = await run_bulk(client, actions, refresh="false", request_timeout=30)
    finally:
        await client.indices.put_settings(index=alias, body={"index.blocks.write": None})
    assert [(r.status, r.retryable) for r in results] == [(403, True), (403, True)]
    assert all(r.error and r.error.startswith("cluster_block_exception") for r in results)


def test_a_request_refused_for_the_set_up_is_retried() -> None:
    """Rotated credentials, a missing role or alias: every notice would be refused alike
    until an operator mends it, so none is dead-lettered for it."""
    for status in (401, 403, 404):
        refused = request_failure(TransportError(status, "refused", {}))
        assert (refused.status, refused.retryable) == (status, True)
    assert request_failure(TransportError(400, "parse_exception", {})).retryable is False


async def test_index_reports_the_reason_of_a_refused_notice_and_indexes_the_rest(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    good = corpus[:3]
    # An amount OpenSearch cannot store (scaled_float takes finite numbers only).
    bad = _copy(good[0], "nan", estimated_value=Amount(amount=Decimal("NaN")))

    outcomes = await os_store.index([good[0], bad, good[1], good[2]])

    assert [o.status for o in outcomes] == ["indexed", "failed", "indexed", "indexed"]
    assert outcomes[1].reason is not None
    assert "estimated_value.amount" in outcomes[1].reason
    assert outcomes[1].retryable is False
    assert await os_store.get(bad.id) is None


async def test_a_refused_remapping_leaves_the_version_and_its_history_as_they_were(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    v1 = _by_id(corpus, "france_boamp:17-2599")
    refused = msgspec.structs.replace(v1, estimated_value=Amount(amount=Decimal("NaN")))
    await os_store.index([v1])

    assert [o.status for o in await os_store.index([refused])] == ["failed"]
    assert await os_store.get(v1.id) == v1
    assert await os_store.history(v1.id) == [v1]
    card = await os_store.procedure(v1.procedure_id)
    assert card is not None
    assert card.notice == v1


async def test_an_unreachable_node_gives_retryable_outcomes(corpus: list[Notice]) -> None:
    store = OpenSearchStore(f"http://127.0.0.1:{free_port()}", index_prefix="nowhere", timeout=2)
    try:
        outcomes = await store.index(corpus[:3])
        assert [(o.status, o.retryable) for o in outcomes] == [("failed", True)] * 3
        assert all(o.reason and "unreachable" in o.reason for o in outcomes)
        assert await store.ping() is False
    finally:
        await store.close()


async def test_search_errors_are_raised_as_opensearch_py_raises_them(opensearch_url: str) -> None:
    missing = OpenSearchStore(opensearch_url, index_prefix=f"missing-{uuid.uuid4().hex[:8]}")
    unreachable = OpenSearchStore(f"http://127.0.0.1:{free_port()}", index_prefix="nowhere")

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # answers nothing; returns when the client hangs up
        writer.close()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    # Two hosts, so that the client keeps a real pool: a timeout must not mark a node dead.
    slow = OpenSearchStore(
        f"http://127.0.0.1:{port},http://localhost:{port}", index_prefix="slow", timeout=0.3
    )
    try:
        with pytest.raises(NotFoundError) as not_found:
            await missing.search(SearchQuery())
        assert not_found.value.error == "index_not_found_exception"
        with pytest.raises(OpenSearchConnectionError):
            await unreachable.search(SearchQuery())
        with pytest.raises(ConnectionTimeout):
            await slow.search(SearchQuery())
        assert len(slow._client.transport.connection_pool.connections) == 2
    finally:
        for store in (missing, unreachable, slow):
            await store.close()
        silent.close()
        await silent.wait_closed()


# --- reindex ---------------------------------------------------------------------------------


async def _search_loop(store: OpenSearchStore, stop: asyncio.Event, expected: int) -> list[str]:
    """Search until told to stop; every failure or wrong total, described."""
    problems: list[str] = []
    searches = 0
    while not stop.is_set():
        try:
            result = await store.search(SearchQuery(facets=["source"], page_size=5))
            if result.total != expected:
                problems.append(f"total {result.total} != {expected}")
        except Exception as exc:  # noqa: BLE001 - any failure is what this test counts
            problems.append(repr(exc))
        searches += 1
    assert searches > 10, "the searches must overlap the reindex"
    return problems


async def test_reindex_under_concurrent_searches_fails_none_and_swaps_the_alias(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    await os_store.index(corpus)
    expected = len({n.id for n in corpus})
    stop = asyncio.Event()
    searcher = asyncio.create_task(_search_loop(os_store, stop, expected))

    reports = await os_store.reindex(options=ReindexOptions(settle=0.5))
    stop.set()

    assert await searcher == []
    names = os_store.names
    assert {r.kind: r.new_index for r in reports} == {
        kind: names.physical(kind, 2) for kind in ("notices", "history", "procedures")
    }
    aliases = await os_store._client.indices.get_alias(name=names.alias("notices"))
    assert list(aliases) == [names.physical("notices", 2)]
    assert not await os_store._client.indices.exists(index=names.physical("notices", 1))
    count = await os_store._client.count(index=names.alias("notices"))
    assert count["count"] == expected


async def test_writes_during_a_reindex_are_in_the_new_index(
    os_store: OpenSearchStore, corpus: list[Notice]
) -> None:
    await os_store.index(corpus)
    written: list[Notice] = []

    async def writer(stop: asyncio.Event) -> None:
        i = 0
        while not stop.is_set():
            notice = _copy(corpus[i % len(corpus)], f"live{i}")
            await os_store.index([notice])
            written.append(notice)
            i += 1

    stop = asyncio.Event()
    task = asyncio.create_task(writer(stop))
    await os_store.reindex(new_version=5, options=ReindexOptions(settle=0.5))
    stop.set()
    await task

    assert written
    for notice in written:
        assert await os_store.get(notice.id) == notice
        assert await os_store.procedure(notice.procedure_id) is not None


# --- queries, pure ---------------------------------------------------------------------------


def test_query_syntax_is_parsed_into_required_excluded_and_or_groups() -> None:
    parsed = parse('travaux "espaces verts" -nettoyage +Paris voirie OR route')

    assert parsed.required == [
        [Term("travaux")], [Term("espaces verts", phrase=True)], [Term("Paris")],
        [Term("voirie"), Term("route")],
    ]  # fmt: skip
    assert parsed.excluded == [Term("nettoyage")]


def test_query_syntax_reads_stray_signs_and_quotes_plainly() -> None:
    assert parse('- + "unclosed phrase').required == [[Term("unclosed phrase", phrase=True)]]
    assert parse("OR voirie OR").required == [[Term("voirie")]]
    # The analysis cuts `title:x` in two tokens: a phrase of plain words, no field syntax.
    assert parse("title:x AND(").required == [[Term("title:x", phrase=True)], [Term("AND(")]]


def test_cursor_round_trips_and_refuses_another_sort() -> None:
    token = encode_cursor("newest", False, [1_700_000_000_000, "france_boamp:1"])

    assert decode_cursor(token, sort="newest", grouped=False, length=2) == [
        1_700_000_000_000, "france_boamp:1",
    ]  # fmt: skip
    with pytest.raises(InvalidCursor, match="another sort"):
        decode_cursor(token, sort="deadline", grouped=False, length=2)
    with pytest.raises(InvalidCursor, match="invalid cursor"):
        decode_cursor("not-a-cursor!", sort="newest", grouped=False, length=2)


def test_derived_fields_take_cpv_ancestors_and_nuts_prefixes(corpus: list[Notice]) -> None:
    notice = msgspec.structs.replace(
        corpus[0], cpv_main="45233140", cpv_additional=[], lots=[],
        place=Place(nuts=["FR101"], departments=["75"], regions=["11"]),
    )  # fmt: skip

    derived = derived_fields(notice, NOW)

    assert derived.cpv == ["45000000", "45200000", "45230000", "45233000", "45233100", "45233140"]
    assert derived.cpv_division == ["45"]
    assert derived.nuts == ["FR", "FR1", "FR10", "FR101"]
    assert (derived.department, derived.region) == (["75"], ["11"])
