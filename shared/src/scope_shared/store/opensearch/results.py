"""An OpenSearch `_search` response -> SearchResult (hits, total, facets, next cursor)."""

from __future__ import annotations

from typing import Any

from scope_shared.store.contract import FacetBucket, Hit, SearchQuery, SearchResult
from scope_shared.store.opensearch.cursor import encode_cursor
from scope_shared.store.opensearch.documents import decode_card, decode_notice

JsonObject = dict[str, Any]


def _hit(raw: JsonObject, *, grouped: bool, scored: bool) -> Hit:
    source = raw["_source"]
    card = decode_card(source) if grouped else None
    notice = card.notice if card is not None else decode_notice(source)
    score = raw.get("_score") if scored else None
    return Hit(
        notice=notice,
        card=card,
        score=float(score) if score is not None else None,
        highlights={k: list(v) for k, v in raw.get("highlight", {}).items()},
    )


def _facets(response: JsonObject) -> dict[str, list[FacetBucket]]:
    return {
        name: [FacetBucket(str(b["key"]), int(b["doc_count"])) for b in agg["buckets"]]
        for name, agg in response.get("aggregations", {}).items()
    }


def search_result(response: JsonObject, query: SearchQuery) -> SearchResult:
    """Decode one page; the response holds up to `page_size + 1` hits (see search_body)."""
    raw_hits = response["hits"]["hits"]
    page = raw_hits[: query.page_size]
    next_cursor = None
    if len(raw_hits) > query.page_size:
        next_cursor = encode_cursor(query.sort, query.group_by_procedure, page[-1]["sort"])
    total = response["hits"]["total"]
    scored = query.sort == "relevance"
    return SearchResult(
        hits=[_hit(h, grouped=query.group_by_procedure, scored=scored) for h in page],
        total=int(total["value"]),
        total_relation="gte" if total["relation"] == "gte" else "eq",
        facets=_facets(response),
        next_cursor=next_cursor,
    )
