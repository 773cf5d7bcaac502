"""TED Search API v3, one element of `notices` -> Notice.

Source: `POST https://api.ted.europa.eu/v3/notices/search` (see FORMATS.md section 2); the
harvester cuts each notice out of a page with `scope_shared.documents.ted`.
Format: a notice holds only the `fields` the request named. Read here: the keys of the stored
real response (`publication-number` and its alias `ND`, `PD`, `RN`, `links`) and the fields
FORMATS.md documents for `fields`: `notice-title` and `buyer-name` (maps keyed by lower-case
ISO 639-3, each value a string or a list of strings), `publication-date`, `notice-type`.
Caveats:
    - The stored real response asked for `ND`, `PD` and `RN` only: without `notice-title` a
      notice cannot become a Notice, so such notices are dead-lettered naming that field. A
      harvester must request `notice-title` and `notice-type` (and `publication-date`).
    - `notice-type` is the eForms notice type (`cn-standard`, `can-standard`, `pin-only`, ...;
      eForms SDK `notice-types.json`). A code outside that list is dead-lettered, naming it.
    - `RN` is the legacy alias of R2.0.9's REF_NOTICE (an earlier notice of the procedure,
      `349392-2021`, older than the notice itself in the stored response): it links the notice
      to that notice's procedure, as the R2.0.9 mapper does.
    - Fields the stored response lacks (CPV, buyer country, deadline, values) are not read:
      their shape has not been seen. Map them once a recorded response holds them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from scope_normalizer.formats.base import cited_links, identity
from scope_normalizer.values.places import enrich_organization
from scope_normalizer.values.text import clean_text
from scope_shared.dates import parse_datetime
from scope_shared.documents.ted import notice_page, publication_number
from scope_shared.errors import PermanentError
from scope_shared.schema import (
    Notice,
    NoticeStatus,
    NoticeType,
    Organization,
    RawNotice,
    RelationKind,
)

_PLANNING, _CALL, _AWARD = NoticeType.PLANNING, NoticeType.CONTRACT_NOTICE, NoticeType.AWARD
NOTICE_TYPES = {
    "pin-only": _PLANNING, "pin-buyer": _PLANNING, "pin-rtl": _PLANNING, "pin-tran": _PLANNING,
    "pmc": _PLANNING, "pin-cfc-standard": _CALL, "pin-cfc-social": _CALL, "qu-sy": _CALL,
    "cn-standard": _CALL, "cn-social": _CALL, "cn-desg": _CALL, "subco": _CALL, "veat": _AWARD,
    "can-standard": _AWARD, "can-social": _AWARD, "can-desg": _AWARD, "can-tran": _AWARD,
    "can-modif": NoticeType.MODIFICATION, "compl": NoticeType.CONTRACT_DATA,
}  # fmt: skip
"""eForms notice types by form type: planning, competition, dir-awa-pre (VEAT) and result,
cont-modif, completion. Business-registration types (`brin-*`) are not procurement."""

_STATUS = {
    _PLANNING: NoticeStatus.PLANNED,
    _CALL: NoticeStatus.ACTIVE,
    _AWARD: NoticeStatus.COMPLETE,
    NoticeType.MODIFICATION: NoticeStatus.COMPLETE,
    NoticeType.CONTRACT_DATA: NoticeStatus.COMPLETE,
}
_RELATIONS = {_AWARD: RelationKind.AWARDS, NoticeType.MODIFICATION: RelationKind.MODIFIES}

LANGUAGES = {
    "bul": "bg", "ces": "cs", "dan": "da", "deu": "de", "ell": "el", "eng": "en", "est": "et",
    "fin": "fi", "fra": "fr", "gle": "ga", "hrv": "hr", "hun": "hu", "isl": "is", "ita": "it",
    "lav": "lv", "lit": "lt", "mlt": "mt", "nld": "nl", "nor": "no", "pol": "pl", "por": "pt",
    "ron": "ro", "slk": "sk", "slv": "sl", "spa": "es", "swe": "sv",
}  # fmt: skip
"""ISO 639-3 (the API's keys) to ISO 639-1 (`Notice.language`), for TED's languages."""
PREFERRED_LANGUAGES = ("fra", "eng")
"""Scope serves French users first; English is the next most read version of a notice."""

_OBJECT = msgspec.json.Decoder(dict[str, Any])


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    """The canonical Notice of one search-API notice (see the module docstring)."""
    try:
        notice = _OBJECT.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PermanentError(f"not a TED API notice object: {exc}", field_path="$") from exc
    title, language = _localized(notice.get("notice-title"), PREFERRED_LANGUAGES)
    if title is None:
        raise PermanentError("the notice has no title", field_path="$.notice-title")
    kind = _notice_type(notice)
    fields: dict[str, Any] = {**identity(raw), **_links(raw, kind, notice.get("RN"))}
    buyer_name, _ = _localized(notice.get("buyer-name"), (language or "", *PREFERRED_LANGUAGES))
    return Notice(
        **fields,
        source_url=_page(notice.get("links")) or notice_page(raw.source_id),
        source_notice_type=_code(notice.get("notice-type")),
        notice_type=kind,
        status=_STATUS.get(kind, NoticeStatus.UNKNOWN),
        title=title,
        language=LANGUAGES.get(language or ""),
        buyer=enrich_organization(Organization(name=buyer_name)) if buyer_name else None,
        published_at=_published_at(notice),
    )


def _notice_type(notice: dict[str, Any]) -> NoticeType:
    code = _code(notice.get("notice-type"))
    if code is None:
        raise PermanentError("the notice has no notice type", field_path="$.notice-type")
    kind = NOTICE_TYPES.get(code)
    if kind is None:
        raise PermanentError(f"unknown notice type {code[:40]!r}", field_path="$.notice-type")
    return kind


def _published_at(notice: dict[str, Any]) -> datetime:
    for key in ("publication-date", "PD"):
        found = parse_datetime(_first_text(notice.get(key)))
        if found is not None:
            return found
    raise PermanentError("the notice has no publication date", field_path="$.publication-date")


def _links(raw: RawNotice, kind: NoticeType, cited: object) -> dict[str, Any]:
    """The earlier notices `RN` names, and the procedure of the first."""
    values = cited if isinstance(cited, list) else [cited]
    relation = _RELATIONS.get(kind, RelationKind.FOLLOWS)
    return cited_links(raw, (publication_number(v) for v in values), relation)


def _localized(value: object, preferred: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The text of a multilingual field in the first preferred language present, else any.

    Returns the text and its ISO 639-3 key (None when the field was a plain string).
    """
    if not isinstance(value, dict):
        return clean_text(_first_text(value)), None
    by_language = {str(key).lower(): text for key, text in value.items()}
    for key in (*preferred, *by_language):
        text = clean_text(_first_text(by_language.get(key)))
        if text:
            return text, key
    return None, None


def _page(links: object) -> str | None:
    """The English notice page TED's API gives in `links.html.ENG`."""
    html = links.get("html") if isinstance(links, dict) else None
    page = html.get("ENG") if isinstance(html, dict) else None
    return page if isinstance(page, str) and page.startswith("https://") else None


def _code(value: object) -> str | None:
    text = _first_text(value)
    return text.strip().lower() or None if text else None


def _first_text(value: object) -> str | None:
    """A string, or the first string of a list (the API returns most fields as arrays)."""
    if isinstance(value, list):
        value = next((item for item in value if isinstance(item, str) and item.strip()), None)
    return value if isinstance(value, str) else None
