"""The mapper contract: one function per raw format, from payload bytes to a canonical Notice.

A mapper is pure: no I/O, no clock, no state. It reads every field of its format that the
schema has a place for, cleans values with `scope_normalizer.values`, and returns a Notice at
version 1 whose `procedure_id` is the strongest procedure key the payload itself carries
(see `procedure_key`), or the notice's own id. The normalizer then links procedures across
notices and sets the version. A payload it cannot map raises `PermanentError` naming the field
path; missing optional data is not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypedDict

from scope_shared.errors import PermanentError
from scope_shared.schema import Notice, ProcedureMatch, RawNotice, RelatedNotice, RelationKind

Mapper = Callable[[RawNotice, bytes], Notice]


class IdentityFields(TypedDict):
    id: str
    procedure_id: str
    procedure_match: ProcedureMatch
    source: str
    source_id: str
    version: int
    updated_at: Any
    raw_sha256: str


def notice_id(source: str, source_id: str) -> str:
    return f"{source}:{source_id}"


def identity(raw: RawNotice) -> IdentityFields:
    """The fields every mapper copies from the envelope: `Notice(**identity(raw), ...)`."""
    own = notice_id(raw.source, raw.source_id)
    return IdentityFields(
        id=own,
        procedure_id=own,
        procedure_match=ProcedureMatch.OWN,
        source=raw.source,
        source_id=raw.source_id,
        version=1,
        updated_at=raw.fetched_at,
        raw_sha256=raw.sha256,
    )


def cited_links(
    raw: RawNotice, numbers: Iterable[str | None], relation: RelationKind
) -> dict[str, Any]:
    """The Notice fields of a notice that cites earlier notices of its source by number.

    `related` names each cited number once (the notice itself and empty numbers left out), and
    the procedure is that of the first one cited; no fields when nothing is cited.
    """
    cited = dict.fromkeys(n for n in numbers if n and n != raw.source_id)
    if not cited:
        return {}
    related = [RelatedNotice(relation=relation, notice_id=notice_id(raw.source, n)) for n in cited]
    return {
        "procedure_id": related[0].notice_id,
        "procedure_match": ProcedureMatch.NOTICE_LINK,
        "related": related,
    }


def procedure_key(match: ProcedureMatch, value: str) -> str:
    """A procedure id from a strong key: `contract_folder:<uuid>`, `ocid:<ocid>`,
    `buyer_contract_id:<siret>:<id>`. Lower-cased so that publishers' case differences
    (`OCDS-87SD3T-...`) do not split a procedure."""
    return f"{match.value}:{value.strip().lower()}"


def require(value: object, field_path: str, what: str) -> Any:
    """`value`, or a PermanentError naming `field_path` when it is missing or empty."""
    if value is None or value in ("", [], {}):
        raise PermanentError(f"{what} is missing", field_path=field_path)
    return value
