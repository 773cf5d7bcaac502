"""`RawFormat.BOAMP_JSON`: one record of the BOAMP dataset on Opendatasoft (Explore API v2.1).

Source: `https://boamp-datadila.opendatasoft.com/api/explore/v2.1/catalog/datasets/boamp/records`
(and `/exports/json|jsonl`), split by `scope_shared.documents.boamp.split_records`.
Format: 41 flat fields (`idweb`, `objet`, `nomacheteur`, `dateparution`, `datelimitereponse`,
`type_marche`, `type_procedure`, `titulaire`, `criteres`, `annonce_lie`, `contractfolderid`,
`url_avis`, …) plus two JSON strings: `gestion` (the GESTION block) and `donnees`, the notice
body in one of three generations: legacy Boamp_v230/v240 (`{IDENTITE, OBJET, …}`), FNSimple
(`{"FNSimple": …}`) or eForms (`{"EFORMS": …}`).
Caveats: the body is read first and the flat fields fill what it left empty. For eForms bodies
no real sample exists, so only the flat fields and `gestion` are mapped. On the 2026 FNSimple
records `datelimitereponse` is the local wall-clock time labelled `+00:00` (26-7298: gestion
`12:00+01:00`, record `12:00+00:00`), so the body's deadline, with its offset, wins.
`descripteur_*` are BOAMP's thesaurus, not CPV, and `code_departement` lists where the notice is
advertised: neither is mapped. A malformed `gestion` or `donnees` string is skipped.
"""

from __future__ import annotations

from typing import Any

import msgspec

from scope_normalizer.formats.boamp_common import (
    NoticeDraft,
    build_notice,
    contract_nature,
    norm_code,
    procedure,
)
from scope_normalizer.formats.boamp_fnsimple import map_fnsimple
from scope_normalizer.formats.boamp_gestion import read_gestion, with_departments
from scope_normalizer.formats.boamp_legacy import map_legacy
from scope_normalizer.formats.boamp_parties import (
    Contact,
    organization,
    winner,
)
from scope_normalizer.values.boamp_tree import as_list, dig, text, to_datetime
from scope_normalizer.values.text import clean_text
from scope_shared.errors import PermanentError
from scope_shared.schema import Award, Notice, ProcedureType, RawNotice

_UNKNOWN_PROCEDURE_LABELS = {"Procédure NC", "NC"}


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    record = msgspec.json.decode(payload)
    if not isinstance(record, dict):
        raise PermanentError("a BOAMP record must be a JSON object", field_path="$")
    gestion = _embedded(record.get("gestion"))
    donnees = _embedded(record.get("donnees"))
    draft = NoticeDraft()
    if isinstance(donnees, dict) and "FNSimple" in donnees:
        map_fnsimple(draft, donnees["FNSimple"])
        read_gestion(draft, gestion)
    elif isinstance(donnees, dict) and "EFORMS" not in donnees and donnees:
        map_legacy(draft, gestion, donnees)
    else:
        read_gestion(draft, gestion)
    _read_record(draft, record)
    return build_notice(raw, draft)


def _embedded(value: object) -> Any:
    """`gestion` and `donnees` are JSON strings; an unreadable one is left out, not fatal."""
    if isinstance(value, str):
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError:
            return None
    return value


def _read_record(draft: NoticeDraft, record: dict[str, Any]) -> None:
    """The flat fields: links and identity first, then whatever the body left empty."""
    draft.source_url = clean_text(text(record.get("url_avis")))
    folder = clean_text(text(record.get("contractfolderid")))
    draft.contract_folder = folder
    for key in ("annonce_lie", "annonces_anterieures"):
        for item in as_list(record.get(key)):
            draft.add_earlier(item if isinstance(item, str) else _idweb_in(item))
    draft.etat = clean_text(text(record.get("etat")))
    draft.fill(
        nature=clean_text(text(record.get("nature"))),
        sub_nature=clean_text(text(record.get("sousnature"))),
        famille=clean_text(text(record.get("famille"))),
        title=clean_text(text(record.get("objet"))),
        published_at=to_datetime(record.get("dateparution")),
        submission_deadline=to_datetime(record.get("datelimitereponse")),
        contract_nature=contract_nature(text(record.get("type_marche"))),
    )
    if draft.buyer is None:
        draft.buyer = organization(Contact(name=text(record.get("nomacheteur"))))
    _read_procedure(draft, record)
    criteres = [c.strip().lower() for c in as_list(record.get("criteres")) if isinstance(c, str)]
    draft.considerations = [*filter(None, criteres), *draft.considerations]
    draft.place = with_departments(draft.place, as_list(record.get("code_departement_prestation")))
    names = [w for w in (winner(name) for name in as_list(record.get("titulaire"))) if w]
    if names and not draft.awards:
        draft.awards = [Award(winners=names)]


def _idweb_in(item: object) -> str | None:
    return (
        text(dig(item, "idweb"))
        or text(dig(item, "IDWEB"))
        or text(dig(item, "REFERENCE", "IDWEB"))
    )


def _read_procedure(draft: NoticeDraft, record: dict[str, Any]) -> None:
    kind, label = procedure(text(record.get("type_procedure")), [])
    published_label = clean_text(text(record.get("procedure_libelle")))
    if published_label in _UNKNOWN_PROCEDURE_LABELS:
        published_label = None
    draft.fill(procedure_type=kind, procedure_label=published_label or label)
    if published_label and kind is not None and draft.procedure_label == label:
        # Same code read from `gestion`: the publisher's own wording beats the code's label.
        draft.procedure_label = published_label
    marks = {norm_code(draft.famille), norm_code(text(record.get("perimetre")))}
    if draft.procedure_type is None and "DSP" in marks:
        draft.procedure_type = ProcedureType.CONCESSION
    elif draft.procedure_type is None and "MAPA" in marks:
        draft.procedure_type = ProcedureType.ADAPTED
