"""The `GESTION` block every BOAMP notice carries, whatever the generation of its body.

Source: `<ANNONCE><GESTION>` of the DILA XML, and the `gestion` string of an Opendatasoft record
(the same tree as JSON, also on FNSimple records).
Format: `REFERENCE{IDWEB, TYPE_AVIS{FAMILLE, PERIMETRE, NATURE, STATUT}}`,
`MARCHE{ANNONCE_ANTERIEUR*}`, `INDEXATION{DATE_PUBLICATION, DATE_LIMITE_REPONSE, RESUME_OBJET,
NOMORGANISME, DEP_PRESTATION, CRITERES_SOCIAUX_ENV, NATURE_MARCHE, TYPE_PROCEDURE, …}`.
Caveats: `DESCRIPTEURS` are BOAMP's own thesaurus, not CPV, and `DEP_PUBLICATION` lists where
the notice is advertised, not where the work is done: neither is mapped. Everything here only
fills what the notice body left empty.
"""

from __future__ import annotations

from typing import Any

from scope_normalizer.formats.boamp_common import NoticeDraft, contract_nature, procedure
from scope_normalizer.values.boamp_tree import (
    as_list,
    code,
    codes,
    dig,
    merge_places,
    node,
    text,
    to_datetime,
)
from scope_normalizer.values.places import build_place, normalize_department
from scope_normalizer.values.text import clean_text
from scope_shared.schema import Place


def read_type(draft: NoticeDraft, gestion: object) -> None:
    """Nature, sub-nature, statut and famille of the notice (`REFERENCE/TYPE_AVIS`)."""
    type_avis = dig(gestion, "REFERENCE", "TYPE_AVIS")
    nature_node = dig(type_avis, "NATURE")
    nature = code(nature_node)
    sub = code(dig(nature_node, nature)) if nature else None
    draft.fill(
        nature=nature,
        sub_nature=sub,
        statut=code(dig(type_avis, "STATUT")),
        famille=code(dig(type_avis, "FAMILLE")),
    )


def read_earlier(draft: NoticeDraft, gestion: object) -> None:
    """`MARCHE/ANNONCE_ANTERIEUR`: the earlier notices of the procedure, with their nature."""
    for earlier in as_list(dig(gestion, "MARCHE", "ANNONCE_ANTERIEUR")):
        reference = dig(earlier, "REFERENCE")
        draft.add_earlier(dig(reference, "IDWEB"), code(dig(reference, "TYPE_AVIS", "NATURE")))


def read_indexation(draft: NoticeDraft, gestion: object) -> None:
    indexation = node(dig(gestion, "INDEXATION"))
    if indexation is None:
        return
    kind, label = procedure(code(indexation.get("TYPE_PROCEDURE")), [])
    draft.fill(
        title=clean_text(text(indexation.get("RESUME_OBJET"))),
        published_at=to_datetime(indexation.get("DATE_PUBLICATION")),
        submission_deadline=to_datetime(indexation.get("DATE_LIMITE_REPONSE")),
        contract_nature=contract_nature(code(indexation.get("NATURE_MARCHE"))),
        procedure_type=kind,
        procedure_label=label,
        considerations=[c.lower() for c in codes(indexation.get("CRITERES_SOCIAUX_ENV"))],
    )
    draft.place = with_departments(
        draft.place, [text(d) for d in as_list(indexation.get("DEP_PRESTATION"))]
    )


def buyer_name(gestion: object) -> str | None:
    return clean_text(text(dig(gestion, "INDEXATION", "NOMORGANISME")))


def with_departments(place: Place | None, departments: list[Any]) -> Place | None:
    """`place` with the départements of performance the index adds (`DEP_PRESTATION`)."""
    found = [d for d in (normalize_department(x) for x in departments) if d]
    if not found or (place is not None and set(found) <= set(place.departments)):
        return place
    return merge_places([place, build_place(departments=found)])


def read_gestion(draft: NoticeDraft, gestion: object) -> None:
    read_type(draft, gestion)
    read_earlier(draft, gestion)
    read_indexation(draft, gestion)
