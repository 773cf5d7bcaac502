"""DECP code values to Scope's: procedure, contract nature, framework, considerations.

Labels are compared folded (lower case, no accents, straight apostrophes, single spaces),
because buyer-profile exports vary in these (`Procédure adapté`, `Appel d’offres ouvert`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from scope_normalizer.formats.decp.record import Kind, Record, strings, text
from scope_shared.schema import ContractNature, ProcedureType

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1024)
def fold(label: str) -> str:
    """Cached: a file repeats a handful of labels, and folding one costs microseconds."""
    decomposed = unicodedata.normalize("NFKD", label.replace("’", "'").lower())
    return _SPACES.sub(" ", "".join(c for c in decomposed if not unicodedata.combining(c))).strip()


_PROCEDURES = {
    fold(label): kind
    for kind, labels in {
        ProcedureType.ADAPTED: ("Procédure adaptée", "Procédure adapté", "MAPA"),
        ProcedureType.OPEN: ("Appel d'offres ouvert",),
        ProcedureType.RESTRICTED: ("Appel d'offres restreint",),
        ProcedureType.NEGOTIATED_WITH_CALL: (
            "Procédure avec négociation",
            "Procédure concurrentielle avec négociation",
            "Procédure négociée avec mise en concurrence préalable",
        ),
        ProcedureType.NEGOTIATED_WITHOUT_CALL: (
            "Marché passé sans publicité ni mise en concurrence préalable",
            "Marché négocié sans publicité ni mise en concurrence préalable",
            "Procédure négociée sans publicité ni mise en concurrence préalable",
        ),
        ProcedureType.COMPETITIVE_DIALOGUE: ("Dialogue compétitif",),
        ProcedureType.INNOVATION_PARTNERSHIP: ("Partenariat d'innovation",),
    }.items()
    for label in labels
}

_CONCESSION_NATURES = {
    fold("Concession de travaux"): ContractNature.WORKS,
    fold("Concession de service"): ContractNature.SERVICES,
    fold("Concession de services"): ContractNature.SERVICES,
    fold("Concession de service public"): ContractNature.SERVICES,
    fold("Délégation de service public"): ContractNature.SERVICES,
}

_CCAG_NATURES = {
    fold("Travaux"): ContractNature.WORKS,
    fold("Maitrise d'œuvre"): ContractNature.SERVICES,
    fold("Prestations intellectuelles"): ContractNature.SERVICES,
}
"""2024 `ccag`, used only without a CPV; the other CCAG cover supplies and services alike."""

_FRAMEWORK_NATURES = {
    fold("Accord-cadre"): True,
    fold("Marché"): False,
    fold("Marché subséquent"): False,
    fold("Marché de partenariat"): False,
    fold("Marché de défense ou de sécurité"): False,
}
"""2019 `nature`. A marché subséquent is a contract awarded under a framework agreement,
not a framework agreement itself."""

_NO_CONSIDERATION = fold("Pas de considération")


def procedure(kind: Kind, label: str | None) -> ProcedureType | None:
    """Every concession procedure is the concession award procedure."""
    if kind is Kind.CONCESSION:
        return ProcedureType.CONCESSION
    if label is None:
        return None
    return _PROCEDURES.get(fold(label), ProcedureType.OTHER)


def contract_nature(kind: Kind, record: Record, cpv: str | None) -> ContractNature | None:
    """A concession's `nature` says works or services. A marché's `nature` does not, so its
    nature comes from the CPV division, the rule of the CPV regulation (EC 213/2008): 45 is
    works, 03 to 44 and 48 supplies, 50 to 98 services."""
    label = text(record.nature)
    if kind is Kind.CONCESSION and label:
        found = _CONCESSION_NATURES.get(fold(label))
        if found:
            return found
    if cpv:
        division = int(cpv[:2])
        if division == 45:
            return ContractNature.WORKS
        if 3 <= division <= 44 or division == 48:
            return ContractNature.SUPPLIES
        if 50 <= division <= 98:
            return ContractNature.SERVICES
    ccag = text(record.ccag)
    return _CCAG_NATURES.get(fold(ccag)) if ccag else None


def framework_agreement(kind: Kind, record: Record) -> bool | None:
    """2019: `nature` Accord-cadre. 2024: `techniques` lists Accord-cadre."""
    if kind is Kind.CONCESSION:
        return False
    techniques = strings(record.techniques, "technique")
    if techniques and any(fold(t) == "accord-cadre" for t in techniques):
        return True
    label = text(record.nature)
    by_nature = _FRAMEWORK_NATURES.get(fold(label)) if label else None
    if by_nature is not None:
        return by_nature
    return False if techniques else None


def considerations(record: Record) -> list[str]:
    """2024 considerations as the schema's two tokens, `sociaux` and `environnementaux`."""
    found: list[str] = []
    for value_list, item, token in (
        (record.considerations_sociales, "considerationSociale", "sociaux"),
        (
            record.considerations_environnementales,
            "considerationEnvironnementale",
            "environnementaux",
        ),
    ):
        values = strings(value_list, item)
        if values and any(not fold(value).startswith(_NO_CONSIDERATION) for value in values):
            found.append(token)
    return found
