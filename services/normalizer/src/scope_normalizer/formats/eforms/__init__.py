"""eForms UBL 2.3 notices (TED since November 2022, BOAMP's EU notices): see `notice.py`."""

from scope_normalizer.formats.eforms.notice import map_notice

__all__ = ["map_notice"]
