"""What an R2.0.9 notice is: notice type, procedure, contract nature, and the notices it names.

Notice type, in order of authority:
    1. `CODIF_DATA/TD_DOCUMENT_TYPE/@CODE`, for the codes FORMATS.md records: `0` PIN only and
       `P` periodic indicative notice -> planning; `3` contract notice and `O` qualification
       system -> contract_notice; `2` additional information (F14) -> corrigendum; `7` award,
       `J` concession award and `V` VEAT (a contract already awarded) -> award.
    2. The form's `NOTICE/@TYPE` (F01, F04, F21-F23 serve several purposes).
    3. The form itself (`F02` contract notice, `F20` modification, ...).
A notice none of them classifies is dead-lettered naming TD_DOCUMENT_TYPE.
"""

from __future__ import annotations

import re

from lxml import etree

from scope_normalizer.formats.children import Children
from scope_normalizer.formats.ted_xml.tree import (
    code,
    code_of,
    find_all,
    leaf,
    local_name,
    path,
    text_of,
)
from scope_shared.documents.ted import publication_number
from scope_shared.errors import PermanentError
from scope_shared.schema import ContractNature, NoticeType, ProcedureType, RelationKind

_PLANNING, _CALL = NoticeType.PLANNING, NoticeType.CONTRACT_NOTICE
_AWARD = NoticeType.AWARD

BY_DOCUMENT_TYPE = {
    "0": _PLANNING, "P": _PLANNING, "3": _CALL, "O": _CALL,
    "2": NoticeType.CORRIGENDUM, "7": _AWARD, "J": _AWARD, "V": _AWARD,
}  # fmt: skip
BY_NOTICE_ATTRIBUTE = {
    "PRI_ONLY": _PLANNING, "PRI_REDUCING_TIME_LIMITS": _PLANNING, "PER_ONLY": _PLANNING,
    "PER_REDUCING_TIME_LIMITS": _PLANNING, "PRI_CALL_COMPETITION": _CALL,
    "PER_CALL_COMPETITION": _CALL, "QSU_ONLY": _CALL, "QSU_CALL_COMPETITION": _CALL,
    "CONTRACT": _CALL, "AWARD_CONTRACT": _AWARD,
}  # fmt: skip
BY_FORM = {
    "F01": _PLANNING, "F02": _CALL, "F03": _AWARD, "F04": _PLANNING, "F05": _CALL,
    "F06": _AWARD, "F07": _CALL, "F12": _CALL, "F13": _AWARD, "F14": NoticeType.CORRIGENDUM,
    "F15": _AWARD, "F16": _PLANNING, "F17": _CALL, "F18": _AWARD, "F19": _CALL,
    "F20": NoticeType.MODIFICATION, "F24": _CALL, "F25": _AWARD,
}  # fmt: skip

PROCEDURES = {
    "PT_OPEN": ProcedureType.OPEN,
    "PT_RESTRICTED": ProcedureType.RESTRICTED,
    "PT_COMPETITIVE_NEGOTIATION": ProcedureType.NEGOTIATED_WITH_CALL,
    "PT_NEGOTIATED_WITH_PRIOR_CALL": ProcedureType.NEGOTIATED_WITH_CALL,
    "PT_INVOLVING_NEGOTIATION": ProcedureType.NEGOTIATED_WITH_CALL,
    "PT_COMPETITIVE_DIALOGUE": ProcedureType.COMPETITIVE_DIALOGUE,
    "PT_INNOVATION_PARTNERSHIP": ProcedureType.INNOVATION_PARTNERSHIP,
    "PT_AWARD_CONTRACT_WITHOUT_CALL": ProcedureType.NEGOTIATED_WITHOUT_CALL,
    "PT_AWARD_CONTRACT_WITHOUT_PUBLICATION": ProcedureType.NEGOTIATED_WITHOUT_CALL,
    "PT_NEGOTIATED_WITHOUT_PUBLICATION": ProcedureType.NEGOTIATED_WITHOUT_CALL,
    "PT_AWARD_CONTRACT_WITH_PRIOR_PUBLICATION": ProcedureType.CONCESSION,
}
"""Section IV.1.1 elements (under PROCEDURE, or under its DIRECTIVE_2014_2x_EU block)."""
_PR_PROC = {"1": ProcedureType.OPEN, "2": ProcedureType.RESTRICTED, "3": ProcedureType.RESTRICTED}
"""CODIF_DATA/PR_PROC codes used when the form names no procedure (3: accelerated restricted)."""
_NOT_APPLICABLE = "9"

