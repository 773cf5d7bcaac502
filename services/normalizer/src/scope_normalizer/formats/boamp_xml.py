"""`RawFormat.BOAMP_XML`: one DILA open-data BOAMP notice (`<ANNONCE>`, Boamp_v230/v240.xsd).

Source: DILA open data (`echanges.dila.gouv.fr/OPENDATA/BOAMP/`, archives of one XML file per
notice), split by `scope_shared.documents.boamp.split_dila_xml`.
Format: `<ANNONCE>` without namespace: `GESTION` (reference, type, earlier notices, index) and
`DONNEES` (the notice). Codes are empty elements (`<FAMILLE><JOUE/></FAMILLE>`).
Caveats: the tree is converted once into the JSON shape Opendatasoft publishes for the same
notices, then mapped by `boamp_legacy`, so the XML and the JSON never disagree. The XML has no
notice URL; the BOAMP page URL is built from the IDWEB as Opendatasoft's `url_avis` is.
"""

from __future__ import annotations

from scope_normalizer.formats.boamp_common import NoticeDraft, build_notice
from scope_normalizer.formats.boamp_legacy import map_legacy
from scope_normalizer.values.boamp_tree import element_to_tree, node
from scope_shared.documents.boamp import parse_dila_xml
from scope_shared.schema import Notice, RawNotice


def map_notice(raw: RawNotice, payload: bytes) -> Notice:
    root = parse_dila_xml(payload)
    tree = node(element_to_tree(root)) or {}
    draft = NoticeDraft()
    map_legacy(draft, tree.get("GESTION"), tree.get("DONNEES"))
    return build_notice(
        raw,
        draft,
        title_path="/ANNONCE/DONNEES/OBJET/TITRE_MARCHE",
        date_path="/ANNONCE/GESTION/INDEXATION/DATE_PUBLICATION",
    )
