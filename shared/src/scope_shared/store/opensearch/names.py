"""Index, alias and template names under one prefix.

Every kind of index is a physical index `<prefix>-<kind>-v<N>` behind the alias
`<prefix>-<kind>`: readers and writers only ever name the alias, so `reindex` can build
`v<N+1>` and swap the alias in one atomic step.
"""

from __future__ import annotations

import re
from typing import Final, Literal

IndexKind = Literal["notices", "history", "procedures"]
KINDS: Final[tuple[IndexKind, ...]] = ("notices", "history", "procedures")


class IndexNames:
    """Names for one prefix (`scope` in production, a random one per test)."""

    def __init__(self, prefix: str) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", prefix):
            raise ValueError(f"index prefix must be lowercase letters, digits, - or _: {prefix!r}")
        self.prefix = prefix

    def alias(self, kind: IndexKind) -> str:
        return f"{self.prefix}-{kind}"

    def physical(self, kind: IndexKind, version: int) -> str:
        return f"{self.prefix}-{kind}-v{version}"

    def pattern(self, kind: IndexKind) -> str:
        return f"{self.prefix}-{kind}-v*"

    def template(self, kind: IndexKind) -> str:
        return f"{self.prefix}-{kind}"

    def version_of(self, kind: IndexKind, index: str) -> int | None:
        """The N of `<prefix>-<kind>-v<N>`, or None for a name that is not ours."""
        match = re.fullmatch(re.escape(f"{self.prefix}-{kind}-v") + r"([0-9]+)", index)
        return int(match.group(1)) if match else None
