"""Query and path parameters, checked up front: a bad one is a 400 naming it in ``field``."""

from __future__ import annotations

import datetime as dt

from flask import request

from ledger.errors import InvalidField, MissingField

MAX_INT = 2**53


def parse_int(text: str, name: str, lo: int = 0, hi: int = MAX_INT) -> int:
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        raise InvalidField(f"{text[:40]!r} is not an integer", field=name)
    value = int(text)
    if not lo <= value <= hi:
        raise InvalidField(f"{value} is outside {lo}..{hi}", field=name)
    return value


def int_arg(
    name: str, default: int | None = None, *, lo: int = 0, hi: int = MAX_INT, required: bool = False
) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        if required:
            raise MissingField("is required", field=name)
        return default
    return parse_int(text, name, lo, hi)


def str_arg(name: str, max_len: int = 200) -> str | None:
    text = request.args.get(name)
    if text is None or text == "":
        return None
    if len(text) > max_len:
        raise InvalidField(f"is over {max_len} characters", field=name)
    return text


def date_arg(name: str) -> str | None:
    text = str_arg(name, 10)
    if text is None:
        return None
    try:
        dt.date.fromisoformat(text)
    except ValueError as e:
        raise InvalidField(f"{text!r} is not a date (YYYY-MM-DD)", field=name) from e
    if len(text) != 10:
        raise InvalidField(f"{text!r} is not a date (YYYY-MM-DD)", field=name)
    return text
