"""The contract's simple search syntax, parsed into terms (no search engine syntax involved).

`words` are all required, `"quoted phrases"` match as phrases, `-term` excludes, `+term`
requires (as a plain word does), and `OR` (upper case, between two terms) makes either one
enough. User text never reaches a query parser: queries.py turns each term into a `match` or
`match_phrase` clause, so `title:x`, `*` or `AND(` are just words.
"""

from __future__ import annotations

import re

import msgspec

from scope_shared.store.embedded.analysis import analyse

_TOKEN = re.compile(r'([+-]?)(?:"([^"]*)"?|(\S+))')


class Term(msgspec.Struct, frozen=True):
    text: str
    phrase: bool = False


class ParsedQuery(msgspec.Struct, frozen=True):
    required: list[list[Term]]
    """Each inner list is one OR group: at least one of its terms must match."""
    excluded: list[Term]

    @property
    def positive_text(self) -> str:
        """Every required word and phrase as plain text, for relevance scoring."""
        return " ".join(t.text for group in self.required for t in group)


def _tokens(q: str) -> list[tuple[str, Term | None]]:
    """(sign, term) pairs; an `OR` keyword is ("OR", None)."""
    out: list[tuple[str, Term | None]] = []
    for match in _TOKEN.finditer(q):
        sign, phrase, word = match.group(1), match.group(2), match.group(3)
        if phrase is not None:
            text = " ".join(phrase.split())
            if text:
                out.append((sign, Term(text, phrase=True)))
        elif word == "OR" and not sign:
            out.append(("OR", None))
        elif word.strip("+-"):
            out.append((sign, Term(word)))
    return out


def parse(q: str) -> ParsedQuery:
    """Parse a user's query; never fails (stray quotes and signs are read as plainly as
    possible: an unclosed quote runs to the end, a lone `-` is ignored).

    The rules are the embedded store's (`embedded.syntax.parse`), so both stores read a query
    alike, decided on the same French analysis: a term of stop words only (`le`, `"de la"`) is
    ignored, also next to `OR`, and a query left without terms is no text criterion; `OR`
    joins a term to the required term before it, not to an excluded one; a word the analysis
    cuts in several tokens (`Saint-Denis`) is a phrase.
    """
    required: list[list[Term]] = []
    excluded: list[Term] = []
    last_required = pending_or = False
    for sign, term in _tokens(q):
        if term is None:
            pending_or = last_required
            continue
        tokens = analyse(term.text)
        if not tokens:
            last_required = pending_or = False
            continue
        kept = Term(term.text, phrase=True) if len(tokens) > 1 else term
        if sign == "-":
            excluded.append(kept)
        elif pending_or:
            required[-1].append(kept)
        else:
            required.append([kept])
        last_required, pending_or = sign != "-", False
    return ParsedQuery(required=required, excluded=excluded)
