"""What every BOAMP generation shares: the notice draft, BOAMP's codes, links, the final Notice.

Source: BOAMP (DILA), whether read from Opendatasoft records (`boamp_json`) or DILA XML files
(`boamp_xml`).
Format: codes of Boamp_v230.xsd (`EnumNature`, `EnumStatut`, `EnumTypeProcedure`), which the
Opendatasoft record fields (`nature`, `type_procedure`, `etat`) repeat.
Caveats: the statut `MODIFICATION` is read as a corrigendum (a republished notice), the
nature `MODIFICATION` as a contract modification. An unknown nature maps to a contract notice
with status `unknown`, since the schema needs a type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from scope_normalizer.formats.base import (
    IdentityFields,
    identity,
    notice_id,
    procedure_key,
    require,
)
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.boamp_tree import attr, one_line, text
from scope_shared.schema import (
    Amount,
    Award,
    ContractNature,
    Duration,
    Lot,
    Notice,
    NoticeStatus,
    NoticeType,
    Organization,
    Place,
    ProcedureMatch,
    ProcedureType,
    RawNotice,
    RelatedNotice,
    RelationKind,
)

BOAMP_NOTICE_URL = "https://www.boamp.fr/pages/avis/?q=idweb:{idweb}"
"""The notice page Opendatasoft gives as `url_avis`; rebuilt for XML notices, which lack it."""

_IDWEB = re.compile(r"^(\d{2})-(\d{1,7})$")

_CALL_NATURES = {"APPEL_OFFRE", "QUALIFICATION", "SOUS_TRAITANCE"}
_PLANNING_NATURES = {"PRE_INFORMATION", "PERIODIQUE", "PROFIL_ACHETEUR"}
_AWARD_NATURES = {"ATTRIBUTION", "INTENTION_CONCLURE"}

_BY_NATURE: dict[str, tuple[NoticeType, NoticeStatus]] = {
    **dict.fromkeys(_CALL_NATURES, (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE)),
    **dict.fromkeys(_PLANNING_NATURES, (NoticeType.PLANNING, NoticeStatus.PLANNED)),
    **dict.fromkeys(_AWARD_NATURES, (NoticeType.AWARD, NoticeStatus.COMPLETE)),
    "RECTIFICATIF": (NoticeType.CORRIGENDUM, NoticeStatus.UNKNOWN),
    "MODIFICATION": (NoticeType.MODIFICATION, NoticeStatus.COMPLETE),
}
"""`EnumNature` of Boamp_v230.xsd; INTENTION_CONCLURE (a VEAT notice) counts as an award."""

_CONTRACT_NATURES = {
    "TRAVAUX": ContractNature.WORKS,
    "FOURNITURES": ContractNature.SUPPLIES,
    "FOURNITURE": ContractNature.SUPPLIES,
    "SERVICES": ContractNature.SERVICES,
    "SERVICE": ContractNature.SERVICES,
}

_PROCEDURES: dict[str, tuple[ProcedureType | None, str]] = {
    "OUVERT": (ProcedureType.OPEN, "Procédure ouverte"),
    "RESTREINT": (ProcedureType.RESTRICTED, "Procédure restreinte"),
    "NEGOCIE": (ProcedureType.NEGOTIATED_WITH_CALL, "Procédure négociée"),
    "PROCEDURE_ADAPTE": (ProcedureType.ADAPTED, "Procédure adaptée"),
    "DIALOGUE_COMPETITIF": (ProcedureType.COMPETITIVE_DIALOGUE, "Dialogue compétitif"),
    "PARTENARIAT_INNOVATION": (ProcedureType.INNOVATION_PARTNERSHIP, "Partenariat d'innovation"),
    "CONCOURS_OUVERT": (ProcedureType.OTHER, "Concours ouvert"),
    "CONCOURS_RESTREINT": (ProcedureType.OTHER, "Concours restreint"),
    "ATTRIBUE_SANS_PUB_JOUE": (
        ProcedureType.NEGOTIATED_WITHOUT_CALL,
        "Attribution sans publication préalable au JOUE",
    ),
    "ATTRIBUE_AVEC_PUB_JOUE": (None, "Attribution avec publication préalable au JOUE"),
    "AUTRE": (ProcedureType.OTHER, "Autre procédure"),
}
"""`EnumTypeProcedure` of Boamp_v230.xsd, also the values of the record's `type_procedure`."""

