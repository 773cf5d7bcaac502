"""SearchQuery -> OpenSearch query DSL: text clauses, filters, sorts, facets, highlights.

User text only ever becomes the `query` of `match` / `match_phrase` / `multi_match` clauses
(analysed text, no operators): never `query_string` nor `simple_query_string`, so no input
can produce Lucene syntax errors, field access or expensive wildcard queries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scope_shared.store import contract
from scope_shared.store.contract import FacetName, SearchQuery, SortOrder
from scope_shared.store.derived import normalize_cpv_filter
from scope_shared.store.opensearch.cursor import decode_cursor
from scope_shared.store.opensearch.template import ALL_TEXT
from scope_shared.store.opensearch.textquery import ParsedQuery, Term, parse

JsonObject = dict[str, Any]

FACET_FIELDS: dict[FacetName, str] = {
    "cpv_division": "derived.cpv_division",
    "department": "derived.department",
    "region": "derived.region",
    "source": "source",
    "notice_type": "notice_type",
    "procedure_type": "procedure_type",
    "buyer": "buyer.name.keyword",
}

# Scoring only (matching is on ALL_TEXT): a word in the title weighs more than in the text.
SCORED_FIELDS = ["title^3", "lots.title^2", "buyer.name^2", "description", "lots.description"]
SCORED_WORDS = 64
"""Relevance looks at the first 64 words: Lucene caps a query at 1024 clauses and each word
costs one per scored field. Matching still uses every word."""

HIGHLIGHT_FIELDS = ["title", "description", "buyer.name", "lots.title", "lots.description"]
MISSING_LAST_DATE = {"missing": "_last", "unmapped_type": "date"}

_SORTS: dict[SortOrder, list[JsonObject]] = {
    "relevance": [{"_score": {"order": "desc"}}, {"published_at": {"order": "desc"}}],
    "newest": [{"published_at": {"order": "desc"}}],
    "deadline": [{"submission_deadline": {"order": "asc", **MISSING_LAST_DATE}}],
    "value": [{"estimated_value.amount": {"order": "desc", "missing": "_last"}}],
}


def sort_clause(order: SortOrder) -> list[JsonObject]:
    """The contract's orders, each ending with `id` ascending so pages never overlap."""
    return [*_SORTS[order], {"id": {"order": "asc"}}]


def _term_clause(term: Term, *, excluded: bool) -> JsonObject:
    if term.phrase:
        return {"match_phrase": {ALL_TEXT: {"query": term.text}}}
    # A stop word alone ("le") analyses to nothing: required, it matches everything (it is
    # ignored); excluded, it matches nothing (it excludes nothing).
    zero = "none" if excluded else "all"
    return {"match": {ALL_TEXT: {"query": term.text, "operator": "and", "zero_terms_query": zero}}}


def _group_clause(group: list[Term]) -> JsonObject:
    if len(group) == 1:
        return _term_clause(group[0], excluded=False)
    should = [_term_clause(t, excluded=False) for t in group]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def text_clauses(parsed: ParsedQuery) -> JsonObject:
    """`must` / `must_not` / `should` parts of the bool query for the user's text."""
    out: JsonObject = {
        "must": [_group_clause(g) for g in parsed.required],
        "must_not": [_term_clause(t, excluded=True) for t in parsed.excluded],
        "should": [],
    }
    words = parsed.positive_text.split()[:SCORED_WORDS]
    if words:
        out["should"].append(
            {"multi_match": {"query": " ".join(words), "fields": SCORED_FIELDS,
                             "type": "best_fields"}}
        )  # fmt: skip
    return out


def _buyer_clause(buyer: str) -> JsonObject:
    value = buyer.replace(" ", "")
    if value.isdigit() and len(value) in {9, 14}:
        # derived.buyer_id holds the SIRET and the SIREN: their lengths tell them apart.
        return {"term": {"derived.buyer_id": value}}
    return {"match": {"buyer.name": {"query": buyer, "operator": "and"}}}


