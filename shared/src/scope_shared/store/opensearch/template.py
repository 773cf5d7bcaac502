"""Index templates: French analysis and a mapping that names every `Notice` field.

Three kinds of index, each a versioned physical index behind an alias (see `names.py`):
- notices: the latest version of each notice, searched;
- history: every version, read back by id only, so its notice body is stored, not indexed;
- procedures: one card per procedure, searched when grouping by procedure; the card's main
  notice uses the notice mapping, so the same query works on both.

Notice fields are mapped `dynamic: strict`: a schema field the template does not know is a
mapping error on the first document that carries it, never a silently guessed type.
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

FRENCH_ANALYZER = "fr_text"

# The documented rebuild of the built-in `french` analyzer (OpenSearch docs,
# _analyzers/language-analyzers/french.md) with asciifolding appended, so that a query typed
# without accents finds accented text and the reverse.
FRENCH_ARTICLES = [
    "l",
    "m",
    "t",
    "qu",
    "n",
    "s",
    "j",
    "d",
    "c",
    "jusqu",
    "quoiqu",
    "lorsqu",
    "puisqu",
]
"""The elision filter's default French list, spelled out as the documentation does."""
FRENCH_FILTERS = ["french_elision", "lowercase", "french_stop", "french_keywords",
                  "french_stemmer", "folding"]  # fmt: skip

ANALYSIS: JsonObject = {
    "filter": {
        "french_elision": {"type": "elision", "articles_case": True, "articles": FRENCH_ARTICLES},
        "french_stop": {"type": "stop", "stopwords": "_french_"},
        "french_keywords": {"type": "keyword_marker", "keywords": []},
        "french_stemmer": {"type": "stemmer", "language": "light_french"},
        "folding": {"type": "asciifolding", "preserve_original": False},
    },
    "analyzer": {
        FRENCH_ANALYZER: {"type": "custom", "tokenizer": "standard", "filter": FRENCH_FILTERS},
    },
}

ALL_TEXT = "text_all"
"""Every searched text field is copied here, so one clause per query word matches them all."""

KEYWORD: JsonObject = {"type": "keyword"}
STORED: JsonObject = {"type": "keyword", "index": False, "doc_values": False}
"""Kept in _source and parsed (so strictness still applies), but neither searched nor sorted."""
STORED_TEXT: JsonObject = {"type": "text", "index": False}
"""Long prose (conditions, criteria): no keyword length limit, not searched."""
DATE: JsonObject = {"type": "date"}
INTEGER: JsonObject = {"type": "integer"}

# Amounts: cents are enough to sort and filter; the exact decimal stays in _source as text.
AMOUNT: JsonObject = {
    "dynamic": "strict",
    "properties": {
        "amount": {"type": "scaled_float", "scaling_factor": 100},
        "currency": KEYWORD,
    },
}


def _french(*, keyword: bool = False) -> JsonObject:
    """A searched prose field: French analysis, offsets for the unified highlighter."""
    field: JsonObject = {
        "type": "text",
        "analyzer": FRENCH_ANALYZER,
        "index_options": "offsets",
        "copy_to": ALL_TEXT,
    }
    if keyword:
        # 512 characters keeps exact names for the buyer facet; longer ones are not facetable.
        field["fields"] = {"keyword": {"type": "keyword", "ignore_above": 512}}
    return field


def _object(properties: JsonObject) -> JsonObject:
    return {"dynamic": "strict", "properties": properties}


IDENTIFIER = _object({"scheme": KEYWORD, "id": KEYWORD})
PLACE = _object(
    {"nuts": KEYWORD, "departments": KEYWORD, "regions": KEYWORD, "country": KEYWORD,
     "text": STORED_TEXT}
)  # fmt: skip
DURATION = _object({"value": INTEGER, "unit": KEYWORD, "start_date": DATE, "end_date": DATE})
WINNER = _object(
    {"name": STORED_TEXT, "identifier": IDENTIFIER, "siret": KEYWORD, "siren": KEYWORD,
     "country": KEYWORD}
)  # fmt: skip
ORGANIZATION = _object(
    {
        "name": _french(keyword=True), "identifier": IDENTIFIER, "siret": KEYWORD,
        "siren": KEYWORD, "address": STORED_TEXT, "postal_code": KEYWORD, "city": KEYWORD,
        "department": KEYWORD, "region": KEYWORD, "nuts": KEYWORD, "country": KEYWORD,
        "email": STORED, "phone": STORED, "url": STORED, "contact_name": STORED_TEXT,
    }
)  # fmt: skip
LOT = _object(
    {
        "id": KEYWORD, "title": _french(), "description": _french(), "cpv_main": KEYWORD,
        "cpv_additional": KEYWORD, "estimated_value": AMOUNT, "place": PLACE,
        "duration": DURATION, "submission_deadline": DATE,
    }
)  # fmt: skip
AWARD = _object(
    {
        "lot_id": KEYWORD, "date": DATE, "winners": WINNER, "value": AMOUNT,
        "offers_received": INTEGER, "contract_id": KEYWORD, "title": STORED_TEXT,
    }
)  # fmt: skip
MODIFICATION = _object(
    {"date": DATE, "description": STORED_TEXT, "value": AMOUNT, "duration": DURATION,
     "winners": WINNER}
)  # fmt: skip
RELATED = _object({"relation": KEYWORD, "notice_id": KEYWORD})

