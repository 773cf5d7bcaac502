"""eForms notices: one UBL 2.3 XML document is one notice.

Source: TED (`https://ted.europa.eu/en/notice/<publication-number>/xml`, daily OJ S packages)
since November 2022, and BOAMP for the notices it forwards to TED.
Format: eForms UBL 2.3, roots `ContractNotice`, `PriorInformationNotice`, `ContractAwardNotice`
and `BusinessRegistrationInformationNotice` (eForms SDK 1.3 to 1.15).
Caveats:
    - The publication number exists only once TED has published the notice: it is added in
      `efac:Publication` as `efbc:NoticePublicationID` zero-padded to 8 digits (`00486429-2023`),
      while the TED API and TED's pages write it without padding (`486429-2023`). Scope uses the
      API form. A notice not yet published (the SDK examples, a BOAMP copy sent before TED's
      publication) is named by its notice UUID and version instead (`<uuid>-01`).
    - The root element may be in the default namespace or prefixed (`<urn:ContractAwardNotice>`):
      the root is recognised by its local name, everything below it by its real namespace.
    - The parser resolves no entity and fetches nothing: notices come from outside.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from lxml import etree

from scope_shared.dates import parse_datetime
from scope_shared.documents.base import DocumentItem
from scope_shared.documents.ted import publication_number
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

NAMESPACES = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
"""The UBL and eForms namespaces every notice uses below its root."""

EFORMS_ROOTS = frozenset(
    {
        "ContractNotice",
        "PriorInformationNotice",
        "ContractAwardNotice",
        "BusinessRegistrationInformationNotice",
    }
)

EXTENSION = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"
"""Where eForms keeps what UBL has no element for (organisations, results, publication)."""

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    remove_comments=True,
    remove_pis=True,
    # eForms UBL has no mixed content: the whitespace between elements is indentation only.
    # Dropping it makes the tree smaller, parsing about 15% faster.
    remove_blank_text=True,
)


def tag(prefixed: str) -> str:
    """A prefixed eForms name in Clark notation.

    Args:
        prefixed: `cbc:Name`, with a prefix of `NAMESPACES`.

    Returns:
        `{urn:...CommonBasicComponents-2}Name`, as lxml names elements.
    """
    prefix, local = prefixed.split(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


_EXTENSION_PATH = tuple(tag(step) for step in EXTENSION.split("/"))
_PUBLICATION = tag("efac:Publication")
_PUBLICATION_ID = tag("efbc:NoticePublicationID")
_PUBLICATION_DATE = tag("efbc:PublicationDate")
_ID = tag("cbc:ID")
_VERSION = tag("cbc:VersionID")
_ISSUE_DATE = tag("cbc:IssueDate")


class Publication(NamedTuple):
    """When and under which number a notice appeared."""

    number: str | None
    """The OJ S publication number (`486429-2023`), once TED has published the notice."""
    day: str | None
    """The OJ S publication date (`2023-08-10Z`), else the dispatch date (BT-05), as written."""


def parse_notice(data: bytes) -> etree._Element:
    """The root element of one eForms notice; PermanentError when it is not one."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise PermanentError(f"not well-formed XML: {exc}", field_path="/") from exc
    if not isinstance(root.tag, str) or etree.QName(root).localname not in EFORMS_ROOTS:
        raise PermanentError("the root is not an eForms notice", field_path="/")
    return root


def eforms_extension(node: etree._Element | None) -> etree._Element | None:
    """`node`'s `efext:EformsExtension` (under `ext:UBLExtensions/.../ExtensionContent`)."""
    found = [node] if node is not None else []
    for step in _EXTENSION_PATH:
        found = [child for parent in found for child in parent.iterchildren(step)]
    return found[0] if found else None


def publication(root: etree._Element, extension: etree._Element | None) -> Publication:
    """The notice's publication number and day; `extension` is the root's EformsExtension."""
    published = next(extension.iterchildren(_PUBLICATION), None) if extension is not None else None
    number = publication_number(_text(published, _PUBLICATION_ID))
    return Publication(number, _text(published, _PUBLICATION_DATE) or _text(root, _ISSUE_DATE))


def notice_source_id(root: etree._Element, number: str | None) -> str:
    """The publication number once published, else `<notice uuid>-<version>`."""
    if number:
        return number
    ids = [
        (child.get("schemeName"), text)
        for child in root.iterchildren(_ID)
        if (text := (child.text or "").strip())
    ]
    if not ids:
        raise PermanentError("the notice has no identifier", field_path="/cbc:ID")
    uuid = next((text for scheme, text in ids if scheme == "notice-id"), ids[0][1])
    version = _text(root, _VERSION)
    return f"{uuid}-{version}" if version else uuid


def split_eforms(data: bytes) -> Iterator[DocumentItem]:
    """One eForms notice file as one DocumentItem carrying the exact bytes."""
    root = parse_notice(data)
    published = publication(root, eforms_extension(root))
    yield DocumentItem(
        source_id=notice_source_id(root, published.number),
        format=RawFormat.EFORMS_XML,
        payload=data,
        published_at=parse_datetime(published.day),
    )


def _text(node: etree._Element | None, child_tag: str) -> str | None:
    """The first non-empty text of `node`'s children named `child_tag`, stripped."""
    if node is None:
        return None
    for child in node.iterchildren(child_tag):
        if child.text and child.text.strip():
            return child.text.strip()
    return None
