"""Code lists of the canonical schema.

Values are stable wire strings: never renamed, only added to. Each enum says which OCDS
codelist or eForms code list it follows, so a mapper author knows what a value means.
"""

from __future__ import annotations

from enum import StrEnum


class RawFormat(StrEnum):
    """How a raw payload is encoded; picks the normalizer mapper."""

    BOAMP_JSON = "boamp_json"
    """One BOAMP Opendatasoft Explore v2.1 record (`donnees` and `gestion` are JSON strings)."""
    BOAMP_XML = "boamp_xml"
    """One DILA open-data notice (`<ANNONCE>`, Boamp_v230/v240.xsd)."""
    EFORMS_XML = "eforms_xml"
    """One eForms UBL 2.3 notice (TED or BOAMP)."""
    TED_XML = "ted_xml"
    """One TED R2.0.9 `TED_EXPORT` document (notices before eForms)."""
    TED_API_JSON = "ted_api_json"
    """One notice object of a TED Search API v3 response."""
    DECP_2019_JSON = "decp_2019_json"
    DECP_2019_XML = "decp_2019_xml"
    DECP_2024_JSON = "decp_2024_json"
    DECP_2024_XML = "decp_2024_xml"
    OCDS_RELEASE = "ocds_release"
    """One OCDS 1.1 release, package metadata kept under `package` by the harvester."""
    RSS_ITEM = "rss_item"
    """One RSS or Atom entry of a buyer-profile feed, as parsed by feedparser."""


class NoticeType(StrEnum):
    """What a notice is, after eForms `notice-type` families and OCDS release tags."""

    PLANNING = "planning"
    """Prior information / periodic indicative notice (eForms `planning`, OCDS `planning`)."""
    CONTRACT_NOTICE = "contract_notice"
    """A call for competition (eForms `competition`, OCDS `tender`)."""
    CORRIGENDUM = "corrigendum"
    """A change to an earlier notice (eForms change, BOAMP RECTIFICATIF, OCDS `tenderUpdate`)."""
    CANCELLATION = "cancellation"
    """The procedure is cancelled (eForms change reason `cancel`, OCDS `tenderCancellation`)."""
    AWARD = "award"
    """A result notice (eForms `result`, BOAMP ATTRIBUTION, OCDS `award`)."""
    MODIFICATION = "modification"
    """A contract modified during its term (eForms `cont-modif`, OCDS `contractAmendment`)."""
    CONTRACT_DATA = "contract_data"
    """Award data published after signature: DECP, OCDS `contract`."""


class NoticeStatus(StrEnum):
    """Where the procedure stands, after the OCDS `tenderStatus` codelist.

    Whether the submission deadline has passed is not a status: it changes with time and is
    computed at query time from `submission_deadline`.
    """

    PLANNED = "planned"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    UNSUCCESSFUL = "unsuccessful"
    COMPLETE = "complete"
    """Awarded, or contract data published."""
    UNKNOWN = "unknown"


class ContractNature(StrEnum):
    """Main nature of the contract (eForms `contract-nature`, OCDS `mainProcurementCategory`)."""

    WORKS = "works"
    SUPPLIES = "supplies"
    SERVICES = "services"


class ProcedureType(StrEnum):
    """Procedure, after eForms `procurement-procedure-type`, plus the French MAPA."""

    OPEN = "open"
    RESTRICTED = "restricted"
    NEGOTIATED_WITH_CALL = "negotiated_with_call"
    NEGOTIATED_WITHOUT_CALL = "negotiated_without_call"
    COMPETITIVE_DIALOGUE = "competitive_dialogue"
    INNOVATION_PARTNERSHIP = "innovation_partnership"
    ADAPTED = "adapted"
    """Procédure adaptée (MAPA, French rules below EU thresholds)."""
    CONCESSION = "concession"
    """Concession award procedure (délégation de service public)."""
    OTHER = "other"


class RelationKind(StrEnum):
    """How a notice relates to another one it names."""

    CORRECTS = "corrects"
    CANCELS = "cancels"
    AWARDS = "awards"
    """A result notice pointing at the call it closes (eForms BT-125, BOAMP ANNONCE_ANTERIEUR)."""
    MODIFIES = "modifies"
    FOLLOWS = "follows"
    """Any other earlier notice of the same procedure (a PIN before its call, BOAMP annonce_lie)."""


class DurationUnit(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class ProcedureMatch(StrEnum):
    """Which rule put a notice in its procedure; recorded on the notice for audit."""

    OWN = "own"
    """No link found: the notice starts its own procedure."""
    CONTRACT_FOLDER = "contract_folder"
    """Same eForms ContractFolderID (BOAMP `contractfolderid`)."""
    NOTICE_LINK = "notice_link"
    """An explicit reference to another notice (TED REF_NOTICE, BOAMP annonce_lie, eForms)."""
    OCID = "ocid"
    """Same OCDS ocid."""
    BUYER_CONTRACT_ID = "buyer_contract_id"
    """DECP: same buyer SIRET and contract id."""
    SCORED = "scored"
    """A scored match: same buyer, close title, same CPV division, consistent dates."""
