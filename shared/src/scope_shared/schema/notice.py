"""`Notice`: the canonical record every format maps to, and what the API serves.

Reference vocabularies: OCDS 1.1 release fields and eForms business terms (BT-*). Each
field's docstring line names the closest of both so a mapper author knows where it comes from.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec

from scope_shared.schema.base import CountryCode, CpvCode, Model, Sha256Hex, SourceName, UtcDatetime
from scope_shared.schema.codes import (
    ContractNature,
    DurationUnit,
    NoticeStatus,
    NoticeType,
    ProcedureMatch,
    ProcedureType,
    RelationKind,
)

NOTICE_SCHEMA_VERSION = 1

CurrencyCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Siret = Annotated[str, msgspec.Meta(pattern="^[0-9]{14}$")]
Siren = Annotated[str, msgspec.Meta(pattern="^[0-9]{9}$")]
NutsCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}[0-9A-Z]{0,3}$")]
DepartmentCode = Annotated[
    str, msgspec.Meta(pattern="^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-8]|98[46-9])$")
]
"""A French département or overseas collectivity code, INSEE COG form (`01`, `2A`, `974`)."""


class Amount(Model, frozen=True, kw_only=True):
    """A money amount (OCDS `Value`; eForms BT-27 estimated value, BT-720 tender value)."""

    amount: Decimal
    currency: CurrencyCode = "EUR"


class Identifier(Model, frozen=True, kw_only=True):
    """A legal identifier with its scheme (OCDS `Identifier`; eForms BT-501 organisation id).

    `scheme` uses org-id.guide prefixes where one exists (`FR-RCS` for SIREN/SIRET is not
    one; Scope uses `SIRET`, `SIREN`, `TVA`, `TAHITI`, `RIDET`, `FRWF`, `IREP`, `HORS-UE`
    as DECP does, and `ORG` for an id without a known scheme).
    """

    scheme: str
    id: str


class Organization(Model, frozen=True, kw_only=True):
    """A buyer or a supplier (OCDS `Organization`; eForms ORG-* with BT-500..BT-513)."""

    name: str
    identifier: Identifier | None = None
    siret: Siret | None = None
    """Validated SIRET (14 digits, Luhn), when the source gives one."""
    siren: Siren | None = None
    """The first 9 digits of the SIRET, or a SIREN given alone."""
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    department: DepartmentCode | None = None
    """Derived from the postal code or NUTS when the source does not say it."""
    region: str | None = None
    """INSEE region code (`76` for Occitanie), derived from the département."""
    nuts: NutsCode | None = None
    country: CountryCode | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    contact_name: str | None = None


class Place(Model, frozen=True, kw_only=True):
    """Place of performance (OCDS `deliveryLocation`; eForms BT-5071 NUTS, BT-5141 country)."""

    nuts: list[NutsCode] = msgspec.field(default_factory=list)
    departments: list[DepartmentCode] = msgspec.field(default_factory=list)
    regions: list[str] = msgspec.field(default_factory=list)
    country: CountryCode | None = None
    text: str | None = None
    """Free text as published (`(59) Nord`, an address)."""


class Duration(Model, frozen=True, kw_only=True):
    """Contract duration (OCDS `contractPeriod`; eForms BT-36 with its unit, BT-536/537 dates)."""

    value: Annotated[int, msgspec.Meta(ge=0)] | None = None
    unit: DurationUnit | None = None
    start_date: date | None = None
    end_date: date | None = None


class Lot(Model, frozen=True, kw_only=True):
    """One lot (OCDS `Lot`; eForms LOT-* with BT-137 id, BT-21 title, BT-24 description)."""

    id: str
    """The lot number or id as the source gives it (`1`, `LOT-0001`)."""
    title: str | None = None
    description: str | None = None
    cpv_main: CpvCode | None = None
    cpv_additional: list[CpvCode] = msgspec.field(default_factory=list)
    estimated_value: Amount | None = None
    place: Place | None = None
    duration: Duration | None = None
    submission_deadline: UtcDatetime | None = None


class Winner(Model, frozen=True, kw_only=True):
    """A supplier awarded a contract (OCDS `awards.suppliers`; eForms BT-500 of the tenderer)."""

    name: str | None = None
    identifier: Identifier | None = None
    siret: Siret | None = None
    siren: Siren | None = None
    country: CountryCode | None = None


class Award(Model, frozen=True, kw_only=True):
    """A contract award or contract (OCDS `Award`/`Contract`; eForms LotResult BT-142..BT-1451)."""

    lot_id: str | None = None
    date: UtcDatetime | None = None
    """Decision or notification date (eForms BT-1451, DECP dateNotification)."""
    winners: list[Winner] = msgspec.field(default_factory=list)
    value: Amount | None = None
    offers_received: Annotated[int, msgspec.Meta(ge=0)] | None = None
    contract_id: str | None = None
    title: str | None = None


class Modification(Model, frozen=True, kw_only=True):
    """A change to a signed contract (OCDS `Amendment`; DECP `modifications`; eForms BT-202)."""

    date: UtcDatetime | None = None
    description: str | None = None
    value: Amount | None = None
    duration: Duration | None = None
    winners: list[Winner] = msgspec.field(default_factory=list)


class RelatedNotice(Model, frozen=True, kw_only=True):
    """Another notice this one names, by canonical id when known, else by the source's id."""

    relation: RelationKind
    notice_id: str
    """Canonical id (`<source>:<source_id>`) of the other notice."""


