"""Lots, award decisions, criteria and durations of a legacy BOAMP notice body (`DONNEES`).

Source: Boamp_v230/v240 notices (DILA XML, or Opendatasoft `donnees` before FNSimple/eForms).
Format: `OBJET/LOTS/LOT{NUM, INTITULE, DESCRIPTION, CPV, CODE_NUTS, LIEU_PRINCIPAL, VALEUR,
DUREE_MOIS, CRITERES_ATTRIBUTION}`; `ATTRIBUTION{VALEUR_TOTALE, DATE_DECISION, DECISION*{ATTRIBUE|
INFRUCTUEUX, NUM_LOT, INTITULE, TITULAIRE*, RENSEIGNEMENT{DATE_ATTRIBUTION, NB_OFFRE_RECU,
MONTANT}}}`; criteria as `CRITERES_PONDERES|CRITERES_QUALITE|CRITERES_COUT/CRITERE@POIDS`,
`CRITERES_PRIX{POIDS}` or a bare code (`CRITERES_CCTP`).
Caveats: a decision marked `INFRUCTUEUX` yields no award; the lowest and highest offers
(`OFFRE_BASSE`, `OFFRE_ELEVEE`), subcontracting and SME flags have no place in the schema.
"""

from __future__ import annotations

from typing import Any

from scope_normalizer.formats.boamp_common import (
    positive_amount,
)
from scope_normalizer.formats.boamp_parties import (
    valid_nuts,
    winner,
)
from scope_normalizer.values.amounts import parse_amount
from scope_normalizer.values.boamp_tree import (
    as_list,
    attr,
    dig,
    has,
    node,
    one_line,
    place_of,
    text,
    to_date,
    to_datetime,
    to_int,
)
from scope_normalizer.values.identifiers import normalize_cpv
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Award, Duration, DurationUnit, Lot, Place, Winner

_CRITERIA_LABELS = {
    "CRITERES_PRIX": "Prix",
    "CRITERES_CCTP": "Critères énoncés dans le cahier des charges",
    "CRITERES_DOCUMENTS": "Critères énoncés dans les documents de la consultation",
    "CRITERES_ENONCES": "Critères énoncés dans les documents de la consultation",
}
_FAILED_DECISIONS = ("INFRUCTUEUX", "NON_ATTRIBUE", "SANS_SUITE")


def cpv_codes(value: object) -> list[str]:
    """`CPV{PRINCIPAL, SECONDAIRE*}` (one or several) as 8-digit codes, main code first."""
    found: list[str] = []
    for cpv in as_list(value):
        for key in ("PRINCIPAL", "SECONDAIRE"):
            for item in as_list(dig(cpv, key)):
                normalized = normalize_cpv(text(item))
                if normalized and normalized not in found:
                    found.append(normalized)
    return found


def duration_of(holder: object) -> Duration | None:
    """`DUREE_MOIS`, `DUREE_JOUR` or start/end dates of `holder` (a lot, `DUREE_DELAI`)."""
    months = to_int(dig(holder, "DUREE_MOIS"))
    days = to_int(dig(holder, "DUREE_JOUR"))
    start = to_date(dig(holder, "DATE_DEBUT"))
    end = to_date(dig(holder, "DATE_FIN")) or to_date(dig(holder, "DATE_ACHEVEMENT"))
    if months is None and days is None and start is None and end is None:
        return None
    if months is not None:
        return Duration(value=months, unit=DurationUnit.MONTH, start_date=start, end_date=end)
    if days is not None:
        return Duration(value=days, unit=DurationUnit.DAY, start_date=start, end_date=end)
    return Duration(start_date=start, end_date=end)


def _weighted(label: str | None, weight: str | None) -> str | None:
    if label is None:
        return None
    weight_text = clean_text(weight)
    return f"{label} (pondération {weight_text})" if weight_text else label


