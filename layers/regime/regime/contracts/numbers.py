"""Exact numbers across JSON and DynamoDB: Decimal in, the JSON number it prints as out, and back."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def json_number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an int when whole (so 70 prints as 70), else the float it prints as."""
    return int(value) if value == value.to_integral_value() else float(value)


def exact_decimals(record: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready record with every float as the exact Decimal of its JSON text (DynamoDB refuses floats,
    and Decimal(0.1) would carry the binary float's error: 0.1000000000000000055...)."""
    exact: dict[str, Any] = json.loads(json.dumps(record), parse_float=Decimal)
    return exact
