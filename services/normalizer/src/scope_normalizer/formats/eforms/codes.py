"""eForms code lists, as far as the canonical schema needs them (eForms SDK 1.15.1).

Small tables copied from the SDK's code lists and French translations
(`codelists/*.gc`, `translations/code_fr.xml`); the SDK itself is not shipped.
"""

from __future__ import annotations

from scope_shared.schema import (
    ContractNature,
    DurationUnit,
    NoticeStatus,
    NoticeType,
    ProcedureType,
)

FORM_TYPES: dict[str, tuple[NoticeType, NoticeStatus]] = {
    "planning": (NoticeType.PLANNING, NoticeStatus.PLANNED),
    "consultation": (NoticeType.PLANNING, NoticeStatus.PLANNED),
    "competition": (NoticeType.CONTRACT_NOTICE, NoticeStatus.ACTIVE),
    "dir-awa-pre": (NoticeType.AWARD, NoticeStatus.COMPLETE),
    "result": (NoticeType.AWARD, NoticeStatus.COMPLETE),
    "cont-modif": (NoticeType.MODIFICATION, NoticeStatus.COMPLETE),
    "completion": (NoticeType.CONTRACT_DATA, NoticeStatus.COMPLETE),
}
"""Form type (`form-type` list, `cbc:NoticeTypeCode/@listName`) -> notice type and status."""

SUBTYPE_FORMS: dict[str, str] = {
    **dict.fromkeys(("1", "2", "3", "4", "5", "6", "7", "8", "9", "E2", "T01"), "planning"),
    **dict.fromkeys((str(n) for n in range(10, 25)), "competition"),
    **dict.fromkeys(("CEI", "E3"), "competition"),
    **dict.fromkeys(("25", "26", "27", "28"), "dir-awa-pre"),
    **dict.fromkeys((str(n) for n in range(29, 38)), "result"),
    **dict.fromkeys(("E4", "T02"), "result"),
    **dict.fromkeys(("38", "39", "40", "E6"), "cont-modif"),
    "E1": "consultation",
    "E5": "completion",
    "X01": "bri",
    "X02": "bri",
}
"""Notice subtype -> form type (`notice-types.json` of the SDK), for notices whose
`NoticeTypeCode` lacks its `listName` (SDK 1.3)."""

NOTICE_TYPE_FORMS: dict[str, str] = {
    "pin-buyer": "planning",
    "pin-only": "planning",
    "pin-rtl": "planning",
    "pin-tran": "planning",
    "pmc": "consultation",
    "pin-cfc-standard": "competition",
    "pin-cfc-social": "competition",
    "qu-sy": "competition",
    "cn-standard": "competition",
    "cn-social": "competition",
    "cn-desg": "competition",
    "subco": "competition",
    "veat": "dir-awa-pre",
    "can-standard": "result",
    "can-social": "result",
    "can-desg": "result",
    "can-tran": "result",
    "can-modif": "cont-modif",
    "compl": "completion",
    "brin-eeig": "bri",
    "brin-ecs": "bri",
}
"""Notice type (`notice-type` list, the value of `cbc:NoticeTypeCode`) -> form type."""

CANCELLING_CHANGES = frozenset({"cancel", "cancel-intent"})
"""`change-corrig-justification` codes that withdraw a notice or announce the procedure's end."""

PROCEDURE_TYPES: dict[str, ProcedureType] = {
    "open": ProcedureType.OPEN,
    "restricted": ProcedureType.RESTRICTED,
    "neg-w-call": ProcedureType.NEGOTIATED_WITH_CALL,
    "neg-wo-call": ProcedureType.NEGOTIATED_WITHOUT_CALL,
    "comp-dial": ProcedureType.COMPETITIVE_DIALOGUE,
    "innovation": ProcedureType.INNOVATION_PARTNERSHIP,
    "oth-single": ProcedureType.OTHER,
    "oth-mult": ProcedureType.OTHER,
    "comp-tend": ProcedureType.OTHER,
    "exp-int-rail": ProcedureType.OTHER,
}

PROCEDURE_LABELS: dict[str, str] = {
    "open": "Ouverte",
    "restricted": "Restreinte",
    "neg-w-call": (
        "Négociée avec publication préalable d’un appel à la concurrence / "
        "concurrentielle avec négociation"
    ),
    "neg-wo-call": "Négociée sans mise en concurrence préalable",
    "comp-dial": "Dialogue compétitif",
    "innovation": "Partenariat d’innovation",
    "oth-single": "Autre procédure en une seule étape",
    "oth-mult": "Autre procédure en plusieurs étapes",
    "comp-tend": "Mise en concurrence [article 5, paragraphe 3, du règlement (CE) nº 1370/2007]",
    "exp-int-rail": (
        "Appel à manifestation d’intérêt — uniquement pour le transport par chemin de fer "
        "[article 5, paragraphe 3 ter, du règlement (CE) nº 1370/2007]"
    ),
}
"""The official French label of each `procurement-procedure-type` code: eForms carries a code,
not wording, and Scope's readers are French."""

CONTRACT_NATURES: dict[str, ContractNature] = {
    "works": ContractNature.WORKS,
    "supplies": ContractNature.SUPPLIES,
    "services": ContractNature.SERVICES,
}

DURATION_UNITS: dict[str, tuple[DurationUnit, int]] = {
    "DAY": (DurationUnit.DAY, 1),
    "WEEK": (DurationUnit.DAY, 7),
    "MONTH": (DurationUnit.MONTH, 1),
    "YEAR": (DurationUnit.YEAR, 1),
}
"""`duration-unit` code -> canonical unit and multiplier (the schema has no week)."""

CRITERION_TYPES = {"price": "Prix", "cost": "Coût", "quality": "Qualité"}
"""French labels of `award-criterion-type`, used when a criterion has no name."""

WEIGHT_FORMATS = {
    "per-exa": "{} %",
    "per-mid": "{} %",
    "poi-exa": "{} pts",
    "poi-mid": "{} pts",
    "dec-exa": "{}",
    "dec-mid": "{}",
    "ord-imp": "rang {}",
}
"""How a `number-weight` parameter is written after a criterion."""

CONSIDERATIONS = {"env-imp": "environnementaux", "soc-obj": "sociaux"}
"""`strategic-procurement` (BT-06) codes as the considerations words DECP and BOAMP use."""

LANGUAGES = {
    "BUL": "bg", "CES": "cs", "CZE": "cs", "DAN": "da", "DEU": "de", "GER": "de", "ELL": "el",
    "GRE": "el", "ENG": "en", "EST": "et", "FIN": "fi", "FRA": "fr", "FRE": "fr", "GLE": "ga",
    "HRV": "hr", "HUN": "hu", "ITA": "it", "LAV": "lv", "LIT": "lt", "MLT": "mt", "NLD": "nl",
    "DUT": "nl", "POL": "pl", "POR": "pt", "RON": "ro", "RUM": "ro", "SLK": "sk", "SLO": "sk",
    "SLV": "sl", "SPA": "es", "SWE": "sv", "NOR": "no", "NOB": "nb", "NNO": "nn", "ISL": "is",
    "ICE": "is", "LTZ": "lb", "CAT": "ca", "EUS": "eu", "GLG": "gl",
}  # fmt: skip
"""eForms `language` codes (ISO 639-2, as the EU authority table writes them) -> ISO 639-1."""

PREFERRED_LANGUAGE = "FRA"
"""Of several translations of one text, Scope keeps the French one."""
