"""An XML element's children grouped by tag: the reader of the XML mappers' dense blocks."""

from __future__ import annotations

from lxml import etree

Element = etree._Element


class Children:
    """One element's child elements, grouped by tag (Clark notation) in a single pass.

    Reading several leaves of one block (a project, an address, a period) this way costs one
    walk over its children, where one XPath or ElementPath lookup per leaf would cost several
    times more.

    Attributes:
        node: The element read, None for an absent one (which has no children).
    """

    __slots__ = ("_groups", "node")

    def __init__(self, node: Element | None) -> None:
        self.node = node
        groups: dict[object, list[Element]] = {}
        if node is not None:
            for child in node:
                tag = child.tag
                if tag in groups:
                    groups[tag].append(child)
                else:
                    groups[tag] = [child]
        self._groups = groups

    def all(self, tag: str) -> list[Element]:
        return self._groups.get(tag, [])

    def first(self, tag: str) -> Element | None:
        found = self._groups.get(tag)
        return found[0] if found else None

    def text(self, tag: str) -> str | None:
        for child in self._groups.get(tag, ()):
            if (text := child.text) and (text := text.strip()):
                return text
        return None

    def texts(self, tag: str) -> list[str]:
        return [
            text.strip()
            for child in self._groups.get(tag, ())
            if (text := child.text) and text.strip()
        ]
