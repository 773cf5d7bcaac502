"""Scope's canonical schema: `RawNotice` (harvesters publish it) and `Notice` (it is searched)."""

from scope_shared.schema.base import CountryCode, CpvCode, Model, UtcDatetime
from scope_shared.schema.codes import (
    ContractNature,
    DurationUnit,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RawFormat,
    RelationKind,
)
from scope_shared.schema.layout import notice_layout
from scope_shared.schema.notice import (
    NOTICE_SCHEMA_VERSION,
    Amount,
    Award,
    Duration,
    Identifier,
    Lot,
    Modification,
    Notice,
    Organization,
    Place,
    RelatedNotice,
    Winner,
)
from scope_shared.schema.raw import (
    RAW_SCHEMA_VERSION,
    PayloadRef,
    RawNotice,
    make_raw_notice,
    sha256_hex,
)

__all__ = [
    "NOTICE_SCHEMA_VERSION",
    "RAW_SCHEMA_VERSION",
    "Amount",
    "Award",
    "ContractNature",
    "CountryCode",
    "CpvCode",
    "Duration",
    "DurationUnit",
    "Identifier",
    "Lot",
    "Model",
    "Modification",
    "Notice",
    "NoticeStatus",
    "NoticeType",
    "Organization",
    "PayloadRef",
    "Place",
    "ProcedureMatch",
    "ProcedureType",
    "RawFormat",
    "RawNotice",
    "RelatedNotice",
    "RelationKind",
    "UtcDatetime",
    "Winner",
    "make_raw_notice",
    "notice_layout",
    "sha256_hex",
]
