"""Legacy BOAMP notices (Boamp_v230/v240): one mapper for the DILA XML and its JSON twin.

Source: DILA open-data notice files (`<ANNONCE>`) and Opendatasoft records whose `donnees` is
the same `DONNEES` tree as JSON (notices before FNSimple and eForms).
Format: `DONNEES{IDENTITE, OBJET, PROCEDURE, CONDITION_DELAI, CONDITION_PARTICIPATION,
RENSEIGNEMENTS_COMPLEMENTAIRES, ATTRIBUTION, RECTIFICATIF}` next to `GESTION` (see
`boamp_gestion`); both arrive here already as the XML-as-JSON tree of `values.boamp_tree`.
Caveats: a notice not divided into lots may still carry one `LOT` (the EU form's section II.2):
it is lifted to the notice instead of being listed as a lot. On award notices the
`CARACTERISTIQUES` values are the final value or the lowest/highest offers, not an estimate,
so they are not mapped. Texts keep the C1 control characters of upstream mis-decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scope_normalizer.formats.boamp_common import (
    NoticeDraft,
    contract_nature,
    norm_code,
    positive_amount,
    procedure,
)
from scope_normalizer.formats.boamp_gestion import buyer_name, read_gestion, read_type
from scope_normalizer.formats.boamp_legacy_parts import (
    cpv_codes,
    criteria_of,
    duration_of,
    lot_criteria,
    read_awards,
    read_lot,
)
from scope_normalizer.formats.boamp_parties import (
    Contact,
    organization,
    valid_nuts,
)
from scope_normalizer.values.boamp_tree import (
    as_list,
    code,
    codes,
    dig,
    has,
    merge_places,
    node,
    place_of,
    text,
    texts_under,
    to_datetime,
)
from scope_normalizer.values.text import clean_text
from scope_shared.reference import department_for_postal_code
from scope_shared.schema import Lot, Place, ProcedureType

_FRAMEWORK_YES = {"ACCORD_CADRE", "ACCORD_CADRE_OUI"}
_FRAMEWORK_NO = {"MARCHE_PUBLIC", "ACCORD_CADRE_NON"}
_CONCESSION_MARKS = {"DSP", "CONCESSION"}


def map_legacy(draft: NoticeDraft, gestion: object, donnees: object) -> None:
    """Fill `draft` from a legacy notice: the body first, then what `GESTION` adds."""
    read_type(draft, gestion)
    body = node(donnees) or {}
    _read_identity(draft, body, gestion)
    objet = node(body.get("OBJET")) or {}
    _read_object(draft, objet, body)
    _read_procedure(draft, body)
    _read_conditions(draft, body)
    _read_addresses(draft, body)
    attribution = body.get("ATTRIBUTION")
    if attribution is not None:
        draft.awards, draft.unsuccessful = read_awards(attribution)
    _read_rectificatif(draft, node(body.get("RECTIFICATIF")))
    read_gestion(draft, gestion)


def _read_rectificatif(draft: NoticeDraft, rectificatif: dict[str, Any] | None) -> None:
    """A corrigendum body: the notice it corrects and, as description, what it changes."""
    if rectificatif is None:
        return
    for earlier in as_list(rectificatif.get("ANNONCE_ANTERIEUR")):
        draft.add_earlier(dig(earlier, "REFERENCE", "IDWEB"))
    changes = {k: v for k, v in rectificatif.items() if k != "ANNONCE_ANTERIEUR"}
    draft.fill(description=_joined(texts_under(changes)))


def _joined(parts: Sequence[str | None]) -> str | None:
    """Distinct texts, one per paragraph; a part already contained in another is dropped."""
    cleaned = [c for c in (clean_text(p) for p in parts) if c]
    kept = [c for c in cleaned if not any(c != other and c in other for other in cleaned)]
    return "\n\n".join(dict.fromkeys(kept)) or None


def _read_identity(draft: NoticeDraft, body: dict[str, Any], gestion: object) -> None:
    identite = body.get("IDENTITE")
    draft.buyer = organization(
        Contact(
            name=text(dig(identite, "DENOMINATION")) or buyer_name(gestion),
            national_id=dig(identite, "CODE_IDENT_NATIONAL"),
            address=text(dig(identite, "ADRESSE")),
            postal_code=text(dig(identite, "CP")),
            city=text(dig(identite, "VILLE")),
            nuts=dig(identite, "ADJUDICATEUR_NUTS"),
            country=text(dig(identite, "PAYS")),
            email=text(dig(identite, "MEL")),
            phone=text(dig(identite, "TEL")),
            url=text(dig(identite, "URL")),
            contact_name=text(dig(identite, "CORRESPONDANT")) or text(dig(identite, "CONTACT")),
        )
    )
    draft.documents_url = clean_text(text(dig(identite, "URL_DOCUMENT")))
    draft.tender_url = clean_text(
        text(dig(identite, "URL_PARTICIPATION")) or text(dig(identite, "URL_PROFIL_ACHETEUR"))
    )


def _read_object(draft: NoticeDraft, objet: dict[str, Any], body: dict[str, Any]) -> None:
    caracteristiques = objet.get("CARACTERISTIQUES")
    draft.title = clean_text(text(objet.get("TITRE_MARCHE")))
    draft.description = _joined(
        [text(objet.get("OBJET_COMPLET")), text(dig(caracteristiques, "PRINCIPALES"))]
    )
    draft.contract_nature = contract_nature(code(objet.get("TYPE_MARCHE")))
    cpvs = cpv_codes(objet.get("CPV"))
    draft.cpv_main = cpvs[0] if cpvs else None
    draft.cpv_additional = cpvs[1:]
    draft.duration = duration_of(objet.get("DUREE_DELAI")) or duration_of(objet)
    if norm_code(draft.nature) not in ("ATTRIBUTION", "INTENTION_CONCLURE"):
        draft.estimated_value = positive_amount(
            dig(caracteristiques, "VALEUR_TOTALE") or objet.get("VALEUR_ESTIMEE")
        )
    lots = as_list(dig(objet, "LOTS", "LOT"))
    mapped = [read_lot(lot, index) for index, lot in enumerate(lots, 1)]
    undivided = has(objet.get("DIV_EN_LOTS"), "NON") and len(mapped) == 1
    if undivided:
        _lift_single_lot(draft, mapped[0])
    else:
        draft.lots = mapped
        durations = {lot.duration for lot in mapped}
        if len(durations) == 1:
            draft.fill(duration=durations.pop())
    draft.award_criteria = [
        *criteria_of(dig(body, "PROCEDURE", "CRITERES_ATTRIBUTION")),
        *lot_criteria(lots),
    ]
    draft.place = _place(objet, mapped)


def _lift_single_lot(draft: NoticeDraft, lot: Lot) -> None:
    draft.description = _joined([draft.description, lot.title, lot.description])
    draft.fill(
        cpv_main=lot.cpv_main,
        cpv_additional=lot.cpv_additional,
        estimated_value=lot.estimated_value,
        duration=lot.duration,
    )


def _place(objet: dict[str, Any], lots: list[Lot]) -> Place | None:
    """`LIEU_EXEC_LIVR` of the notice, else the union of its lots' places."""
    lieu = objet.get("LIEU_EXEC_LIVR")
    codes_found = [*as_list(dig(lieu, "CODE_NUTS")), *as_list(objet.get("CODE_NUTS"))]
    nuts = [n for n in (valid_nuts(x) for x in codes_found) if n]
    postal_code = clean_text(text(dig(lieu, "CP")))
    city = " ".join(p for p in (postal_code, clean_text(text(dig(lieu, "VILLE")))) if p)
    place_text = ", ".join(p for p in (clean_text(text(dig(lieu, "ADRESSE"))), city) if p)
    dep = department_for_postal_code(postal_code) if postal_code else None
    place = place_of(place_text or None, nuts, [dep] if dep else [])
    return place or merge_places([lot.place for lot in lots])


