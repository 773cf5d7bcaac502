"""BOAMP's XML-as-JSON tree: how to read it, and how to build it from the DILA XML.

Source: the BOAMP notices of DILA, published as XML files (`<ANNONCE>`, Boamp_v230.xsd) and,
on Opendatasoft, as the same tree turned into JSON (`gestion`, `donnees`).
Format: an element with children is an object keyed by child name; a repeated child is a list,
a single one an object (the two flip from notice to notice); an empty element is `""`, so a
code chosen among empty elements is the KEY of an object (`{"TYPE_MARCHE": {"SERVICE": ""}}`);
attributes are `@name` keys and the text of an element that has attributes is `#text`.
Caveats: the JSON keeps xsi types (`{"oui": {"@xsi:type": "xs:string"}}`), which these readers
ignore. `element_to_tree` produces the same shape from lxml so one mapper serves both. The
readers here never raise on odd input (a list where an object was expected, a malformed date):
they return None, so a mapper skips the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

import msgspec
from lxml import etree

from scope_normalizer.values.places import build_place, normalize_department
from scope_normalizer.values.text import clean_text, fold_words
from scope_shared.dates import parse_date, parse_datetime
from scope_shared.reference import department_for_postal_code, regions
from scope_shared.schema import Place

Tree = dict[str, Any]

_DEPARTMENT_IN_PARENS = re.compile(r"\((\d{2,3}|2[AB])\)")
_LONGEST_REGION_NAME = 40
_POSTAL_CODE = re.compile(r"(?<![\d,.])(\d{5}|\d{2} \d{3})(?![\d,.])")


def as_list(value: object) -> list[Any]:
    """A repeated element as a list whether the tree holds one item, several, or none."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


def node(value: object) -> Tree | None:
    """The object at `value`; the first one when the element was repeated."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                return item
    return None


def dig(value: object, *keys: str) -> Any:
    """Follow `keys` down the tree; a repeated element on the way is read at its first item."""
    current: Any = value
    for key in keys:
        # A dict, nearly always: `node` is called only for the rest (a repeated element).
        if not isinstance(current, dict):
            current = node(current)
            if current is None:
                return None
        current = current.get(key)
    return current


def text(value: object) -> str | None:
    """The text of a leaf: a string, the `#text` of an element with attributes, or a number."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return text(value.get("#text"))
    if isinstance(value, list) and value:
        return text(value[0])
    return None


def attr(value: object, name: str) -> str | None:
    found = node(value)
    if found is None:
        return None
    result = found.get(f"@{name}")
    return result if isinstance(result, str) else None


def codes(value: object) -> list[str]:
    """The codes of an empty-element choice: its child names (`{"OUVERT": ""}` -> `OUVERT`)."""
    if isinstance(value, str):
        stripped = value.strip()
        return [stripped] if stripped else []
    found = node(value)
    if found is None:
        return []
    return [key for key in found if key[:1] not in ("@", "#")]


def code(value: object) -> str | None:
    found = codes(value)
    return found[0] if found else None


def has(value: object, key: str) -> bool:
    found = node(value)
    return found is not None and key in found


def one_line(value: object) -> str | None:
    """A title: the cleaned text of a leaf with its line breaks folded into spaces."""
    cleaned = clean_text(text(value))
    return " ".join(cleaned.split()) if cleaned else None


