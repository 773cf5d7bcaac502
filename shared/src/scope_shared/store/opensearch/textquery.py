"""The contract's simple search syntax, parsed into terms (no search engine syntax involved).

`words` are all required, `"quoted phrases"` match as phrases, `-term` excludes, `+term`
requires (as a plain word does), and `OR` (upper case, between two terms) makes either one
enough. User text never reaches a query parser: queries.py turns each term into a `match` or
`match_phrase` clause, so `title:x`, `*` or `AND(` are just words.
"""

from __future__ import annotations

import msgspec

from scope_shared.store.embedded import syntax


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


def parse(q: str) -> ParsedQuery:
    """Parse a user's query; never fails (stray quotes and signs are read as plainly as
    possible: an unclosed quote runs to the end, a lone `-` is ignored).

    One grammar for both stores: this is the embedded store's parser (`embedded.syntax`),
    whose French analysis decides which terms count (a term of stop words only is ignored,
    also next to `OR`); each term keeps its text for the node to analyse, and is a phrase when
    quoted or when the analysis cuts it in several tokens (`Saint-Denis`).
    """
    query = syntax.parse(q)
    return ParsedQuery(
        required=[[_term(t) for t in group] for group in query.required],
        excluded=[_term(t) for t in query.excluded],
    )


def _term(term: syntax.Term) -> Term:
    return Term(" ".join(term.text.split()), phrase=term.quoted or len(term.tokens) > 1)
