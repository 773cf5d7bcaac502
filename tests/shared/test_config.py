"""Settings come from SCOPE_* variables; a bad or unknown one stops the service, naming it."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from scope_harvester.settings import HarvesterSettings
from scope_indexer.settings import IndexerSettings
from scope_normalizer.settings import NormalizerSettings
from scope_search_api.settings import ApiSettings
from scope_shared.config import DEPLOYMENT_VARIABLES, CommonSettings, _env_name, load_settings
from scope_shared.errors import ConfigError


class HarvesterLikeSettings(CommonSettings, frozen=True, kw_only=True):
    harvester_concurrency: int = 4


def test_settings_defaults_without_variables() -> None:
    settings = load_settings(CommonSettings, {})
    assert settings.nats_url == ["nats://127.0.0.1:4222"]
    assert settings.store == "auto"


def test_settings_convert_strings_lists_and_paths() -> None:
    env = {
        "SCOPE_NATS_URL": "nats://a:4222, nats://b:4222",
        "SCOPE_NATS_CONNECT_TIMEOUT": "2.5",
        "SCOPE_DATA_DIR": "/srv/scope",
        "SCOPE_HARVESTER_CONCURRENCY": "12",
        "HOME": "/ignored",
    }
    settings = load_settings(HarvesterLikeSettings, env, service_prefix="HARVESTER_")
    assert settings.nats_url == ["nats://a:4222", "nats://b:4222"]
    assert settings.nats_connect_timeout == 2.5
    assert settings.data_dir == Path("/srv/scope")
    assert settings.harvester_concurrency == 12


def test_bad_value_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SCOPE_HARVESTER_CONCURRENCY"):
        load_settings(
            HarvesterLikeSettings,
            {"SCOPE_HARVESTER_CONCURRENCY": "many"},
            service_prefix="HARVESTER_",
        )


def test_bad_choice_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="SCOPE_STORE"):
        load_settings(CommonSettings, {"SCOPE_STORE": "postgres"})


def test_unknown_variable_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="SCOPE_NATS_ULR"):
        load_settings(CommonSettings, {"SCOPE_NATS_ULR": "nats://x"})


def test_unknown_variable_under_own_prefix_is_an_error() -> None:
    with pytest.raises(ConfigError, match="SCOPE_HARVESTER_CONCURENCY"):
        load_settings(
            HarvesterLikeSettings,
            {"SCOPE_HARVESTER_CONCURENCY": "3"},
            service_prefix="HARVESTER_",
        )


def test_another_services_variable_is_not_an_error() -> None:
    settings = load_settings(CommonSettings, {"SCOPE_INDEXER_BATCH_SIZE": "500"})
    assert msgspec.structs.asdict(settings)["store"] == "auto"


def test_the_deployment_files_own_variables_are_not_errors() -> None:
    """deploy/.env and the editor's leaf configuration name these; sourcing them before a
    `scope` command must not stop it."""
    deployment = {
        "SCOPE_IMAGE": "scope:latest",
        "SCOPE_API_BIND": "127.0.0.1:8080",
        "SCOPE_HUB_LEAF_URL": "tls://hub.example:7422",
    }
    settings = load_settings(CommonSettings, deployment | {"SCOPE_LOG_LEVEL": "DEBUG"})
    assert settings.log_level == "DEBUG"
    with pytest.raises(ConfigError, match="SCOPE_IMAGES"):
        load_settings(CommonSettings, {"SCOPE_IMAGES": "scope:latest"})


def test_every_scope_variable_the_deployment_files_set_is_read_or_known() -> None:
    """A variable a manifest sets and no code reads is a typo an operator never hears of."""
    root = Path(__file__).parents[2]
    texts = [p.read_text() for p in (root / "deploy").rglob("*") if p.is_file()]
    names = set(re.findall(r"\b(SCOPE_[A-Z0-9_]*[A-Z0-9])\b", "\n".join(texts)))
    read = {
        _env_name(field.name)
        for cls in (CommonSettings, HarvesterSettings, NormalizerSettings, IndexerSettings,
                    ApiSettings)
        for field in msgspec.structs.fields(cls)
    }  # fmt: skip
    streams = {"SCOPE_RAW", "SCOPE_NOTICES", "SCOPE_DEAD"}  # NATS stream names, not settings
    assert names - read - DEPLOYMENT_VARIABLES - streams == set()
