"""The one frozen base Struct every schema type derives from, and the shared field types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

UtcDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timezone-aware instant; mappers convert every source date to UTC before building a Struct."""

Sha256Hex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
CpvCode = Annotated[str, msgspec.Meta(pattern="^[0-9]{8}$")]
"""A CPV 2008 code as its 8 digits, without the check digit (`45233140`, not `45233140-2`)."""

SourceName = Annotated[str, msgspec.Meta(pattern="^[a-z][a-z0-9_]{1,62}$")]
"""A registry name, lowercase, country first (`france_boamp`); also a NATS subject token."""

CountryCode = Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 (`FR`); mappers convert eForms alpha-3 and TED's `UK`."""


class Model(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every schema Struct: immutable, keyword-only.

    Unknown fields are ignored on decode so that a reader keeps working when a writer is one
    schema version ahead (see docs/schema/EVOLUTION.md); `scope check-harvester` flags them.
    """