_WITHOUT_CALL = {"SANS_PUB_PREALABLE", "SANS_MISE_EN_CONCURRENCE"}


@dataclass(slots=True)
class EarlierNotice:
    """A notice this one names (`ANNONCE_ANTERIEUR`, `annonce_lie`), with its nature if given."""

    idweb: str
    nature: str | None = None


@dataclass(slots=True)
class NoticeDraft:
    """The Notice fields read so far; generations fill it, `build_notice` freezes it."""

    title: str | None = None
    description: str | None = None
    buyer: Organization | None = None
    contract_nature: ContractNature | None = None
    procedure_type: ProcedureType | None = None
    procedure_label: str | None = None
    framework_agreement: bool | None = None
    cpv_main: str | None = None
    cpv_additional: list[str] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    place: Place | None = None
    published_at: datetime | None = None
    submission_deadline: datetime | None = None
    estimated_value: Amount | None = None
    duration: Duration | None = None
    award_criteria: list[str] = field(default_factory=list)
    conditions: str | None = None
    considerations: list[str] = field(default_factory=list)
    tender_url: str | None = None
    documents_url: str | None = None
    awards: list[Award] = field(default_factory=list)
    unsuccessful: bool = False
    """Every award decision of the notice says no contract was concluded (`INFRUCTUEUX`)."""
    earlier: list[EarlierNotice] = field(default_factory=list)
    contract_folder: str | None = None
    source_url: str | None = None
    nature: str | None = None
    sub_nature: str | None = None
    statut: str | None = None
    etat: str | None = None
    famille: str | None = None

    def fill(self, **values: object) -> None:
        """Set the fields still empty: a richer reading made first is never overwritten."""
        for name, value in values.items():
            if value is not None and value != [] and getattr(self, name) in (None, []):
                setattr(self, name, value)

    def add_earlier(self, idweb: object, nature: str | None = None) -> None:
        value = text(idweb)
        if value is None or not value.strip():
            return
        idweb_clean = value.strip()
        for known in self.earlier:
            if known.idweb == idweb_clean:
                known.nature = known.nature or nature
                return
        self.earlier.append(EarlierNotice(idweb_clean, nature))


def norm_code(value: str | None) -> str | None:
    """BOAMP codes as one spelling: `PRE-INFORMATION`, `pre_information` -> `PRE_INFORMATION`."""
    if value is None:
        return None
    cleaned = value.strip().upper().replace("-", "_")
    return cleaned or None


def contract_nature(code_value: str | None) -> ContractNature | None:
    return _CONTRACT_NATURES.get(norm_code(code_value) or "")


def procedure(
    code_value: str | None, details: list[str]
) -> tuple[ProcedureType | None, str | None]:
    """A `TYPE_PROCEDURE` code and its sub-codes -> (type, French label)."""
    found = _PROCEDURES.get(norm_code(code_value) or "")
    if found is None:
        return None, None
    kind, label = found
    if kind is ProcedureType.NEGOTIATED_WITH_CALL and _WITHOUT_CALL & set(details):
        return ProcedureType.NEGOTIATED_WITHOUT_CALL, "Procédure négociée sans mise en concurrence"
    return kind, label


def classify(draft: NoticeDraft) -> tuple[NoticeType, NoticeStatus]:
    """Notice type and OCDS tender status from BOAMP's nature, statut and record `etat`."""
    nature = norm_code(draft.nature)
    statut = norm_code(draft.statut)
    etat = norm_code(draft.etat) or ""
    if statut == "ANNULATION" or "ANNUL" in etat:
        return NoticeType.CANCELLATION, NoticeStatus.CANCELLED
    base_type, base_status = _by_nature(nature, norm_code(draft.sub_nature), draft.unsuccessful)
    if statut in ("RECTIFICATIF", "MODIFICATION") or "RECTIF" in etat:
        return NoticeType.CORRIGENDUM, base_status
    return base_type, base_status


def _by_nature(
    nature: str | None, sub_nature: str | None, unsuccessful: bool
) -> tuple[NoticeType, NoticeStatus]:
    found = _BY_NATURE.get(nature or "", (NoticeType.CONTRACT_NOTICE, NoticeStatus.UNKNOWN))
    failed = unsuccessful or sub_nature == "STANDARD_INFRUCTUEUX_SANS_SUITE"
    if found[0] is NoticeType.AWARD and failed:
        return NoticeType.AWARD, NoticeStatus.UNSUCCESSFUL
    return found


