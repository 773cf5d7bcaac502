"""The mapper registry: one line per raw format."""

from __future__ import annotations

from scope_normalizer.formats.base import Mapper
from scope_shared.schema import RawFormat

FORMATS: dict[RawFormat, Mapper] = {}
