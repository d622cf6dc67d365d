"""Exact JSON numbers from decimal strings, and back.

Statements hold amounts as decimal strings (``"1250.5"``); EPCIS and UNTP want JSON numbers
for quantities. ``Number`` marks a decimal string to be written as a number, and ``dumps``
writes it digit for digit, so no value passes through a binary float on the way out.
``amount_text`` reads a number parsed with ``parse`` (ints and ``Decimal``) back into the
ledger's decimal-string form, refusing what that form cannot hold exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.errors import InvalidField, Malformed
from ledger.model.fields import AMOUNT


@dataclass(frozen=True)
class Number:
    """A decimal string (``-?digits[.digits]``) to be written as a JSON number."""

    text: str

    def __post_init__(self) -> None:
        try:
            value = Decimal(self.text)
        except InvalidOperation as e:
            raise InvalidField(f"{self.text!r} is not a decimal number") from e
        if not value.is_finite() or "e" in self.text.lower() or self.text.strip() != self.text:
            raise InvalidField(f"{self.text!r} is not a plain decimal number")

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.text)


def dumps(value: Any, indent: int | None = 2) -> str:
    """JSON text of ``value`` (dicts, lists, str, int, bool, None, ``Number`` and finite
    ``Decimal``), keys in the order given; numbers are written as their decimal text."""
    parts: list[str] = []
    _write(value, parts, indent, 0)
    return "".join(parts)


def _write(value: Any, out: list[str], indent: int | None, depth: int) -> None:
    pad = "" if indent is None else "\n" + " " * (indent * (depth + 1))
    end = "" if indent is None else "\n" + " " * (indent * depth)
    colon = ":" if indent is None else ": "
    if isinstance(value, Number):
        out.append(value.text)
    elif isinstance(value, Decimal) and value.is_finite():  # as ``parse`` read it
        out.append(format(value, "f"))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            out.append(("," if i else "") + pad + json.dumps(str(k), ensure_ascii=False) + colon)
            _write(v, out, indent, depth + 1)
        out.append(end + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, v in enumerate(value):
            out.append(("," if i else "") + pad)
            _write(v, out, indent, depth + 1)
        out.append(end + "]")
    elif isinstance(value, float):
        raise TypeError("floats are never written: use Number with the decimal string")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def plain(value: Any) -> Any:
    """``value`` with every ``Number`` as a ``Decimal`` (for comparisons in memory)."""
    if isinstance(value, Number):
        return Decimal(value.text)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def parse(data: bytes | str) -> Any:
    """Parse JSON keeping every number exact: integers as ``int``, the rest as ``Decimal``.
    Raises ``Malformed`` for text that is not JSON or holds NaN/Infinity."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        return json.loads(data, parse_float=Decimal, parse_constant=no_constant)
    except (ValueError, RecursionError) as e:
        raise Malformed(f"not JSON: {e}") from e


def amount_text(value: Any, field: str) -> str:
    """A JSON number (``int`` or ``Decimal`` from ``parse``) as the ledger's decimal string.

    Raises ``InvalidField`` for anything that is not a non-negative number with at most 15
    integer digits and 6 decimals (the ledger's amounts), instead of rounding it.
    """
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise InvalidField(f"{value!r} is not a number", field=field)
    d = Decimal(value)
    if not d.is_finite():
        raise InvalidField(f"{value} is not a finite number", field=field)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if not AMOUNT.fullmatch(text):
        raise InvalidField(
            f"{value} cannot be recorded exactly: amounts are non-negative, with at most 15 "
            "digits before the point and 6 after",
            field=field,
        )
    return text