def source_notice_type(draft: NoticeDraft) -> str | None:
    """`APPEL_OFFRE/STANDARD`, prefixed by the statut when it is not `INITIAL`."""
    if not draft.nature:
        return None
    found = "/".join(part for part in (draft.nature, draft.sub_nature) if part)
    if draft.statut and norm_code(draft.statut) != "INITIAL":
        found = f"{draft.statut}:{found}"
    return found


def _relation(notice_type: NoticeType, earlier_nature: str | None) -> RelationKind:
    if notice_type is NoticeType.CANCELLATION:
        return RelationKind.CANCELS
    if notice_type is NoticeType.CORRIGENDUM:
        return RelationKind.CORRECTS
    if notice_type is NoticeType.MODIFICATION:
        return RelationKind.MODIFIES
    if notice_type is NoticeType.AWARD and norm_code(earlier_nature) in (None, *_CALL_NATURES):
        return RelationKind.AWARDS
    return RelationKind.FOLLOWS


def _idweb_order(idweb: str) -> tuple[int, int, str]:
    """BOAMP numbers are `YY-sequence`: the earliest notice sorts first."""
    match = _IDWEB.match(idweb)
    if match is None:
        return (100, 0, idweb)
    return (int(match.group(1)), int(match.group(2)), idweb)


def _link(
    raw: RawNotice, draft: NoticeDraft, notice_type: NoticeType, fields: IdentityFields
) -> list[RelatedNotice]:
    """Related notices, and the procedure key in `fields`: the contract folder, else the
    earliest notice named (the call an award or a corrigendum follows)."""
    earlier = [e for e in draft.earlier if e.idweb != raw.source_id]
    if draft.contract_folder:
        fields["procedure_id"] = procedure_key(
            ProcedureMatch.CONTRACT_FOLDER, draft.contract_folder
        )
        fields["procedure_match"] = ProcedureMatch.CONTRACT_FOLDER
    elif earlier:
        first = min(earlier, key=lambda e: _idweb_order(e.idweb))
        fields["procedure_id"] = notice_id(raw.source, first.idweb)
        fields["procedure_match"] = ProcedureMatch.NOTICE_LINK
    return [
        RelatedNotice(
            relation=_relation(notice_type, e.nature), notice_id=notice_id(raw.source, e.idweb)
        )
        for e in earlier
    ]


def build_notice(
    raw: RawNotice,
    draft: NoticeDraft,
    *,
    title_path: str = "$.objet",
    date_path: str = "$.dateparution",
) -> Notice:
    """Freeze the draft: identity, classification, links, procedure key.

    Raises:
        PermanentError: the notice has no title or no publication date (named by the paths).
    """
    title = require(one_line(draft.title), title_path, "notice title")
    published_at = require(draft.published_at, date_path, "publication date")
    description = draft.description
    if description is not None and description.casefold() == title.casefold():
        description = None
    notice_type, status = classify(draft)
    fields = identity(raw)
    related = _link(raw, draft, notice_type, fields)
    return Notice(
        **fields,
        source_url=draft.source_url or BOAMP_NOTICE_URL.format(idweb=raw.source_id),
        source_notice_type=source_notice_type(draft),
        notice_type=notice_type,
        status=status,
        title=title,
        description=description,
        language="fr",
        buyer=draft.buyer,
        contract_nature=draft.contract_nature,
        procedure_type=draft.procedure_type,
        procedure_label=draft.procedure_label,
        framework_agreement=draft.framework_agreement,
        cpv_main=draft.cpv_main,
        cpv_additional=[c for c in dict.fromkeys(draft.cpv_additional) if c != draft.cpv_main],
        lots=draft.lots,
        place=draft.place,
        published_at=published_at,
        submission_deadline=draft.submission_deadline,
        estimated_value=draft.estimated_value,
        duration=draft.duration,
        award_criteria=list(dict.fromkeys(draft.award_criteria)),
        conditions=draft.conditions,
        considerations=list(dict.fromkeys(draft.considerations)),
        tender_url=draft.tender_url,
        documents_url=draft.documents_url,
        awards=draft.awards,
        related=related,
    )


def positive_amount(value: object, currency: str | None = None) -> Amount | None:
    """An estimate as an Amount; a published `0.00` means "not disclosed", not a zero budget."""
    found = parse_amount(text(value), currency or attr(value, "DEVISE") or attr(value, "devise"))
    return found if found is not None and found.amount > 0 else None