_NATURES = {
    "WORKS": ContractNature.WORKS,
    "SUPPLIES": ContractNature.SUPPLIES,
    "SERVICES": ContractNature.SERVICES,
}
_NATURE_CODES = {
    "1": ContractNature.WORKS,
    "2": ContractNature.SUPPLIES,
    "4": ContractNature.SERVICES,
}

_RELATIONS = {
    NoticeType.CORRIGENDUM: RelationKind.CORRECTS,
    NoticeType.AWARD: RelationKind.AWARDS,
    NoticeType.MODIFICATION: RelationKind.MODIFIES,
}
_FORM_NAME = re.compile(r"^F\d{2}")

TD_DOCUMENT_TYPE = path("TD_DOCUMENT_TYPE")
_PR_PROC_PATH = path("PR_PROC")
_NOTICE = path("NOTICE")
_FRAMEWORK = path("FRAMEWORK")
_TYPE_CONTRACT = path("TYPE_CONTRACT")
_REF_NOTICES = path("REF_NOTICE", "NO_DOC_OJS")
_NOTICE_NUMBER_OJ = path("NOTICE_NUMBER_OJ")
_INFO_NOTICE_NUMBER = path("COMPLEMENTARY_INFO", "NOTICE_NUMBER_OJ")


def notice_type(codif: Children, form: etree._Element) -> NoticeType:
    by_code = BY_DOCUMENT_TYPE.get(code_of(codif.first(TD_DOCUMENT_TYPE)) or "")
    by_attribute = BY_NOTICE_ATTRIBUTE.get(code(form, _NOTICE, "TYPE") or "")
    form_match = _FORM_NAME.match(form.get("FORM") or local_name(form))
    by_form = BY_FORM.get(form_match.group(0)) if form_match else None
    found = by_code or by_attribute or by_form
    if found is None:
        raise PermanentError(
            "unknown notice type", field_path="/TED_EXPORT/CODED_DATA_SECTION/CODIF_DATA"
        )
    return found


def procedure(
    procedure_element: etree._Element | None, codif: Children
) -> tuple[ProcedureType | None, str | None]:
    """The procedure type and TED's label for it (`Open procedure`), from IV.1.1 or PR_PROC."""
    label = text_of(codif.first(_PR_PROC_PATH))
    pr_proc = code_of(codif.first(_PR_PROC_PATH))
    if pr_proc == _NOT_APPLICABLE:
        label = None
    holders = [procedure_element] if procedure_element is not None else []
    holders += [c for h in holders for c in h if local_name(c).startswith("DIRECTIVE_")]
    for holder in holders:
        for child in holder:
            name = local_name(child)
            if name.startswith("PT_"):
                return PROCEDURES.get(name, ProcedureType.OTHER), label
    return _PR_PROC.get(pr_proc or ""), label


def framework(procedure: Children) -> bool | None:
    """True when IV.1.3 declares a framework agreement; None when the form says nothing."""
    if procedure.node is None:
        return None
    return True if procedure.first(_FRAMEWORK) is not None else None


def contract_nature(object_contract: Children, codif: Children) -> ContractNature | None:
    found = _NATURES.get(code_of(object_contract.first(_TYPE_CONTRACT), "CTYPE") or "")
    return found or _NATURE_CODES.get(code_of(codif.first(path("NC_CONTRACT_NATURE"))) or "")


def cited_numbers(
    notice_data: etree._Element | None, form: etree._Element, procedure: Children
) -> list[str | None]:
    """Publication numbers of the notices this one cites (REF_NOTICE first), None where absent."""
    cited: list[str | None] = []
    if notice_data is not None:
        cited += [publication_number(e.text) for e in find_all(notice_data, _REF_NOTICES)]
    cited.append(publication_number(text_of(procedure.first(_NOTICE_NUMBER_OJ))))
    cited.append(publication_number(leaf(form, _INFO_NOTICE_NUMBER)))
    return cited


def relation_for(kind: NoticeType) -> RelationKind:
    return _RELATIONS.get(kind, RelationKind.FOLLOWS)
