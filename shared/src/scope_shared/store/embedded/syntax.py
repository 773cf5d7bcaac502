"""The contract's simple query syntax, parsed, analysed, and written as an FTS5 MATCH expression.

Syntax (contract module docstring): words, all required; `"quoted phrases"`; `-excluded`;
`+required` (the same as a bare word); `OR` between words or phrases. `OR` binds tighter than
the implicit AND: `école OR collège travaux` is `(école OR collège) AND travaux`.

User text never reaches MATCH as written: every term is run through the French analysis and
each resulting token is written inside double quotes, so FTS5 operators (`NEAR`, `*`, `^`,
column filters, parentheses) typed by a user are plain words or are dropped by the analysis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scope_shared.store.embedded.analysis import analyse

_PIECE = re.compile(r'([+-]?)(?:"([^"]*)"?|(\S+))')


@dataclass(frozen=True)
class Term:
    """One word or phrase after analysis: a phrase when it has several tokens."""

    tokens: tuple[str, ...]
    text: str = ""
    """As typed: what the OpenSearch store hands to the node, which analyses it itself."""
    quoted: bool = False

    def fts(self) -> str:
        """The term as an FTS5 string literal: a phrase of quoted, analysed tokens."""
        return '"' + " ".join(t.replace('"', '""') for t in self.tokens) + '"'


@dataclass
class TextQuery:
    """A parsed query: an AND of OR-groups of terms, minus the excluded terms.

    Attributes:
        required: Every group must match; inside a group, any term.
        excluded: No hit may match any of these.
    """

    required: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def positive_tokens(self) -> set[str]:
        """Tokens a hit may contain because of the query: what highlights mark."""
        return {token for group in self.required for term in group for token in term.tokens}

    def include_expression(self) -> str | None:
        """The MATCH expression of the required groups, None when there are none."""
        if not self.required:
            return None
        return " AND ".join(_group(group) for group in self.required)

    def exclude_expression(self) -> str | None:
        """The MATCH expression any excluded term matches, None when there are none."""
        if not self.excluded:
            return None
        return " OR ".join(term.fts() for term in self.excluded)

    def match_expression(self) -> str | None:
        """Required groups minus exclusions, as FTS5 evaluates them in one MATCH."""
        include = self.include_expression()
        exclude = self.exclude_expression()
        if include is None:
            return None
        return include if exclude is None else f"({include}) NOT ({exclude})"


def _group(terms: list[Term]) -> str:
    if len(terms) == 1:
        return terms[0].fts()
    return "(" + " OR ".join(term.fts() for term in terms) + ")"


def parse(text: str) -> TextQuery:
    """Parse and analyse a user query; never fails, whatever the text.

    A term made only of stop words (`le`, `de la`) analyses to nothing and is ignored, as a
    `match` query with `zero_terms_query: all` ignores it in OpenSearch; a query left with no
    term at all is no text criterion.
    """
    query = TextQuery()
    last_required = False
    pending_or = False
    for match in _PIECE.finditer(text):
        sign, phrase, word = match.group(1), match.group(2), match.group(3)
        raw = phrase if phrase is not None else word
        if phrase is None and word == "OR" and not sign:
            pending_or = last_required
            continue
        tokens = tuple(analyse(raw))
        term = Term(tokens, raw, quoted=phrase is not None)
        if sign == "-" and tokens:
            query.excluded.append(term)
        elif tokens and pending_or:
            query.required[-1].append(term)
        elif tokens:
            query.required.append([term])
        last_required = bool(tokens) and sign != "-"
        pending_or = False
    return query


def buyer_name_expression(name: str) -> str | None:
    """Every word of a buyer name, required in the FTS `buyer` column; None if none is left."""
    tokens = analyse(name)
    if not tokens:
        return None
    return " AND ".join(f"{{buyer}} : {Term((token,)).fts()}" for token in tokens)
