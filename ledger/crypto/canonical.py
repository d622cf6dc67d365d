"""Canonical bytes (RFC 8785, JCS) and strict JSON parsing (SPEC §2).

``jcs`` is the one place that turns a value into the bytes that are hashed and signed.
Its fast path is the standard library's encoder, which produces JCS exactly for the
values the ledger admits (strings, integers within ±(2^53 − 1), booleans, null, arrays and
objects) except for one case: object keys outside the Basic Multilingual Plane, which
JCS orders by UTF-16 code units; such values are re-encoded with that order. A property
test holds the result equal to the ``rfc8785`` library's.
"""

from __future__ import annotations

import json
from typing import Any

from ledger.errors import Malformed, TooLarge

MAX_SAFE_INTEGER = 2**53 - 1  # SPEC §2 (I-JSON): integers stay within ±(2^53 − 1)
MAX_DEPTH = 32

_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, check_circular=False
)


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical bytes of ``value``.

    Precondition: ``value`` holds no floats and only integers within ±(2^53 − 1) (``parse``
    guarantees this for anything read from outside). Raises ``Malformed`` for a string
    that is not valid Unicode (a lone surrogate).
    """
    text = _encoder.encode(value)
    if not text.isascii() and max(text) > "\uffff":
        text = _utf16_ordered(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise Malformed("string holds a lone surrogate, which is not valid Unicode") from e


def _utf16_ordered(value: Any) -> str:
    """JCS text with object keys ordered by UTF-16 code units (RFC 8785 §3.2.3), which differs
    from code point order only when keys hold characters outside the BMP."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(_encoder.encode(k) + ":" + _utf16_ordered(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_utf16_ordered(v) for v in value) + "]"
    return _encoder.encode(value)


class FloatToken(str):
    """A JSON number with a fraction or exponent, kept as its text so that the walk (or a
    field validator) can refuse it naming where it stands."""

    def refusal(self, path: str) -> Malformed:
        return Malformed(
            f'number {self} is not an integer: amounts are decimal strings such as "12.5" (SPEC §2)',
            field=path or None,
        )


class DuplicateKeys(dict[str, Any]):
    """An object that named a key twice: refused by the walk, naming the key's path."""

    duplicate: str = ""


def _refuse_constant(text: str) -> Any:
    raise Malformed(f"{text} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                dup = DuplicateKeys(pairs)
                dup.duplicate = key
                return dup
            seen.add(key)
    return obj


_decoder = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=FloatToken, parse_constant=_refuse_constant)


def parse(data: bytes | str, *, limit: int | None = None, walk: bool = True) -> Any:
    """Parse JSON strictly: no duplicate keys, no floats, NaN or Infinity, integers within
    ±2^53, no lone surrogates, nesting at most ``MAX_DEPTH``.

    ``walk=False`` skips the walk over the parsed value that enforces the last three, for
    callers that validate every field against a schema afterwards and canonicalize the
    result (statements and entries): unknown fields are refused there, known integers are
    range-checked, nesting is bounded by the schema, and ``jcs`` refuses lone surrogates.
    Raises ``TooLarge`` when ``data`` is over ``limit`` bytes, ``Malformed`` otherwise.
    """
    if limit is not None and len(data) > limit:
        raise TooLarge(f"{len(data)} bytes is over the limit of {limit}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Malformed(f"not UTF-8: {e.reason} at byte {e.start}") from e
    try:
        value = _decoder.decode(data)
    except json.JSONDecodeError as e:
        raise Malformed(f"not JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    except RecursionError as e:
        raise Malformed(f"nested deeper than {MAX_DEPTH}") from e
    except ValueError as e:  # e.g. an integer of more than 4,300 digits
        raise Malformed(f"not acceptable JSON: {e}") from e
    if walk:
        check_value(value)
    return value


def check_value(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse what JCS cannot carry faithfully: big integers, lone surrogates, deep nesting."""
    if depth > MAX_DEPTH:
        raise Malformed(f"nested deeper than {MAX_DEPTH}", field=path or None)
    if isinstance(value, FloatToken):
        raise value.refusal(path)
    if isinstance(value, DuplicateKeys):
        key = f"{path}.{value.duplicate}" if path else value.duplicate
        raise Malformed(f"duplicate key {value.duplicate!r}", field=key)
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise Malformed(f"integer {value} is outside ±(2^53 − 1) (I-JSON)", field=path or None)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, path)
            check_value(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_value(item, f"{path}[{i}]", depth + 1)
    else:
        raise Malformed(f"{type(value).__name__} is not a JSON value", field=path or None)


def _check_text(text: str, path: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise Malformed("string holds a lone surrogate", field=path or None) from e
