"""TED documents: Search API v3 responses and R2.0.9 `TED_EXPORT` files, one notice per item.

Source: `POST https://api.ted.europa.eu/v3/notices/search` (JSON) and TED's XML notices before
eForms (`TED_EXPORT`, one file per notice in the daily OJ S packages).
Format: a search response is `{"notices": [...], "totalNoticeCount": int, "iterationNextToken":
str | null}`; each notice is an object holding the requested `fields` (legacy aliases such as
`ND`, `PD`, `RN` answer too) and `links`. An R2.0.9 file is one notice: root `TED_EXPORT` with
`DOC_ID="091489-2019"` and `CODED_DATA_SECTION/REF_OJS/DATE_PUB` (`YYYYMMDD`).
Caveats:
    - One notice, two spellings: the API writes the publication number without padding
      (`67623-2022`), R2.0.9 pads it (`DOC_ID="091489-2019"`) and cites it as `2019/S 040-091489`
      (`NO_DOC_OJS`). Scope uses the API form everywhere so both sources name a notice alike.
    - A search page may hold the same notice twice (the stored real response does); both are
      yielded and JetStream's deduplication id (source, source_id, digest) keeps one.
    - R2.0.9 file names are reception ids (`19-090974-001`), not publication numbers: the id
      is read from the document, never from its name.
    - The parser resolves no entity and fetches nothing: documents come from outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec
from lxml import etree

from scope_shared.dates import BRUSSELS, parse_datetime
from scope_shared.documents.base import DocumentItem, OnRejected, RejectedItem
from scope_shared.errors import PermanentError
from scope_shared.schema import RawFormat

TED_NAMESPACE = "http://publications.europa.eu/resource/schema/ted/R2.0.9/publication"
"""The default namespace of every R2.0.9 `TED_EXPORT` document (S01 to S05)."""

NOTICE_PAGE = "https://ted.europa.eu/en/notice/-/detail/{}"
"""A notice's page on TED, as the API's own `links.html.ENG` writes it."""

OJ_ZONE = BRUSSELS
"""The OJ S is dated in Luxembourg/Brussels time: a bare publication date starts there."""

_T = f"{{{TED_NAMESPACE}}}"
_DATE_PUB = f"{_T}CODED_DATA_SECTION/{_T}REF_OJS/{_T}DATE_PUB"
_NO_DOC_OJS = f"{_T}CODED_DATA_SECTION/{_T}NOTICE_DATA/{_T}NO_DOC_OJS"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
)
_PUBLICATION_NUMBER = re.compile(r"^0*(\d{1,10})-(\d{4})$")
_OJS_CITATION = re.compile(r"^(\d{4})\s*/\s*S\s*\d{1,3}\s*-\s*0*(\d{1,10})$")


class _SearchResponse(msgspec.Struct):
    """A search page; each notice stays a generic object because its fields are the request's."""

    notices: list[Any] = msgspec.field(default_factory=list)
    total_notice_count: Any = msgspec.field(name="totalNoticeCount", default=None)
    iteration_next_token: Any = msgspec.field(name="iterationNextToken", default=None)


_RESPONSE = msgspec.json.Decoder(_SearchResponse)


def publication_number(text: object) -> str | None:
    """`091489-2019`, `00486429-2023` or `2019/S 040-091489` -> `91489-2019` (the API form)."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if match := _PUBLICATION_NUMBER.match(value):
        number, year = match.groups()
    elif match := _OJS_CITATION.match(value):
        year, number = match.groups()
    else:
        return None
    return f"{int(number)}-{year}"


def notice_page(number: str) -> str:
    """The TED page of the notice with this publication number (API form, `67623-2022`)."""
    return NOTICE_PAGE.format(number)


def split_search_response(
    data: bytes, *, on_skipped: OnRejected | None = None
) -> Iterator[DocumentItem]:
    """Each notice of one search page as a DocumentItem (the notice re-encoded as JSON).

    Args:
        data: The page as fetched.
        on_skipped: Called with each notice that has no publication number
            (`publication-number`, or its legacy alias `ND`) or is not an object; without
            it, such a notice is an error.

    Raises:
        PermanentError: the page is not a search response, or (without `on_skipped`) a notice
            cannot be identified.
    """
    response = _decode(data)
    for index, notice in enumerate(response.notices):
        source_id = _publication_number_of(notice)
        if source_id is None:
            rejected = _unnamed(notice, index)
            if on_skipped is None:
                raise PermanentError(rejected.reason, field_path=rejected.field_path)
            on_skipped(rejected)
            continue
        published = _scalar(notice.get("publication-date")) or _scalar(notice.get("PD"))
        yield DocumentItem(
            source_id=source_id,
            format=RawFormat.TED_API_JSON,
            payload=msgspec.json.encode(notice),
            published_at=api_datetime(published),
        )


def _publication_number_of(notice: Any) -> str | None:
    """`publication-number`, or its legacy alias `ND`; None for what is no notice object."""
    if not isinstance(notice, dict):
        return None
    found = publication_number(_scalar(notice.get("publication-number")))
    return found or publication_number(_scalar(notice.get("ND")))


def _unnamed(notice: Any, index: int) -> RejectedItem:
    path = f"$.notices[{index}]"
    if isinstance(notice, dict):
        reason, path = "the notice has no publication number", f"{path}.publication-number"
    else:
        reason = "the notice is not an object"
    return RejectedItem(data=msgspec.json.encode(notice), reason=reason, field_path=path)


def next_iteration_token(data: bytes) -> str | None:
    """The token to send for the next page in ITERATION mode; None on the last page."""
    token = _decode(data).iteration_next_token
    return token if isinstance(token, str) and token else None


def total_count(data: bytes) -> int | None:
    """How many notices match the query (`totalNoticeCount`), when the page says it."""
    count = _decode(data).total_notice_count
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def split_ted_export(data: bytes) -> Iterator[DocumentItem]:
    """One R2.0.9 `TED_EXPORT` file as one DocumentItem carrying the exact bytes.

    Raises:
        PermanentError: the bytes are not a TED_EXPORT document or carry no publication number.
    """
    root = parse_ted_export(data)
    source_id = publication_number(root.get("DOC_ID"))
    source_id = source_id or publication_number(root.findtext(_NO_DOC_OJS))
    if source_id is None:
        raise PermanentError("the document has no publication number", field_path="/@DOC_ID")
    yield DocumentItem(
        source_id=source_id,
        format=RawFormat.TED_XML,
        payload=data,
        published_at=oj_day_start(root.findtext(_DATE_PUB)),
    )


def parse_ted_export(data: bytes) -> etree._Element:
    """The root of one R2.0.9 document; PermanentError when the bytes are not one."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise PermanentError(f"not well-formed XML: {exc}", field_path="/") from exc
    if root.tag != f"{_T}TED_EXPORT":
        raise PermanentError("the root is not an R2.0.9 TED_EXPORT", field_path="/")
    return root


def oj_day_start(text: object) -> datetime | None:
    """`20190226` (an OJ S date) -> midnight that day in Brussels, in UTC; None if not a date."""
    return parse_datetime(text, BRUSSELS)


def api_datetime(text: object) -> datetime | None:
    """An API date (`2022-02-06T23:00:00Z`, `2022-02-07+01:00`) in UTC; None if not a date."""
    return parse_datetime(text, BRUSSELS)


def _decode(data: bytes) -> _SearchResponse:
    try:
        return _RESPONSE.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PermanentError(f"not a TED search response: {exc}", field_path="$") from exc


def _scalar(value: object) -> str | None:
    """A field the API may give as a string or as a one-item list."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None
