"""The embedded search store: SQLite with FTS5 in one file, no server (docs/stores.md).

Modules by role: `analysis` (French text analysis), `syntax` (query syntax to FTS5 MATCH),
`fields` (what is derived from a notice), `schema` (tables, pragmas), `writer` and `cards`
(indexing, procedure cards), `query`, `search`, `cursor`, `highlight` (searching), `reads`
(look-ups by id), `store` (the async `EmbeddedStore` and its threads).
"""

from scope_shared.store.embedded.store import EmbeddedStore

__all__ = ["EmbeddedStore"]
