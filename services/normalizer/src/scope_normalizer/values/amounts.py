"""Money amounts as sources write them, to `Amount` (exact decimal, ISO currency)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from scope_shared.schema import Amount

_NOT_NUMBER = re.compile(r"[^\d,.\-]")


def parse_decimal(value: object) -> Decimal | None:
    """`12000.5`, `"12 000,50"`, `"12000.50 €"`, `1.2e6` -> Decimal; None when not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        return None
    text = _NOT_NUMBER.sub("", value.replace("\u202f", "").replace("\u00a0", ""))
    if "," in text and "." in text:
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    elif "," in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_amount(value: object, currency: object = "EUR") -> Amount | None:
    number = parse_decimal(value)
    if number is None or number < 0:
        return None
    code = currency.strip().upper() if isinstance(currency, str) and currency.strip() else "EUR"
    if len(code) != 3 or not code.isalpha():
        code = "EUR"
    return Amount(amount=number, currency=code)


def sum_amounts(amounts: list[Amount]) -> Amount | None:
    """The amounts added up, when there is at least one and all share one currency."""
    currencies = {a.currency for a in amounts}
    if len(currencies) != 1:
        return None
    return Amount(amount=sum((a.amount for a in amounts), Decimal(0)), currency=currencies.pop())
