"""TED R2.0.9 XML (`TED_EXPORT`, notices before eForms) -> Notice.

Source: TED's XML notices published until eForms became compulsory (daily OJ S packages,
`https://ted.europa.eu/en/notice/<publication-number>/xml` for old notices); after January 2024
only a few EU-institution awards and corrigenda still use it.
Format: R2.0.9 (S01-S05): CODED_DATA_SECTION (REF_OJS, NOTICE_DATA, CODIF_DATA) holds TED's
coding of the notice; FORM_SECTION holds the form (`F01_2014` ... `F25_2014`) once per language,
the buyer's own version marked `CATEGORY="ORIGINAL"`. Forms share their sections:
CONTRACTING_BODY (I), OBJECT_CONTRACT with OBJECT_DESCR lots (II), LEFTI (III), PROCEDURE (IV),
AWARD_CONTRACT (V), COMPLEMENTARY_INFO (VI), and CHANGES for the F14 corrigendum.
Caveats:
    - Only the ORIGINAL form is read: translations repeat it, and the buyer's text is the one
      that binds. TED's English labels of CODIF_DATA (`Open procedure`) serve as labels.
    - The notice's id is its publication number without padding (`91489-2019` for DOC_ID
      `091489-2019`), the TED API's form, so notices from both sources share an id.
    - A notice citing another (REF_NOTICE, `2019/S 040-091489`) joins that notice's procedure:
      `procedure_id` is the cited notice's id, the one the cited notice has as its own.
    - Deadlines are in the buyer's local time (see `clock`); other dates are days.
    - The F14 CHANGES (old and new value per section) and unsuccessful lots have no place in
      the schema; the new deadline of an F14 is its CODIF_DATA deadline.
"""

from __future__ import annotations

from scope_normalizer.formats.ted_xml.notice import map_notice

__all__ = ["map_notice"]