def _read_procedure(draft: NoticeDraft, body: dict[str, Any]) -> None:
    procedure_node = body.get("PROCEDURE")
    type_node = dig(procedure_node, "TYPE_PROCEDURE")
    chosen = code(type_node)
    details = codes(dig(type_node, chosen)) if chosen is not None else []
    kind, label = procedure(chosen, details)
    if chosen is not None and norm_code(chosen) == "AUTRE":
        label = clean_text(text(dig(type_node, chosen))) or label
    marks = {norm_code(draft.famille), norm_code(draft.sub_nature)}
    if _CONCESSION_MARKS & marks:
        kind = ProcedureType.CONCESSION
    draft.procedure_type, draft.procedure_label = kind, label
    implied = {
        *codes(dig(procedure_node, "AVIS_IMPLIQUE")),
        *codes(dig(body, "OBJET", "AVIS_IMPLIQUE")),
    }
    if implied & _FRAMEWORK_YES or has(procedure_node, "ACCORD_CADRE"):
        draft.framework_agreement = True
    elif implied & _FRAMEWORK_NO:
        draft.framework_agreement = False
    delays = body.get("CONDITION_DELAI")
    draft.submission_deadline = to_datetime(dig(delays, "RECEPT_OFFRES")) or to_datetime(
        dig(delays, "RECEPT_CANDIDAT")
    )


def _read_conditions(draft: NoticeDraft, body: dict[str, Any]) -> None:
    lines = [clean_text(line) for line in texts_under(body.get("CONDITION_PARTICIPATION"))]
    draft.conditions = "\n".join(dict.fromkeys(line for line in lines if line)) or None


def _read_addresses(draft: NoticeDraft, body: dict[str, Any]) -> None:
    """Document and submission URLs given in the additional addresses (`TYPE` = role)."""
    addresses = dig(body, "RENSEIGNEMENTS_COMPLEMENTAIRES", "ADRESSES_COMPLEMENTAIRES", "ADRESSE")
    for address in as_list(addresses):
        role = code(dig(address, "TYPE"))
        url = clean_text(text(dig(address, "URL")))
        if url is None:
            continue
        if role == "DOCUMENTS":
            draft.documents_url = url
        elif role == "ENVOYER_OFFRES":
            draft.fill(tender_url=url)
