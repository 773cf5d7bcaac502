"""Typed settings from `SCOPE_*` environment variables, validated at start.

Each service declares one `Settings` Struct (deriving from `CommonSettings`) and calls
`load_settings`. A field `nats_url` is read from `SCOPE_NATS_URL`. Values are converted with
msgspec (lax: `"10"` is an int, `"true"` a bool; a list field takes comma-separated values),
and any error names the variable. An unknown `SCOPE_*` variable is an error too, unless it
belongs to another service's prefix, so one `.env` can serve every service of a deployment.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import msgspec

from scope_shared.errors import ConfigError

ENV_PREFIX = "SCOPE_"
SERVICE_PREFIXES = ("HARVESTER_", "NORMALIZER_", "INDEXER_", "API_", "DEMO_", "TEST_")
"""Variables under these belong to one service's Settings; the others do not reject them."""
DEPLOYMENT_VARIABLES = frozenset({"SCOPE_IMAGE", "SCOPE_API_BIND", "SCOPE_HUB_LEAF_URL"})
"""Read by the compose file (deploy/.env) and an editor's leaf-node configuration, not by
Scope: an operator who sources those files before a `scope` command is not refused."""

StoreKind = Literal["auto", "embedded", "opensearch"]


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scope"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scope"


class CommonSettings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Settings every service reads.

    Attributes:
        nats_url: Comma-separated NATS server URLs.
        nats_creds: A `.creds` file (JWT + nkey) for decentralised auth; empty for none.
        nats_user / nats_password: Plain user auth, for simple deployments.
        nats_tls_ca: CA bundle to verify the servers' TLS certificates; empty for plain TCP.
        nats_connect_timeout: Seconds to wait for the first connection.
        raw_max_age_days: How long the raw archive keeps notices (0 keeps them forever).
        log_level / log_format: See `scope_shared.logging.configure_logging`.
        data_dir: Where embedded state lives (the embedded store, a local nats-server).
        cache_dir: Downloads (OpenSearch distribution, module jars).
        store: `auto` uses OpenSearch when `opensearch_url` is set, else the embedded store.
        opensearch_url: `https://user:password@host:9200` (several comma-separated).
        opensearch_ca: CA bundle to verify OpenSearch's HTTPS certificate.
        opensearch_verify_certs: False only for a trial with self-signed demo certificates.
        opensearch_replicas: Replicas of every Scope index: 0 on one node, 1 or more on a
            cluster (applied to existing indices at the next start).
        stream_replicas: Replicas of every stream and bucket (3 on a 3-server NATS cluster).
    """

    nats_url: list[str] = msgspec.field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    nats_creds: str = ""
    nats_user: str = ""
    nats_password: str = ""
    nats_tls_ca: str = ""
    nats_connect_timeout: float = 5.0
    raw_max_age_days: int = 0
    notices_max_age_days: int = 0
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    data_dir: Path = msgspec.field(default_factory=default_data_dir)
    cache_dir: Path = msgspec.field(default_factory=default_cache_dir)
    store: StoreKind = "auto"
    opensearch_url: str = ""
    opensearch_ca: str = ""
    opensearch_verify_certs: bool = True
    opensearch_replicas: Annotated[int, msgspec.Meta(ge=0, le=10)] = 0
    stream_replicas: int = 1


S = TypeVar("S", bound=CommonSettings)


def _env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _is_list(tp: object) -> bool:
    return typing.get_origin(tp) is list


def _raw_values(cls: type[S], env: Mapping[str, str]) -> dict[str, object]:
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(cls):
        name = _env_name(field.name)
        if name not in env:
            continue
        text = env[name]
        if _is_list(hints[field.name]):
            values[field.name] = [part.strip() for part in text.split(",") if part.strip()]
        else:
            values[field.name] = text
    return values


def _unknown_variables(cls: type[S], env: Mapping[str, str], own_prefix: str) -> list[str]:
    known = {_env_name(f.name) for f in msgspec.structs.fields(cls)}
    known |= {_env_name(f.name) for f in msgspec.structs.fields(CommonSettings)}
    unknown = []
    for name in env:
        if not name.startswith(ENV_PREFIX) or name in known or name in DEPLOYMENT_VARIABLES:
            continue
        rest = name[len(ENV_PREFIX) :]
        foreign = any(rest.startswith(p) for p in SERVICE_PREFIXES if p != own_prefix)
        if not foreign:
            unknown.append(name)
    return sorted(unknown)


def load_settings(
    cls: type[S], env: Mapping[str, str] | None = None, *, service_prefix: str = ""
) -> S:
    """Read `cls` from the environment, or raise `ConfigError` naming the bad variable.

    Args:
        cls: The service's Settings Struct.
        env: The variables to read; `os.environ` by default.
        service_prefix: The service's own prefix among `SERVICE_PREFIXES` (`HARVESTER_`):
            its fields are named with it (`harvester_concurrency`), and an unknown variable
            under it is an error.
    """
    env = os.environ if env is None else env
    unknown = _unknown_variables(cls, env, service_prefix)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]} (all unknown: {', '.join(unknown)})")
    values = _raw_values(cls, env)
    try:
        return msgspec.convert(values, cls, strict=False, dec_hook=_decode_extra)
    except msgspec.ValidationError as exc:
        raise ConfigError(_name_variable(str(exc))) from exc


def _decode_extra(tp: type, value: object) -> object:
    if tp is Path and isinstance(value, str):
        return Path(value)
    raise TypeError(f"no conversion to {tp}")


def _name_variable(message: str) -> str:
    """Turn msgspec's `... - at `$.nats_url`` into a message naming `SCOPE_NATS_URL`."""
    marker = "at `$."
    if marker not in message:
        return f"invalid settings: {message}"
    field = message.split(marker, 1)[1].split("`", 1)[0].split("[", 1)[0]
    return f"invalid value for {_env_name(field)}: {message}"
