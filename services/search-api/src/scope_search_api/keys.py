"""Typed application keys: what the app factory puts in the application, for handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from scope_search_api.gateway import StoreGateway
from scope_search_api.metrics import ApiMetrics
from scope_search_api.nats_link import NatsLink
from scope_search_api.settings import ApiSettings

SETTINGS = web.AppKey("settings", ApiSettings)
STORE = web.AppKey("store", StoreGateway)
NATS = web.AppKey("nats", NatsLink)
METRICS = web.AppKey("metrics", ApiMetrics)
OPENAPI = web.AppKey("openapi", bytes)
"""The OpenAPI document, encoded once at start."""
CLOCK = web.AppKey[Callable[[], datetime]]("clock")
"""Now, as an aware UTC datetime: the reference of `open=true` and of source lags."""