class Notice(Model, frozen=True, kw_only=True):
    """One notice in Scope's canonical form.

    Attributes:
        id: `<source>:<source_id>`, stable across versions.
        procedure_id: Shared by every notice of one procedure, across sources.
        procedure_match: The rule that set `procedure_id`.
        version: Increases by one for each new content of the same `id`.
    """

    schema_version: int = NOTICE_SCHEMA_VERSION
    id: str
    procedure_id: str
    procedure_match: ProcedureMatch = ProcedureMatch.OWN
    source: SourceName
    source_id: str
    source_url: str | None = None
    """The notice's page at its publisher (BOAMP url_avis, TED notice link, OCDS document)."""
    source_notice_type: str | None = None
    """The source's own type code (`cn-standard`, `APPEL_OFFRE/STANDARD`, TED `3`)."""
    notice_type: NoticeType
    status: NoticeStatus = NoticeStatus.UNKNOWN
    title: str
    """OCDS `tender.title`; eForms BT-21 (procedure)."""
    description: str | None = None
    """OCDS `tender.description`; eForms BT-24 (procedure)."""
    language: str | None = None
    """ISO 639-1 of the text fields (`fr`)."""
    buyer: Organization | None = None
    """OCDS `buyer` with its party; eForms the organisation with role buyer (OPT-300)."""
    contract_nature: ContractNature | None = None
    """OCDS `tender.mainProcurementCategory`; eForms BT-23."""
    procedure_type: ProcedureType | None = None
    """OCDS `tender.procurementMethodDetails`; eForms BT-105."""
    procedure_label: str | None = None
    """The procedure as the source words it (`Procédure adaptée ouverte`)."""
    framework_agreement: bool | None = None
    """eForms BT-765; BOAMP accordCadre."""
    cpv_main: CpvCode | None = None
    """OCDS `tender.items.classification`; eForms BT-262."""
    cpv_additional: list[CpvCode] = msgspec.field(default_factory=list)
    """eForms BT-263."""
    lots: list[Lot] = msgspec.field(default_factory=list)
    place: Place | None = None
    published_at: UtcDatetime
    """OCDS release `date`; eForms BT-05 / OJ S publication date."""
    submission_deadline: UtcDatetime | None = None
    """OCDS `tender.tenderPeriod.endDate`; eForms BT-131 (earliest over lots when per lot)."""
    estimated_value: Amount | None = None
    """OCDS `tender.value`; eForms BT-27 of the procedure."""
    duration: Duration | None = None
    award_criteria: list[str] = msgspec.field(default_factory=list)
    """OCDS `tender.awardCriteriaDetails`; eForms BT-539/BT-540."""
    conditions: str | None = None
    """Participation conditions (eForms BT-747/BT-750; BOAMP capacités)."""
    considerations: list[str] = msgspec.field(default_factory=list)
    """Social or environmental considerations (`sociaux`, `environnementaux`; DECP, BOAMP)."""
    tender_url: str | None = None
    """Where to submit (OCDS `tender.submissionMethodDetails`; eForms BT-18)."""
    documents_url: str | None = None
    """Where the procurement documents are (eForms BT-15; BOAMP urlDocConsul)."""
    awards: list[Award] = msgspec.field(default_factory=list)
    modifications: list[Modification] = msgspec.field(default_factory=list)
    related: list[RelatedNotice] = msgspec.field(default_factory=list)
    """What a corrigendum corrects, a cancellation cancels, an award awards."""
    version: Annotated[int, msgspec.Meta(ge=1)] = 1
    updated_at: UtcDatetime
    """When this version was produced by the normalizer."""
    raw_sha256: Sha256Hex
    """Digest of the raw payload this version was mapped from."""
