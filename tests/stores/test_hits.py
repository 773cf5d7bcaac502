"""Search hits carry their notice as JSON: the OpenSearch documents are cut back into the
notice's own JSON (and a card's summary), and a hit decodes its notice only when read."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from scope_shared.schema import Notice, notice_layout
from scope_shared.schema import layout as layout_module
from scope_shared.store import Hit, ProcedureCard, procedure_card
from scope_shared.store.opensearch.documents import card_document, notice_document, split_document

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _cards(corpus: list[Notice]) -> list[tuple[ProcedureCard, list[Notice]]]:
    by_procedure: dict[str, list[Notice]] = defaultdict(list)
    for notice in corpus:
        by_procedure[notice.procedure_id].append(notice)
    return [(procedure_card(members), members) for members in by_procedure.values()]


def test_a_notice_document_is_cut_back_into_the_notice_json_exactly(
    corpus: list[Notice],
) -> None:
    for notice in corpus:
        split = split_document(notice_document(notice, NOW))
        assert split == (msgspec.json.encode(notice), None), notice.id


def test_a_card_document_gives_its_corrected_notice_and_its_summary(corpus: list[Notice]) -> None:
    cards = _cards(corpus)
    assert any(len(members) > 1 for _, members in cards), "the corpus links some procedures"
    for card, members in cards:
        split = split_document(card_document(card, members, NOW))
        assert split is not None, card.procedure_id
        notice_json, summary = split
        assert notice_json == msgspec.json.encode(card.notice)
        assert summary == card.summary()
        assert msgspec.structs.asdict(summary) == {
            name: getattr(card, name) for name in msgspec.structs.asdict(summary)
        }


def test_a_document_laid_out_otherwise_is_left_to_be_decoded(corpus: list[Notice]) -> None:
    document = notice_document(corpus[0], NOW)
    assert split_document(document[:-1] + b',"unexpected":1}') is None
    assert split_document(msgspec.json.encode(corpus[0])) is None
    assert split_document(document.replace(b'"derived":{', b'"derived":[')) is None
    assert split_document(document[:-2]) is None


@given(st.binary(max_size=300), st.binary(max_size=40))
def test_any_bytes_are_cut_or_refused_never_an_error(head: bytes, tail: bytes) -> None:
    document = head + b',"derived":' + tail
    split = split_document(document)
    if split is not None:
        notice_json, _ = split
        assert document.startswith(notice_json[:-1])
        assert notice_json.endswith(b"}")


def test_a_hit_decodes_its_notice_when_read_and_builds_its_card(corpus: list[Notice]) -> None:
    card, _ = next((c, m) for c, m in _cards(corpus) if len(m) > 1)
    hit = Hit.of_json(msgspec.json.encode(card.notice), procedure=card.summary(), score=1.5)
    assert "notice" not in hit.__dict__
    assert hit.notice == card.notice
    assert hit.card == card
    assert hit.score == 1.5
    plain = Hit.of_json(msgspec.json.encode(corpus[0]))
    assert plain.procedure is None
    assert plain.card is None


def test_a_hit_made_of_a_decoded_notice_keeps_it(corpus: list[Notice]) -> None:
    card, _ = _cards(corpus)[0]
    hit = Hit.of(card.notice, card=card, highlights={"title": ["<em>x</em>"]})
    assert hit.notice is card.notice
    assert hit.card is card
    assert hit.procedure == card.summary()
    assert bytes(hit.notice_json) == msgspec.json.encode(card.notice)


def test_a_document_of_another_notice_layout_is_left_to_be_decoded(corpus: list[Notice]) -> None:
    """A notice stored before a Notice field was added lacks it (the schema version stays:
    adding a field is not breaking), so its JSON is not the current encoding any more."""
    document = notice_document(corpus[0], NOW)
    layout = f'"layout":"{notice_layout()}"'.encode()
    assert layout in document
    assert split_document(document.replace(layout, b'"layout":"0123456789abcdef"')) is None
    assert split_document(document.replace(b"," + layout, b"")) is None


def test_the_notice_layout_follows_the_encoding_not_the_documentation() -> None:
    schema = msgspec.json.schema(Notice)
    shape = layout_module._shape(schema)
    notice = shape["$defs"]["Notice"]
    assert schema["$defs"]["Notice"]["description"]  # the docstring, left out
    assert "description" not in notice
    assert {"title", "description", "schema_version"} <= set(notice["properties"])  # fields
    assert notice["properties"]["title"] == {"type": "string"}
    assert len(notice_layout()) == 16
