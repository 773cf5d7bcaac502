"""FNSimple 3.2.5: the body of BOAMP's national notices since the eForms switch (2024-).

Source: Opendatasoft `boamp` records whose `donnees` is `{"FNSimple": {...}}` (`source_schema`
`3.2.5`), famille FNS ("Marchés entre 90 k€ et seuils européens").
Format: `organisme{nomOfficiel, codeIdentificationNational, typeIdentificationNational, cp,
ville}` and one section, `initial` (seen), or `rectificatif` / `attribution` (named by
third-party code, not seen): `communication{urlDocConsul|urlProfilAch, nomContact,
adresseMailContact, telContact}`, `procedure{procedureAdapteeO, techAchat, dateReceptionOffres,
criteresAttrib, capacite*}`, `natureMarche{intitule, description, codeCPV, natureMarche,
lieuExecution, dureeMois, valeurEstimee}`, `lots{lot*}`.
Caveats: local times may lack an offset (French time is assumed) or carry milliseconds. Lots
have no number: one is read from a leading `1-` or `Lot 2 :` of their description when every
lot has one, else lots are numbered in order. An estimate published as a range keeps its upper
bound (the schema has one value); `0.00` means undisclosed. `categorieAcheteur` sometimes holds
CPV text typed by the buyer; it is not read as CPV.
"""

from __future__ import annotations

import re
from typing import Any

from scope_normalizer.formats.boamp_common import (
    NoticeDraft,
    contract_nature,
    positive_amount,
)
from scope_normalizer.formats.boamp_parties import (
    Contact,
    organization,
)
from scope_normalizer.values.boamp_tree import (
    as_list,
    attr,
    code,
    dig,
    has,
    node,
    one_line,
    place_of,
    text,
    to_datetime,
    to_int,
)
from scope_normalizer.values.identifiers import normalize_cpv
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Amount, Duration, DurationUnit, Lot, Place, ProcedureType

_SECTIONS = ("initial", "rectificatif", "attribution")
_PROCEDURES = {
    "procedureAdapteeO": (ProcedureType.ADAPTED, "Procédure adaptée ouverte"),
    "procedureAdapteeR": (ProcedureType.ADAPTED, "Procédure adaptée restreinte"),
    "procedureAdaptee": (ProcedureType.ADAPTED, "Procédure adaptée"),
}
_LOT_NUMBER = re.compile(r"^\s*(?:lot\s*(?:n[°o]?\s*)?)?(\d{1,3})\s*[-:–.)]", re.IGNORECASE)


def map_fnsimple(draft: NoticeDraft, fnsimple: object) -> None:
    """Fill `draft` from the `FNSimple` object of `donnees`."""
    root = node(fnsimple) or {}
    section: dict[str, Any] = next(
        (found for name in _SECTIONS if (found := node(root.get(name))) is not None), {}
    )
    communication = section.get("communication")
    procedure_node = node(section.get("procedure")) or {}
    nature = node(section.get("natureMarche")) or {}
    _read_buyer(draft, root.get("organisme"), communication)
    _read_procedure(draft, procedure_node)
    draft.title = clean_text(text(nature.get("intitule")))
    draft.description = clean_text(text(nature.get("description")))
    draft.contract_nature = contract_nature(code(nature.get("natureMarche")))
    cpvs = _cpvs(nature.get("codeCPV"))
    draft.cpv_main = cpvs[0] if cpvs else None
    draft.cpv_additional = cpvs[1:]
    draft.place = _place(text(nature.get("lieuExecution")))
    months = to_int(nature.get("dureeMois"))
    draft.duration = Duration(value=months, unit=DurationUnit.MONTH) if months else None
    draft.estimated_value = _estimate(nature.get("valeurEstimee"))
    draft.lots = _lots(as_list(dig(section, "lots", "lot")))
    draft.documents_url = clean_text(text(dig(communication, "urlDocConsul")))
    draft.tender_url = clean_text(text(dig(communication, "urlProfilAch")))


def _read_buyer(draft: NoticeDraft, organisme: object, communication: object) -> None:
    draft.buyer = organization(
        Contact(
            name=text(dig(organisme, "nomOfficiel")),
            national_id=dig(organisme, "codeIdentificationNational"),
            id_scheme=code(dig(organisme, "typeIdentificationNational")),
            postal_code=text(dig(organisme, "cp")),
            city=text(dig(organisme, "ville")),
            email=text(dig(communication, "adresseMailContact")),
            phone=text(dig(communication, "telContact")),
            contact_name=text(dig(communication, "nomContact")),
        )
    )


def _read_procedure(draft: NoticeDraft, procedure_node: dict[str, Any]) -> None:
    for key, (kind, label) in _PROCEDURES.items():
        if key in procedure_node:
            draft.procedure_type, draft.procedure_label = kind, label
            break
    technique = procedure_node.get("techAchat")
    if technique is not None:
        draft.framework_agreement = has(technique, "accordCadre")
    draft.submission_deadline = to_datetime(procedure_node.get("dateReceptionOffres"))
    criteria = clean_text(text(procedure_node.get("criteresAttrib")))
    draft.award_criteria = [criteria] if criteria else []
    capacities = [
        clean_text(text(procedure_node.get(key)))
        for key in ("capaciteExercice", "capaciteEcoFin", "capaciteTech")
    ]
    draft.conditions = "\n".join(dict.fromkeys(c for c in capacities if c)) or None


def _cpvs(value: object) -> list[str]:
    found: list[str] = []
    for item in as_list(value):
        for key in ("objetPrincipal", "objetComplementaire"):
            for entry in as_list(dig(item, key)):
                cpv = normalize_cpv(text(dig(entry, "classPrincipale")))
                if cpv and cpv not in found:
                    found.append(cpv)
    return found


def _place(place_text: str | None) -> Place | None:
    cleaned = clean_text(place_text)
    return place_of(cleaned)


def _estimate(value: object) -> Amount | None:
    """`valeurEstimee{@devise, valeur}` or `{@devise, fourchette{valeurBasse, valeurHaute}}`."""
    currency = attr(value, "devise")
    return positive_amount(dig(value, "valeur"), currency) or positive_amount(
        dig(value, "fourchette", "valeurHaute"), currency
    )


def _lots(items: list[Any]) -> list[Lot]:
    descriptions = [clean_text(text(dig(item, "description"))) for item in items]
    numbers = [n for n in (_lot_number(d) for d in descriptions) if n is not None]
    if len(numbers) != len(items) or len(set(numbers)) != len(numbers):
        numbers = [str(index) for index in range(1, len(items) + 1)]
    lots: list[Lot] = []
    for item, number, description in zip(items, numbers, descriptions, strict=True):
        title = description.split("\n", 1)[0].strip() if description else None
        cpvs = _cpvs(dig(item, "codeCPV"))
        months = to_int(dig(item, "dureeMois"))
        estimate = dig(item, "estimationValeur")
        lots.append(
            Lot(
                id=number,
                title=one_line(dig(item, "intitule")) or title,
                description=description if description != title else None,
                cpv_main=cpvs[0] if cpvs else None,
                cpv_additional=cpvs[1:],
                estimated_value=positive_amount(dig(estimate, "valeur"), attr(estimate, "devise")),
                place=_place(text(dig(item, "lieuExecutionLivraison"))),
                duration=Duration(value=months, unit=DurationUnit.MONTH) if months else None,
            )
        )
    return lots


def _lot_number(description: str | None) -> str | None:
    match = _LOT_NUMBER.match(description or "")
    return str(int(match.group(1))) if match else None