def _range(field: str, gte: object = None, lte: object = None) -> list[JsonObject]:
    bounds = {k: v for k, v in (("gte", gte), ("lte", lte)) if v is not None}
    return [{"range": {field: bounds}}] if bounds else []


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def filter_clauses(query: SearchQuery) -> list[JsonObject]:
    """Every filter as a non-scoring clause: AND between filters, OR inside one."""
    terms = {
        "derived.cpv": [normalize_cpv_filter(c) for c in query.cpv],
        "derived.department": query.department,
        "derived.region": query.region,
        "derived.nuts": query.nuts,
        "source": query.source,
        "notice_type": query.notice_type,
        "procedure_type": query.procedure_type,
        "contract_nature": query.contract_nature,
        "status": query.status,
    }
    out: list[JsonObject] = [{"terms": {f: sorted(set(v))}} for f, v in terms.items() if v]
    if query.buyer and query.buyer.strip():
        out.append(_buyer_clause(query.buyer.strip()))
    if query.buyer_name:
        out.append({"term": {FACET_FIELDS["buyer"]: query.buyer_name}})
    if query.open_only:
        now = query.now or datetime.now(UTC)
        out += _range("submission_deadline", gte=now.isoformat())
    out += _range("published_at", _iso(query.published_after), _iso(query.published_before))
    out += _range("submission_deadline", _iso(query.deadline_after), _iso(query.deadline_before))
    value_min = str(query.value_min) if query.value_min is not None else None
    value_max = str(query.value_max) if query.value_max is not None else None
    out += _range("estimated_value.amount", value_min, value_max)
    return out


def facet_aggs(query: SearchQuery) -> JsonObject:
    """One terms aggregation per facet: top `facet_size` values, ties by value ascending."""
    return {
        name: {
            "terms": {
                "field": FACET_FIELDS[name],
                "size": query.facet_size,
                "order": [{"_count": "desc"}, {"_key": "asc"}],
            }
        }
        for name in dict.fromkeys(query.facets)
    }


def highlight_clause(parsed: ParsedQuery) -> JsonObject:
    fields: JsonObject = {f: {} for f in HIGHLIGHT_FIELDS}
    fields["title"] = fields["buyer.name"] = {"number_of_fragments": 0}  # short: shown whole
    return {
        "type": "unified",
        "pre_tags": ["<em>"],
        "post_tags": ["</em>"],
        "encoder": "html",
        # Matching runs on the combined field; the same analyser makes the same terms, so
        # terms found through it are highlighted in each source field.
        "require_field_match": False,
        # Only the user's words are marked: without this, a filter's term (`works`, `active`)
        # would be highlighted wherever it appears in a text.
        "highlight_query": {"bool": {"should": [_group_clause(g) for g in parsed.required]}},
        "fragment_size": 150,
        "number_of_fragments": 3,
        "fields": fields,
    }


def parsed_text(query: SearchQuery) -> ParsedQuery:
    return parse(query.q) if query.q else ParsedQuery(required=[], excluded=[])


def search_body(query: SearchQuery, parsed: ParsedQuery | None = None) -> JsonObject:
    """The whole `_search` body; InvalidCursor for a bad cursor. Asks for one hit more than a
    page so that the last page is known to be last (no cursor pointing at an empty page).
    `parsed`: the query's text, when the caller parsed it already (`parsed_text`)."""
    parsed = parsed or parsed_text(query)
    text = text_clauses(parsed)
    bool_query: JsonObject = {"filter": filter_clauses(query), **text}
    body: JsonObject = {
        "query": {"bool": {k: v for k, v in bool_query.items() if v}},
        "sort": sort_clause(query.sort),
        "size": query.page_size + 1,
        # Read at call time (not imported by value) so that the bound is one setting.
        "track_total_hits": contract.TOTAL_EXACT_UP_TO,
        # The whole _source, returned as stored: excluding `derived` (and a card's members)
        # made the node parse and rewrite every hit's source, a fifth of a search's time;
        # the decoders skip those fields instead (results.py).
        "_source": True,
    }
    if query.cursor is not None:
        body["search_after"] = decode_cursor(
            query.cursor, sort=query.sort, grouped=query.group_by_procedure,
            length=len(body["sort"]),
        )  # fmt: skip
    if query.facets:
        body["aggs"] = facet_aggs(query)
    if query.highlight and parsed.required:
        body["highlight"] = highlight_clause(parsed)
    return body
