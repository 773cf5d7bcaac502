"""The mapper registry: one line per raw format."""

from __future__ import annotations

from scope_normalizer.formats import decp
from scope_normalizer.formats.base import Mapper
from scope_normalizer.formats.boamp_json import map_notice as map_boamp_json
from scope_normalizer.formats.boamp_xml import map_notice as map_boamp_xml
from scope_normalizer.formats.eforms import map_notice as map_eforms_xml
from scope_normalizer.formats.ocds_release import map_notice as map_ocds_release
from scope_normalizer.formats.rss_item import map_notice as map_rss_item
from scope_normalizer.formats.ted_api_json import map_notice as map_ted_api_json
from scope_normalizer.formats.ted_xml import map_notice as map_ted_xml
from scope_shared.schema import RawFormat

FORMATS: dict[RawFormat, Mapper] = {
    RawFormat.BOAMP_JSON: map_boamp_json,
    RawFormat.BOAMP_XML: map_boamp_xml,
    RawFormat.EFORMS_XML: map_eforms_xml,
    RawFormat.OCDS_RELEASE: map_ocds_release,
    RawFormat.RSS_ITEM: map_rss_item,
    RawFormat.TED_XML: map_ted_xml,
    RawFormat.TED_API_JSON: map_ted_api_json,
    RawFormat.DECP_2019_JSON: decp.map_decp_2019_json,
    RawFormat.DECP_2019_XML: decp.map_decp_2019_xml,
    RawFormat.DECP_2024_JSON: decp.map_decp_2024_json,
    RawFormat.DECP_2024_XML: decp.map_decp_2024_xml,
}