def texts_under(value: object) -> list[str]:
    """Every non-empty text leaf below `value`, in document order (attributes left out)."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if current.strip():
                out.append(current)
        elif isinstance(current, dict):
            stack.extend(reversed([v for k, v in current.items() if not k.startswith("@")]))
        elif isinstance(current, list):
            stack.extend(reversed(current))
    return out


def to_datetime(value: object) -> datetime | None:
    """`parse_datetime` of a leaf, None for a malformed one (a `2016-13-45` must not crash)."""
    try:
        return parse_datetime(text(value))
    except (ValueError, OverflowError):
        return None


def to_date(value: object) -> date | None:
    try:
        return parse_date(text(value))
    except (ValueError, OverflowError):
        return None


def to_int(value: object) -> int | None:
    """A non-negative integer leaf (`"34"`, `34`); None otherwise."""
    found = text(value)
    if found is None:
        return None
    stripped = found.strip()
    if not stripped.isdigit() or len(stripped) > 9:
        return None
    return int(stripped)


def departments_in_text(value: str | None) -> list[str]:
    """Départements named in a free-text place: `Argonay (74)`, `... 92300 - LEVALLOIS`."""
    if not value:
        return []
    found: list[str] = []
    for match in _DEPARTMENT_IN_PARENS.finditer(value):
        dep = normalize_department(match.group(1))
        if dep and dep not in found:
            found.append(dep)
    for match in _POSTAL_CODE.finditer(value):
        dep = department_for_postal_code(match.group(1))
        if dep and dep not in found:
            found.append(dep)
    return found


def _local(name: str) -> str:
    """`{namespace}name` -> `name`; BOAMP elements have no namespace, only xsi attributes."""
    return name.rsplit("}", 1)[-1] if name[:1] == "{" else name


@cache
def _regions_by_name() -> dict[str, str]:
    return {fold_words(r.name): r.code for r in regions()}


@cache
def _regions_by_nuts1() -> dict[str, str]:
    found: dict[str, list[str]] = {}
    for r in regions():
        if r.nuts1:
            found.setdefault(r.nuts1, []).append(r.code)
    # FRY (overseas) spans five regions: it names none of them.
    return {nuts1: codes[0] for nuts1, codes in found.items() if len(codes) == 1}


def place_of(
    place_text: str | None, nuts: Sequence[str] = (), departments: Sequence[str] = ()
) -> Place | None:
    """A Place from BOAMP's place fields, with what the free text and NUTS codes say.

    Départements come from `(74)` or a postal code in the text, regions also from a text that
    is a region's name (`Normandie`) and from NUTS-1 codes; a NUTS code of an older version
    (`FR825`, used until 2017) that no longer exists adds nothing.
    """
    place = build_place(
        nuts=list(nuts),
        departments=[*departments, *departments_in_text(place_text)],
        text=place_text,
    )
    extra = {r for r in (_regions_by_nuts1().get(n[:3]) for n in nuts) if r}
    # Only a short text can be a region's name; folding long addresses would be wasted work.
    short = place_text if place_text and len(place_text) <= _LONGEST_REGION_NAME else None
    if short and (named := _regions_by_name().get(fold_words(short))):
        extra.add(named)
    if place is None or extra <= set(place.regions):
        return place
    return msgspec.structs.replace(
        place, regions=sorted({*place.regions, *extra}), country=place.country or "FR"
    )


def merge_places(places: Sequence[Place | None]) -> Place | None:
    """One Place covering several (the lots of a notice, the body and the index)."""
    found = [p for p in places if p is not None]
    if len(found) <= 1:
        return found[0] if found else None
    countries = {p.country for p in found if p.country}
    texts = list(dict.fromkeys(p.text for p in found if p.text))
    return Place(
        nuts=sorted({n for p in found for n in p.nuts}),
        departments=sorted({d for p in found for d in p.departments}),
        regions=sorted({r for p in found for r in p.regions}),
        country=countries.pop() if len(countries) == 1 else None,
        text=texts[0] if len(texts) == 1 else None,
    )


def element_to_tree(element: etree._Element) -> Any:
    """An lxml element in the JSON shape Opendatasoft gives the same BOAMP element.

    Hot path (every element of every notice): leaves, most of the tree, return early.
    """
    attrib = element.attrib
    tree: Tree = {f"@{_local(k)}": v for k, v in attrib.items()} if attrib else {}
    content = element.text
    content = content.strip() if content else ""
    if len(element) == 0:
        if not tree:
            return content
        if content:
            tree["#text"] = content
        return tree
    if content:
        tree["#text"] = content
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # an entity reference left unresolved
            continue
        name = tag if tag[0] != "{" else _local(tag)
        value = element_to_tree(child)
        known = tree.get(name)
        if known is None:
            tree[name] = value
        elif isinstance(known, list):
            known.append(value)
        else:
            tree[name] = [known, value]
    return tree
