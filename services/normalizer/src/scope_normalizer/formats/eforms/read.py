"""Reading values out of eForms elements: texts, translations, amounts.

The helpers take what a compiled XPath returns (a list) or an element, and never raise on odd
content: a value that is not what its position promises reads as None.
"""

from __future__ import annotations

from functools import lru_cache

import msgspec

from scope_normalizer.formats.eforms.codes import LANGUAGES, PREFERRED_LANGUAGE
from scope_normalizer.formats.eforms.xpaths import ID, Element
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Amount


def first_child(node: Element | None, tag: str) -> Element | None:
    """`node`'s first child named `tag`.

    The children are looked at one by one: the blocks read this way have a handful of
    children, and lxml's `iterchildren(tag)` sets up a tag matcher at each call that costs
    more than that walk."""
    if node is not None:
        for child in node:
            if child.tag == tag:
                return child
    return None


def children_named(node: Element | None, tag: str) -> list[Element]:
    """`node`'s children named `tag` (walked as in `first_child`)."""
    return [child for child in node if child.tag == tag] if node is not None else []


def child_text(node: Element | None, tag: str) -> str | None:
    """The first non-empty text of `node`'s children named `tag` (walked as in `first_child`)."""
    if node is not None:
        for child in node:
            if child.tag == tag and (text := child.text) and (text := text.strip()):
                return text
    return None


def ref_ids(holders: list[Element]) -> list[str]:
    """The `cbc:ID`s of reference elements (`efac:TenderLot`...), in order."""
    return [ref for holder in holders if (ref := child_text(holder, ID))]


def clean(value: str | None) -> str | None:
    """`clean_text`, skipped for the common one-line text it would only strip.

    eForms texts are plain and mostly one line; `clean_text`'s markup and whitespace passes
    cost more than the rest of a notice's mapping, so they run only when a character they
    act on may be present: markup (`<`, `&`), a double space, or a character that is not
    printable. Every line break, tab and no-break space is one of those (so are a few more
    characters, which `clean_text` leaves as they are). `str.isprintable` is one pass in C,
    about twice as fast as a regex character class on a long description.
    """
    if value is None:
        return None
    if not value.isprintable() or "<" in value or "&" in value or "  " in value:
        return _clean_text(value)
    return value.strip() or None


@lru_cache(maxsize=512)
def _clean_text(value: str) -> str | None:
    """Memoised: a notice repeats its long texts (the procedure's description again on its
    only lot, the same criteria on every lot)."""
    return clean_text(value)


class Languages(msgspec.Struct, frozen=True):
    """Picks one translation of a multilingual text: French, else the notice's language.

    Attributes:
        notice: The notice's official language (BT-702), eForms upper-case code.
    """

    notice: str | None

    def pick(self, elements: object) -> tuple[str | None, str | None]:
        """The chosen text (cleaned) and its eForms language code, of elements with
        `@languageID`."""
        best: tuple[int, str, str | None] | None = None
        for element in elements if isinstance(elements, list) else ():
            if not isinstance(element, Element):
                continue
            language = (element.get("languageID") or self.notice or "").strip().upper() or None
            rank = 0 if language == PREFERRED_LANGUAGE else 1 if language == self.notice else 2
            # Only a better-ranked translation is worth cleaning: cleaning is the costly part.
            if best is not None and rank >= best[0]:
                continue
            text = clean(element.text)
            if text is None:
                continue
            best = (rank, text, language)
            if rank == 0:
                break
        return (best[1], best[2]) if best else (None, None)

    def text(self, elements: object) -> str | None:
        return self.pick(elements)[0]


def iso_language(code: str | None) -> str | None:
    """`FRA` -> `fr`; None for a code Scope does not know."""
    return LANGUAGES.get(code.upper()) if code else None


def strings(values: object) -> list[str]:
    """The non-empty, stripped strings of a `text()` XPath result."""
    if not isinstance(values, list):
        return []
    return [text for value in values if isinstance(value, str) and (text := value.strip())]


def string(values: object) -> str | None:
    """The first non-empty, stripped string of a `text()` XPath result."""
    if isinstance(values, list):
        for value in values:
            if isinstance(value, str) and (text := value.strip()):
                return text
    return None


def elements(values: object) -> list[Element]:
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, Element)]


def element(values: object) -> Element | None:
    if isinstance(values, list):
        for value in values:
            if isinstance(value, Element):
                return value
    return None


def element_text(node: Element | None) -> str | None:
    """The stripped text of `node`; None when absent or blank.

    `text` is read once: lxml builds a new string at each access."""
    if node is None:
        return None
    text = node.text
    return text.strip() or None if text else None


def unique(values: list[str]) -> list[str]:
    """Values in first-seen order, without repeats."""
    return list(dict.fromkeys(values))


def amount(value: Element | None) -> Amount | None:
    """An amount element with its `@currencyID` (BT-27, BT-720...)."""
    if value is None:
        return None
    return parse_amount((value.text or "").strip(), value.get("currencyID"))