NOTICE_PROPERTIES: JsonObject = {
    "schema_version": INTEGER, "id": KEYWORD, "procedure_id": KEYWORD,
    "procedure_match": KEYWORD, "source": KEYWORD, "source_id": KEYWORD, "source_url": STORED,
    "source_notice_type": KEYWORD, "notice_type": KEYWORD, "status": KEYWORD,
    "title": _french(), "description": _french(), "language": KEYWORD, "buyer": ORGANIZATION,
    "contract_nature": KEYWORD, "procedure_type": KEYWORD, "procedure_label": STORED_TEXT,
    "framework_agreement": {"type": "boolean"}, "cpv_main": KEYWORD, "cpv_additional": KEYWORD,
    "lots": LOT, "place": PLACE, "published_at": DATE, "submission_deadline": DATE,
    "estimated_value": AMOUNT, "duration": DURATION, "award_criteria": STORED_TEXT,
    "conditions": STORED_TEXT, "considerations": KEYWORD, "tender_url": STORED,
    "documents_url": STORED, "awards": AWARD, "modifications": MODIFICATION,
    "related": RELATED, "version": {"type": "long"}, "updated_at": DATE,
    "raw_sha256": KEYWORD,
}  # fmt: skip
"""One entry per `Notice` field; a test compares these keys with the Struct's fields."""

DERIVED_PROPERTIES: JsonObject = {
    "cpv": KEYWORD,
    "cpv_division": KEYWORD,
    "department": KEYWORD,
    "region": KEYWORD,
    "nuts": KEYWORD,
    "buyer_id": KEYWORD,
    "indexed_at": DATE,
    "layout": {"type": "keyword", "index": False, "doc_values": False},
}
"""Filter and facet values computed at indexing (see documents.derived_fields)."""

SEARCHED_PROPERTIES: JsonObject = {
    **NOTICE_PROPERTIES,
    "derived": _object(DERIVED_PROPERTIES),
    ALL_TEXT: {"type": "text", "analyzer": FRENCH_ANALYZER},
}

CARD_PROPERTIES: JsonObject = {
    **SEARCHED_PROPERTIES,
    # The card's own fields and every member notice: read back whole, never searched.
    "card": {"type": "object", "enabled": False},
}

HISTORY_PROPERTIES: JsonObject = {
    "notice_id": KEYWORD,
    "version": {"type": "long"},
    "indexed_at": DATE,
    "notice": {"type": "object", "enabled": False},
}


def _settings(replicas: int, shards: int, *, analysis: bool) -> JsonObject:
    settings: JsonObject = {"number_of_shards": shards, "number_of_replicas": replicas}
    if analysis:
        settings["analysis"] = ANALYSIS
    return settings


def index_template(
    pattern: str, kind: str, *, replicas: int, shards: int, priority: int = 100
) -> JsonObject:
    """The composable template body for one kind of index (`notices`, `history`, `procedures`).

    Args:
        pattern: The index pattern (`scope-notices-v*`).
        kind: Which mapping applies.
        replicas: 0 on a single node (a replica could never be allocated: the index would
            stay yellow); 1 or more in a cluster.
        shards: 1 keeps facet counts exact (terms aggregations are exact on one shard) and is
            plenty for millions of notices; raise it only with the data volume.
        priority: Template priority; the prefix's own templates should win over generic ones.
    """
    properties = {
        "notices": SEARCHED_PROPERTIES,
        "procedures": CARD_PROPERTIES,
        "history": HISTORY_PROPERTIES,
    }[kind]
    return {
        "index_patterns": [pattern],
        "priority": priority,
        "template": {
            "settings": _settings(replicas, shards, analysis=kind != "history"),
            "mappings": {"dynamic": "strict", "properties": properties},
        },
        "_meta": {"owner": "scope", "kind": kind},
    }
