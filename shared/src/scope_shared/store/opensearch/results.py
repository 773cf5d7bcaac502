"""An OpenSearch `_search` answer -> SearchResult (hits, total, facets, next cursor).

The answer is decoded in one pass into the Structs below: no intermediate dicts. A hit's
`_source` is passed on as the notice's JSON (what follows it, `derived` and a card's summary,
cut off), decoded only when read.
"""

from __future__ import annotations

from typing import Any

import msgspec

from scope_shared.schema import Notice
from scope_shared.store.contract import (
    CardSummary,
    FacetBucket,
    Hit,
    ProcedureCard,
    SearchQuery,
    SearchResult,
)
from scope_shared.store.opensearch.cursor import SortValue, encode_cursor
from scope_shared.store.opensearch.documents import split_document


class _CardSource(Notice, frozen=True, kw_only=True):
    """A procedures-index `_source`: the main notice's fields, and the card's under `card`."""

    card: CardSummary
    """The card's own fields; its members are skipped."""


class _Hit(msgspec.Struct):
    source: msgspec.Raw = msgspec.field(name="_source")
    score: float | None = msgspec.field(default=None, name="_score")
    sort: list[SortValue] = msgspec.field(default_factory=list)
    highlight: dict[str, list[str]] = msgspec.field(default_factory=dict)


class _Total(msgspec.Struct):
    value: int
    relation: str


class _Hits(msgspec.Struct):
    total: _Total
    hits: list[_Hit]


class _Bucket(msgspec.Struct):
    key: Any
    doc_count: int


class _Aggregation(msgspec.Struct):
    buckets: list[_Bucket]


class _Answer(msgspec.Struct):
    hits: _Hits
    aggregations: dict[str, _Aggregation] = msgspec.field(default_factory=dict)


_answer = msgspec.json.Decoder(_Answer)
_notice = msgspec.json.Decoder(Notice)
_card_source = msgspec.json.Decoder(_CardSource)


def _card(source: msgspec.Raw) -> ProcedureCard:
    decoded = _card_source.decode(source)
    fields = {f: getattr(decoded, f) for f in Notice.__struct_fields__}
    return decoded.card.with_notice(Notice(**fields))


def _hit(raw: _Hit, *, grouped: bool, scored: bool) -> Hit:
    score = raw.score if scored else None
    document = bytes(raw.source)
    split = split_document(document)
    if split is None or (grouped and split[1] is None):
        if grouped:
            card = _card(raw.source)
            return Hit.of(card.notice, card=card, score=score, highlights=raw.highlight)
        return Hit.of(_notice.decode(document), score=score, highlights=raw.highlight)
    notice_json, summary = split
    return Hit.of_json(notice_json, procedure=summary, score=score, highlights=raw.highlight)


def search_result(answer: str | bytes, query: SearchQuery, *, has_words: bool) -> SearchResult:
    """Decode one page; the answer holds up to `page_size + 1` hits (see search_body).
    `has_words`: the query's text has terms to score (see `queries.parsed_text`)."""
    decoded = _answer.decode(answer)
    raw_hits = decoded.hits.hits
    page = raw_hits[: query.page_size]
    next_cursor = None
    if len(raw_hits) > query.page_size:
        next_cursor = encode_cursor(query.sort, query.group_by_procedure, page[-1].sort)
    total = decoded.hits.total
    # Without words there is nothing to score: null, as the embedded store and OpenAPI say
    # (the node would give every hit the same constant).
    scored = query.sort == "relevance" and has_words
    return SearchResult(
        hits=[_hit(h, grouped=query.group_by_procedure, scored=scored) for h in page],
        total=total.value,
        total_relation="gte" if total.relation == "gte" else "eq",
        facets={
            name: [FacetBucket(str(b.key), b.doc_count) for b in aggregation.buckets]
            for name, aggregation in decoded.aggregations.items()
        },
        next_cursor=next_cursor,
    )
