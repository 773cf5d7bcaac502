"""Reading an R2.0.9 `TED_EXPORT` tree: element names, the sections a mapper uses, text, values.

Every path is a Clark-notation string built once here and compiled once, on first use, into
an XPath expression (`find`, `find_all`): a lookup is a walk down a few children, never a
search of the whole tree, and evaluating a compiled XPath costs about half of lxml's
`find`/`findtext` (ElementPath), which a notice calls some sixty times.
NUTS elements live in a namespace that changes with the NUTS edition (`.../ted/2016/nuts`,
`.../ted/2021/nuts`), so they are matched by local name (`{*}NUTS`) among an element's
children.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from lxml import etree

from scope_normalizer.formats.children import Children
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.identifiers import normalize_cpv
from scope_normalizer.values.text import clean_text
from scope_shared.documents.ted import TED_NAMESPACE
from scope_shared.schema import Amount

T = f"{{{TED_NAMESPACE}}}"

_NUTS_CODE = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")


@cache
def path(*names: str) -> str:
    """`path("OBJECT_CONTRACT", "TITLE")` -> the namespaced ElementPath of that child.

    Cached, so that readers may name paths where they use them at the cost of a dict lookup.
    """
    return "/".join(f"{T}{name}" for name in names)


P = path("P")
NOTICE_DATA = path("CODED_DATA_SECTION", "NOTICE_DATA")
CODIF_DATA = path("CODED_DATA_SECTION", "CODIF_DATA")
DATE_PUB = path("CODED_DATA_SECTION", "REF_OJS", "DATE_PUB")
FORM_SECTION = path("FORM_SECTION")
ML_TITLES = path("TRANSLATION_SECTION", "ML_TITLES", "ML_TI_DOC")
TI_TEXT = path("TI_TEXT")
OBJECT_CONTRACT = path("OBJECT_CONTRACT")
PROCEDURE = path("PROCEDURE")
CONTRACTING_BODY = path("CONTRACTING_BODY")
LG_ORIG = path("LG_ORIG")
ISO_COUNTRY = path("ISO_COUNTRY")


class Sections(NamedTuple):
    """The parts of one document every reader needs, found once."""

    root: etree._Element
    notice_data: etree._Element | None
    codif: Children
    """CODIF_DATA, TED's coding of the notice, read once (several readers take codes from it)."""
    language: str | None
    """The original language as published (`LG_ORIG`: `FR`)."""
    form: etree._Element
    body: Children
    """CONTRACTING_BODY (section I), read once."""
    buyer_address: Children
    """Its ADDRESS_CONTRACTING_BODY (I.1), read once."""
    object_contract: Children
    """OBJECT_CONTRACT (section II), read once."""
    procedure: Children
    """PROCEDURE (section IV), read once."""
    country: str | None
    """The buyer's country as published (`FR`, `UK`), from the form or CODED_DATA."""


@cache
def _compiled(where: str) -> etree.ETXPath:
    return etree.ETXPath(where)


def find_all(element: etree._Element, where: str) -> list[etree._Element]:
    """The elements at the path `where` below `element`, in document order."""
    found = _compiled(where)(element)
    return found if isinstance(found, list) else []


def find(element: etree._Element | None, where: str) -> etree._Element | None:
    """The first element at the path `where` below `element` (what `element.find` returns)."""
    if element is None:
        return None
    found = find_all(element, where)
    return found[0] if found else None


def local_name(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def original_form(root: etree._Element, language: str | None) -> etree._Element | None:
    """The form in the original language: `CATEGORY="ORIGINAL"`, else the one in `LG_ORIG`."""
    section = find(root, FORM_SECTION)
    if section is None:
        return None
    forms = [child for child in section if child.get("FORM")]
    for form in forms:
        if form.get("CATEGORY") == "ORIGINAL":
            return form
    for form in forms:
        if language and form.get("LG") == language:
            return form
    return forms[0] if forms else None


def leaf(element: etree._Element | None, where: str) -> str | None:
    """The stripped text of the child at `where`, or None when absent or blank."""
    return text_of(find(element, where))


def text_of(element: etree._Element | None) -> str | None:
    """The stripped text of an element found already, or None when absent or blank."""
    value = element.text if element is not None else None
    return value.strip() or None if value else None


def code_of(element: etree._Element | None, attribute: str = "CODE") -> str | None:
    """An attribute (a code) of an element found already, stripped."""
    value = element.get(attribute) if element is not None else None
    return value.strip() or None if value else None


def text_content(element: etree._Element) -> str:
    """All the text inside `element`, as `"".join(element.itertext())`.

    Most paragraphs hold plain text: their own `text` is all of it, read without lxml's
    `itertext` generator, which costs more than the rest of reading a paragraph."""
    if len(element) == 0:
        return element.text or ""
    return "".join(element.itertext())


def block(element: etree._Element | None) -> str | None:
    """A text block (`<P>` paragraphs, or plain text) as clean text, one line per paragraph."""
    if element is None:
        return None
    paragraphs = [child for child in element if child.tag == P]
    if paragraphs:
        return clean_text("\n".join(text_content(p) for p in paragraphs))
    return clean_text(text_content(element))


def block_at(element: etree._Element | None, where: str) -> str | None:
    return block(find(element, where))


def code(element: etree._Element | None, where: str, attribute: str = "CODE") -> str | None:
    """An attribute (a code) of the child at `where`, stripped."""
    return code_of(find(element, where), attribute)


def nuts_codes(element: etree._Element | None, name: str = "NUTS") -> list[str]:
    """The valid NUTS codes of the `name` children, whatever the NUTS edition's namespace."""
    if element is None:
        return []
    found: list[str] = []
    for child in element.iterchildren(f"{{*}}{name}"):
        value = (child.get("CODE") or "").strip().upper()
        if _NUTS_CODE.match(value) and value not in found:
            found.append(value)
    return found


def cpv_codes(element: etree._Element | None, where: str) -> list[str]:
    """The CPV codes of every `<... CODE>` at `where`, cleaned, in order, without repeats."""
    if element is None:
        return []
    found: list[str] = []
    for child in find_all(element, where):
        cpv = normalize_cpv(child.get("CODE"))
        if cpv and cpv not in found:
            found.append(cpv)
    return found


def amount(element: etree._Element | None, where: str) -> Amount | None:
    """A money value with its `CURRENCY` attribute (EUR when the attribute is missing)."""
    return amount_of(find(element, where))


def amount_of(element: etree._Element | None) -> Amount | None:
    """`amount` of an element found already."""
    if element is None or not element.text:
        return None
    return parse_amount(element.text.strip(), element.get("CURRENCY") or "EUR")


def count(element: etree._Element | None, where: str) -> int | None:
    """A non-negative whole number (a number of tenders, a duration)."""
    return count_of(find(element, where))


def count_of(element: etree._Element | None) -> int | None:
    """`count` of an element found already."""
    value = text_of(element)
    if value is None or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number < 10**9 else None
