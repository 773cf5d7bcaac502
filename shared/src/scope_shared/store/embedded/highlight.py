"""Highlights computed in Python on the original text.

The FTS table holds analysed tokens (`amenag`), so FTS5's `highlight()` and `snippet()` would
return stems, not the words a reader sees. Instead each word of the original title or
description is analysed with the same chain as the index, and a word is marked when one of its
tokens is a token of the query's required terms. Text around the marks is HTML-escaped.
"""

from __future__ import annotations

import html

from scope_shared.schema import Notice
from scope_shared.store.embedded.analysis import analyse_word, words

FRAGMENT_SIZE = 150
"""Characters per description fragment, about OpenSearch's default of 100 plus the word
around it: enough for a sentence of context in a result list."""
MAX_FRAGMENTS = 3
"""Description fragments per hit: a result list shows two or three lines at most."""
_LEAD = 40
"""Context kept before the first match of a fragment."""


def _spans(text: str, tokens: set[str]) -> list[tuple[int, int]]:
    return [
        (m.start(), m.end()) for m in words(text) if not tokens.isdisjoint(analyse_word(m.group()))
    ]


def _escape(text: str) -> str:
    """As OpenSearch's `html` highlight encoder (Lucene's SimpleHTMLEncoder) escapes: the
    five HTML characters, and `/` as `&#x2F;`."""
    return html.escape(text).replace("/", "&#x2F;")


def _mark(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """`text[start:end]` with the spans inside it wrapped in <em>, the rest escaped."""
    parts: list[str] = []
    position = start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(_escape(text[position:span_start]))
        parts.append(f"<em>{_escape(text[span_start:span_end])}</em>")
        position = span_end
    parts.append(_escape(text[position:end]))
    return "".join(parts).strip()


def _word_start(text: str, index: int) -> int:
    """Move back to the start of the word `index` falls in, so no fragment cuts a word."""
    while index > 0 and not text[index - 1].isspace():
        index -= 1
    return index


def _word_end(text: str, index: int) -> int:
    while index < len(text) and not text[index].isspace():
        index += 1
    return index


def fragments(text: str | None, tokens: set[str], *, whole: bool) -> list[str]:
    """Marked fragments of `text` (the whole text when `whole`), none if nothing matched."""
    if not text or not tokens:
        return []
    spans = _spans(text, tokens)
    if not spans:
        return []
    if whole:
        return [_mark(text, 0, len(text), spans)]
    result: list[str] = []
    covered = 0
    for span_start, _ in spans:
        if span_start < covered:
            continue
        start = max(covered, _word_start(text, max(0, span_start - _LEAD)))
        end = _word_end(text, min(len(text), start + FRAGMENT_SIZE))
        result.append(_mark(text, start, end, spans))
        covered = end
        if len(result) == MAX_FRAGMENTS:
            break
    return result


def highlights(notice: Notice, tokens: set[str]) -> dict[str, list[str]]:
    """The contract's `Hit.highlights`: field -> fragments, only fields with a match.

    Fields are named by their path in the notice, as OpenSearch names highlighted fields:
    `title` and `buyer.name` whole, `description` and each lot's text in fragments.
    """
    lot_titles = [f for lot in notice.lots for f in fragments(lot.title, tokens, whole=True)]
    lot_texts = [f for lot in notice.lots for f in fragments(lot.description, tokens, whole=False)]
    found = {
        "title": fragments(notice.title, tokens, whole=True),
        "description": fragments(notice.description, tokens, whole=False),
        "buyer.name": fragments(notice.buyer.name if notice.buyer else None, tokens, whole=True),
        "lots.title": lot_titles[:MAX_FRAGMENTS],
        "lots.description": lot_texts[:MAX_FRAGMENTS],
    }
    return {name: marked for name, marked in found.items() if marked}
