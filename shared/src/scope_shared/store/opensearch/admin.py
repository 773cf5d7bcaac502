"""Templates, first indices and aliases (`setup`), and their removal (`drop`)."""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
from opensearchpy.exceptions import NotFoundError, RequestError

from scope_shared.errors import ConfigError
from scope_shared.store.opensearch.names import KINDS, IndexKind, IndexNames
from scope_shared.store.opensearch.template import index_template


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    """How indices are created (see template.index_template for the reasons)."""

    replicas: int = 0
    shards: int = 1


async def put_templates(
    client: Any, names: IndexNames, layout: Layout, request_timeout: float
) -> None:
    for kind in KINDS:
        body = index_template(
            names.pattern(kind), kind, replicas=layout.replicas, shards=layout.shards
        )
        await client.indices.put_index_template(
            name=names.template(kind), body=body, request_timeout=request_timeout
        )


async def current_index(
    client: Any, names: IndexNames, kind: IndexKind, request_timeout: float
) -> str:
    """The physical index behind a kind's alias; ConfigError when setup never ran."""
    try:
        found = await client.indices.get_alias(
            name=names.alias(kind), request_timeout=request_timeout
        )
    except NotFoundError:
        raise ConfigError(f"no index behind alias {names.alias(kind)}: run setup") from None
    (index,) = found.keys()
    return str(index)


async def _create_first(
    client: Any, names: IndexNames, kind: IndexKind, request_timeout: float
) -> None:
    index, alias = names.physical(kind, 1), names.alias(kind)
    try:
        await client.indices.create(
            index=index, body={"aliases": {alias: {}}}, request_timeout=request_timeout
        )
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        # Another process created it first (or a crash came between create and alias).
        await client.indices.put_alias(index=index, name=alias, request_timeout=request_timeout)


async def _update_mapping(
    client: Any, names: IndexNames, kind: IndexKind, request_timeout: float
) -> None:
    """Add fields a newer schema brought to the live index; a changed field needs reindex."""
    template = index_template(names.pattern(kind), kind, replicas=0, shards=1)
    mappings = template["template"]["mappings"]
    try:
        await client.indices.put_mapping(
            index=names.alias(kind), body=mappings, request_timeout=request_timeout
        )
    except RequestError as exc:
        raise ConfigError(
            f"the {kind} mapping changed incompatibly ({exc.error}): run `scope reindex`"
        ) from exc


async def setup(client: Any, names: IndexNames, layout: Layout, request_timeout: float) -> None:
    """Templates, then `<alias> -> <prefix>-<kind>-v1` for every kind without an alias yet;
    an existing index gets the new fields of its mapping and the layout's replica count."""
    await put_templates(client, names, layout, request_timeout)
    for kind in KINDS:
        if await client.indices.exists_alias(
            name=names.alias(kind), request_timeout=request_timeout
        ):
            await _update_mapping(client, names, kind, request_timeout)
            # Dynamic: a deployment that grows to a cluster gets its replicas on next start.
            await client.indices.put_settings(
                index=names.alias(kind),
                body={"index": {"number_of_replicas": layout.replicas}},
                request_timeout=request_timeout,
            )
        else:
            await _create_first(client, names, kind, request_timeout)


async def drop(client: Any, names: IndexNames, request_timeout: float) -> None:
    """Delete every index and template of the prefix (tests; a full rebuild)."""
    patterns = ",".join(names.pattern(kind) for kind in KINDS)
    found = await client.indices.get(
        index=patterns, params={"expand_wildcards": "all", "allow_no_indices": "true"},
        request_timeout=request_timeout,
    )  # fmt: skip
    # Named one by one: clusters may forbid wildcard deletes (action.destructive_requires_name).
    if found:
        await client.indices.delete(index=",".join(sorted(found)), request_timeout=request_timeout)
    for kind in KINDS:
        with contextlib.suppress(NotFoundError):
            await client.indices.delete_index_template(
                name=names.template(kind), request_timeout=request_timeout
            )
