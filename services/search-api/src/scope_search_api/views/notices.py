"""GET /v1/notices/{id} and its sub-resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from scope_shared.schema import Notice
from scope_shared.store import ProcedureCard


class NoticeRef(msgspec.Struct, frozen=True, kw_only=True):
    """A short reference to a notice (another notice of the same procedure)."""

    id: str
    notice_type: str
    status: str
    title: str
    source: str
    published_at: datetime
    version: int
    url: str
    """Its API path (`/v1/notices/<id, percent-encoded>`)."""


class ProcedureNotices(msgspec.Struct, frozen=True, kw_only=True):
    procedure_id: str
    notices: list[NoticeRef]
    """The procedure's other notices (this one excluded), oldest publication first."""


class NoticeLinks(msgspec.Struct, frozen=True, kw_only=True):
    self_: str = msgspec.field(name="self")
    history: str
    procedure: str
    ocds: str
    source: str | None = None
    """The notice's page at its publisher (BOAMP, TED...), when the source gives one."""


class NoticeDetail(msgspec.Struct, frozen=True, kw_only=True):
    notice: Notice
    """The latest version of the notice."""
    procedure: ProcedureNotices
    links: NoticeLinks


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    """One field that differs from the previous version."""

    path: str
    """Dotted path with list indexes (`lots[0].title`, `buyer.siret`)."""
    op: Literal["added", "removed", "changed"]
    before: Any = None
    """The previous value (null when `added`)."""
    after: Any = None
    """The new value (null when `removed`)."""


class NoticeVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    updated_at: datetime
    """When the normalizer produced this version."""
    raw_sha256: str
    changes: list[FieldChange]
    """What changed since the previous version; empty for version 1. Envelope fields
    (`version`, `updated_at`, `raw_sha256`) are left out."""
    notice: Notice


class NoticeHistory(msgspec.Struct, frozen=True, kw_only=True):
    notice_id: str
    versions: list[NoticeVersion]
    """Oldest first."""


class ProcedureView(msgspec.Struct, frozen=True, kw_only=True):
    procedure_id: str
    card: ProcedureCard
    """The procedure as a company sees it: its main notice corrected by later ones."""
    notices: list[Notice]
    """Every notice of the procedure (latest versions), oldest publication first."""