def criteria_of(value: object) -> list[str]:
    """A `CRITERES_ATTRIBUTION` block as readable lines, weights kept (`prix (pondération 30)`)."""
    block = node(value)
    if block is None:
        return []
    found: list[str] = []
    for key, item in block.items():
        if key.startswith(("@", "#")):
            continue
        listed = as_list(dig(item, "CRITERE"))
        if listed:
            for criterion in listed:
                line = _weighted(clean_text(text(criterion)), attr(criterion, "POIDS"))
                if line:
                    found.append(line)
            continue
        label = _CRITERIA_LABELS.get(key) or clean_text(text(item))
        weight = text(dig(item, "POIDS")) if isinstance(item, dict) else None
        line = _weighted(label, weight)
        if line:
            found.append(line)
    return found


def lot_place(lot: object) -> Place | None:
    place_text = clean_text(text(dig(lot, "LIEU_PRINCIPAL")))
    nuts = [n for n in (valid_nuts(x) for x in as_list(dig(lot, "CODE_NUTS"))) if n]
    return place_of(place_text, nuts)


def read_lot(lot: object, index: int) -> Lot:
    title = one_line(dig(lot, "INTITULE"))
    description = clean_text(text(dig(lot, "DESCRIPTION")))
    cpvs = cpv_codes(dig(lot, "CPV"))
    value = dig(lot, "VALEUR") or dig(lot, "VALEUR_ESTIMEE")
    return Lot(
        id=clean_text(text(dig(lot, "NUM"))) or str(index),
        title=title,
        description=description if description != title else None,
        cpv_main=cpvs[0] if cpvs else None,
        cpv_additional=cpvs[1:],
        estimated_value=positive_amount(value),
        place=lot_place(lot),
        duration=duration_of(lot) or duration_of(dig(lot, "DUREE_DELAI")),
    )


def lot_criteria(lots: list[Any]) -> list[str]:
    """Criteria of the lots: once when every lot has the same, else each line under its lot."""
    per_lot = [
        (clean_text(text(dig(lot, "NUM"))) or str(i), criteria_of(dig(lot, "CRITERES_ATTRIBUTION")))
        for i, lot in enumerate(lots, 1)
    ]
    per_lot = [(num, lines) for num, lines in per_lot if lines]
    if not per_lot:
        return []
    if all(lines == per_lot[0][1] for _, lines in per_lot):
        return per_lot[0][1]
    return [f"Lot {num} : {line}" for num, lines in per_lot for line in lines]


def _titulaire(holder: object) -> Winner | None:
    nuts = valid_nuts(dig(holder, "CODE_NUTS"))
    country = text(dig(holder, "PAYS")) or (nuts[:2] if nuts else None)
    national_id = dig(holder, "CODE_IDENT_NATIONAL") or dig(holder, "SIRET")
    return winner(dig(holder, "DENOMINATION"), national_id, country)


def read_awards(attribution: object) -> tuple[list[Award], bool]:
    """The award decisions, and whether every decision says no contract was awarded."""
    decisions = as_list(dig(attribution, "DECISION"))
    total = dig(attribution, "VALEUR_TOTALE") if len(decisions) == 1 else None
    decided_on = to_datetime(dig(attribution, "DATE_DECISION"))
    awards: list[Award] = []
    failed = 0
    for decision in decisions:
        if any(has(decision, key) for key in _FAILED_DECISIONS):
            failed += 1
            continue
        info = dig(decision, "RENSEIGNEMENT")
        amount = dig(info, "MONTANT") or dig(decision, "MONTANT") or total
        winners = [w for w in (_titulaire(t) for t in as_list(dig(decision, "TITULAIRE"))) if w]
        awards.append(
            Award(
                lot_id=clean_text(text(dig(decision, "NUM_LOT"))),
                date=to_datetime(dig(info, "DATE_ATTRIBUTION")) or decided_on,
                winners=winners,
                value=parse_amount(text(amount), attr(amount, "DEVISE")),
                offers_received=to_int(dig(info, "NB_OFFRE_RECU")),
                contract_id=clean_text(text(dig(decision, "NUM_MARCHE"))),
                title=one_line(dig(decision, "INTITULE")),
            )
        )
    return awards, bool(decisions) and failed == len(decisions)
