"""Query string -> `SearchQuery`, or a 400 problem naming the parameter and what it accepts.

Rules (the parameters themselves are in `param_table.py`):
- a parameter not in the endpoint's set is rejected (typos must not silently widen a search);
- multi-valued parameters are repeatable and comma-separated (`cpv=45&cpv=72,48`), at most
  `MAX_VALUES` values;
- single-valued parameters given twice are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from multidict import MultiMapping

from scope_search_api.cursor import decode_cursor, fingerprint
from scope_search_api.param_table import (
    DEFAULT_FACET_SIZE,
    DEFAULT_PAGE_SIZE,
    MAX_VALUE,
    MAX_VALUES,
    PRINTABLE,
    Param,
)
from scope_search_api.problems import UNKNOWN_PARAMETER, ProblemError, invalid
from scope_search_api.views import InvalidParam
from scope_shared.store import SearchQuery, SortOrder


def check_known(query: MultiMapping[str], params: tuple[Param, ...]) -> None:
    known = {p.name for p in params}
    unknown = sorted({name for name in query if name not in known})
    if unknown:
        allowed = sorted(known)
        raise ProblemError(
            400,
            UNKNOWN_PARAMETER,
            f"unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            invalid_params=[
                InvalidParam(name=name, reason="unknown parameter", allowed=allowed)
                for name in unknown
            ],
        )


def _single(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, "given more than once; it takes one value")
    return values[0]


def _many(query: MultiMapping[str], name: str) -> list[str]:
    values: list[str] = []
    for raw in query.getall(name, []):
        for part in raw.split(","):
            value = part.strip()
            if value and value not in values:
                values.append(value)
    if len(values) > MAX_VALUES:
        raise invalid(name, f"at most {MAX_VALUES} values")
    return values


def parse_datetime(name: str, text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("z", "Z"))
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # To the millisecond, as OpenSearch reads a bound: both stores then agree.
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    except ValueError:
        raise invalid(name, "not an ISO 8601 date or date-time") from None
    except OverflowError:
        # 9999-12-31T23:00:00-05:00 is a valid date-time that UTC cannot hold.
        raise invalid(name, "out of range once in UTC") from None


def _decimal(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(name, "not a number") from None
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise invalid(name, f"a number from 0 to {MAX_VALUE:f}")
    return value


def _integer(param: Param, text: str) -> int:
    bounds = f"an integer from {param.minimum} to {param.maximum}"
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise invalid(param.name, bounds)
    value = int(text)
    if (param.minimum is not None and value < param.minimum) or (
        param.maximum is not None and value > param.maximum
    ):
        raise invalid(param.name, bounds)
    return value


def _boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise invalid(name, "true or false", ["true", "false"])


def _list_value(param: Param, value: str) -> str:
    if param.name == "nuts":
        value = value.upper()
    if param.pattern and not re.fullmatch(param.pattern, value):
        raise invalid(param.name, f"{value!r} does not match {param.pattern}")
    if param.name == "cpv":
        return value.split("-", 1)[0]
    return value


def _many_values(param: Param, query: MultiMapping[str]) -> list[str]:
    values = _many(query, param.name)
    if param.kind == "list":
        return [_list_value(param, v) for v in values]
    for value in values:
        if value not in param.allowed:
            raise invalid(param.name, f"unknown value {value!r}", param.allowed)
    return values


def _text(param: Param, text: str) -> str | None:
    if not re.search(PRINTABLE, text):
        raise invalid(param.name, "control characters are not allowed")
    words = " ".join(text.split())
    if param.required and not words:
        raise invalid(param.name, "required: give at least one word")
    return words or None


def _exact(param: Param, text: str) -> str | None:
    """As given: a facet value sent back must equal the stored value, line breaks included."""
    if param.pattern and not re.search(param.pattern, text):
        raise invalid(param.name, "NUL characters are not allowed")
    return text or None


_PARSERS: dict[str, Callable[[Param, str], Any]] = {
    "bool": lambda param, text: _boolean(param.name, text),
    "datetime": lambda param, text: parse_datetime(param.name, text),
    "decimal": lambda param, text: _decimal(param.name, text),
    "int": _integer,
    "text": _text,
    "exact": _exact,
}
"""The single-valued kinds that parse their text; `enum` and `cursor` keep it as given."""


def parse_value(param: Param, query: MultiMapping[str]) -> Any:
    """The parsed value of one parameter: its default (None, or [] for lists) when absent."""
    if param.kind in {"list", "enum_list"}:
        return _many_values(param, query)
    text = _single(query, param.name)
    if text is None and param.required:
        raise invalid(param.name, "required")
    text = param.default if text is None else text
    if text is None:
        return None
    if param.max_length is not None and len(text) > param.max_length:
        raise invalid(param.name, f"at most {param.max_length} characters")
    parser = _PARSERS.get(param.kind)
    if parser is not None:
        return parser(param, text)
    if param.kind == "enum" and text not in param.allowed:
        raise invalid(param.name, f"unknown value {text!r}", param.allowed)
    return text


def parse_all(query: MultiMapping[str], params: tuple[Param, ...]) -> dict[str, Any]:
    """Every parameter of the set, parsed; unknown parameters rejected first."""
    check_known(query, params)
    return {param.name: parse_value(param, query) for param in params}


def _check_order(values: Mapping[str, Any], low: str, high: str) -> None:
    if values[low] is not None and values[high] is not None and values[low] > values[high]:
        raise invalid(high, f"must not be before (or below) {low}")


def _minute(now: datetime) -> datetime:
    """`open=true` compares deadlines with the request's minute: the first page's cursor
    carries that instant, and to the microsecond it would change the body, so the ETag, of
    every poll."""
    return now.replace(second=0, microsecond=0)


def search_query(
    values: Mapping[str, Any],
    now: datetime,
    *,
    page_size: int | None = None,
    default_sort: SortOrder | None = None,
) -> SearchQuery:
    """Build the store query from parsed values (any endpoint's set of parameters).

    Args:
        values: From `parse_all`.
        now: The request's time: the reference of `open=true` unless the cursor carries one.
        page_size: Overrides the `page_size` parameter (the CSV export's store pages).
        default_sort: Without `sort`: this order (feeds and exports, newest first), else
            relevance with `q` and newest without.
    """
    _check_order(values, "published_after", "published_before")
    _check_order(values, "deadline_after", "deadline_before")
    _check_order(values, "value_min", "value_max")
    cursor_text = values.get("cursor")
    cursor = decode_cursor(cursor_text) if cursor_text else None
    sort: SortOrder = values["sort"] or default_sort or ("relevance" if values["q"] else "newest")
    query = SearchQuery(
        q=values["q"], cpv=values["cpv"], department=values["department"],
        region=values["region"], nuts=values["nuts"], buyer=values["buyer"],
        buyer_name=values["buyer_name"],
        source=values["source"], notice_type=values["notice_type"],
        procedure_type=values["procedure_type"], contract_nature=values["contract_nature"],
        status=values["status"], open_only=bool(values["open"]),
        now=(cursor.now if cursor and cursor.now else _minute(now)) if values["open"] else None,
        published_after=values["published_after"], published_before=values["published_before"],
        deadline_after=values["deadline_after"], deadline_before=values["deadline_before"],
        value_min=values["value_min"], value_max=values["value_max"], sort=sort,
        facets=values.get("facets") or [],
        facet_size=values.get("facet_size") or DEFAULT_FACET_SIZE,
        group_by_procedure=values.get("group") == "procedure",
        highlight=bool(values.get("highlight")),
        page_size=page_size or values.get("page_size") or DEFAULT_PAGE_SIZE,
    )  # fmt: skip
    if cursor is None:
        return query
    if cursor.fingerprint != fingerprint(query):
        raise invalid("cursor", "belongs to another query; start again without cursor")
    return msgspec.structs.replace(query, cursor=cursor.store)
