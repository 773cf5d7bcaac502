"""Logs: JSON lines with the fixed context keys when not on a terminal."""

from __future__ import annotations

import logging

import msgspec
import pytest

from scope_shared.logging import configure_logging, get_logger


def test_json_log_line_carries_event_service_and_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("normalizer", fmt="json")
    get_logger(source="france_boamp", stage="normalize").info("notice_mapped", notice_id="x:1")
    logging.getLogger("nats").warning("foreign library line")
    lines = [msgspec.json.decode(line) for line in capsys.readouterr().err.splitlines()]
    ours, foreign = lines
    assert ours["event"] == "notice_mapped"
    assert ours["service"] == "normalizer"
    assert ours["source"] == "france_boamp"
    assert ours["stage"] == "normalize"
    assert ours["notice_id"] == "x:1"
    assert ours["level"] == "info"
    assert ours["timestamp"].endswith("Z")
    assert foreign["event"] == "foreign library line"
    assert foreign["service"] == "normalizer"


def test_level_filter_drops_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("indexer", level="WARNING", fmt="json")
    get_logger().info("page_fetched")
    get_logger().warning("page_failed")
    events = [msgspec.json.decode(x)["event"] for x in capsys.readouterr().err.splitlines()]
    assert events == ["page_failed"]


def test_module_level_logger_follows_later_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    early = get_logger(component="created_before_configure")
    configure_logging("harvester", fmt="json")
    early.info("page_fetched")
    line = msgspec.json.decode(capsys.readouterr().err.splitlines()[-1])
    assert line["event"] == "page_fetched"
    assert line["component"] == "created_before_configure"
    assert line["service"] == "harvester"


def test_every_service_keeps_opensearch_py_request_lines_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """opensearch-py logs each request at INFO with its URL as the event: at the indexer's bulk
    volume, a flood breaking the one-event-name rule. Its warnings still come through."""
    configure_logging("indexer", "INFO", "json")
    opensearch = logging.getLogger("opensearch")
    opensearch.info("POST https://opensearch:9200/_bulk [status:200 request:0.012s]")
    opensearch.warning("GET https://opensearch:9200/ [status:N/A request:10.0s]")
    lines = [msgspec.json.decode(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["level"] for line in lines] == ["warning"]
