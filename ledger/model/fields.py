"""Validators for the values statements carry (SPEC §1, §2, §6).

Each validator takes the value and its path (``body.inputs[0].amount``) and returns the
value or raises ``InvalidField``/``MissingField``/``UnknownField`` naming that path.
Nothing is normalised: statements are stored and signed exactly as the issuer wrote them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ledger.crypto.canonical import DuplicateKeys, FloatToken
from ledger.errors import InvalidField, Malformed, MissingField, UnknownField
from ledger.model.text import refusal

Validator = Callable[[Any, str], Any]

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
STATEMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")
LOT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,127}")
UNIT = re.compile(r"[A-Za-z][A-Za-z0-9_./-]{0,15}")
AMOUNT = re.compile(r"(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?")
COORD = re.compile(r"-?(0|[1-9][0-9]{0,2})(\.[0-9]{1,8})?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIMESTAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?Z")
GTIN14 = re.compile(r"[0-9]{14}")
GLN = re.compile(r"[0-9]{13}")
OS_ID = re.compile(r"[A-Z]{2}[0-9]{7}[0-9A-Z]{6,7}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# GS1 AI encodable character set 82, as GS1 General Specifications §7.11 allows in AI (10).
BATCH = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")

ROLES = ("operator", "farm", "mine", "processor", "manufacturer", "trader", "brand", "auditor")
ILO_INDICATORS = (
    "abuse_of_vulnerability",
    "deception",
    "restriction_of_movement",
    "isolation",
    "physical_and_sexual_violence",
    "intimidation_and_threats",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "debt_bondage",
    "abusive_working_and_living_conditions",
    "excessive_overtime",
)
INDICATOR_VALUES = ("absent", "present", "not-assessed")
OUTCOMES = ("pass", "conditional", "fail")

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK
    DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR
    GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM
    KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP
    MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL
    PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST
    SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG
    VI VN VU WF WS YE YT ZA ZM ZW""".split()  # noqa: SIM905 - a table, easier read this way
)

MAX_TEXT = 1000
MAX_NAME = 200
MAX_ITEMS = 100


def described(check: Validator, schema: dict[str, Any]) -> Validator:
    """Attach the JSON Schema (2020-12) that describes what ``check`` accepts, as exactly as
    JSON Schema can say it; the OpenAPI document is built from these (web/openapi.py).
    Where a rule cannot be said in JSON Schema (a check digit, a calendar date, a key on
    the curve), the schema's ``description`` says it in words."""
    check.schema = schema  # type: ignore[attr-defined]  # a function's own attribute, read by schema_of
    return check


def schema_of(check: Validator) -> dict[str, Any]:
    return check.schema  # type: ignore[attr-defined, no-any-return]  # set by described()


def _anchored(regex: str) -> str:
    return f"^(?:{regex})$"


def _refuse_tokens(value: Any, path: str) -> None:
    """Values the parser kept only to be refused here, naming their path."""
    if isinstance(value, FloatToken):
        raise value.refusal(path)
    if isinstance(value, DuplicateKeys):
        raise Malformed(
            f"duplicate key {value.duplicate!r}",
            field=f"{path}.{value.duplicate}" if path else value.duplicate,
        )


def text(max_len: int = MAX_TEXT, min_len: int = 1) -> Validator:
    """A string of ``min_len``-``max_len`` characters, in NFC, without control, format or
    bidirectional characters (``ledger.model.text``; SPEC §7). Longer texts than a name
    (findings, descriptions, reasons) may hold line feeds and tabs."""
    multiline = max_len > MAX_NAME

    def check(value: Any, path: str) -> str:
        _refuse_tokens(value, path)
        if not isinstance(value, str):
            raise InvalidField(f"must be a string, got {_kind(value)}", field=path)
        if not min_len <= len(value) <= max_len:
            raise InvalidField(f"must be {min_len}-{max_len} characters, got {len(value)}", field=path)
        why = refusal(value, multiline=multiline)
        if why is not None:
            raise InvalidField(why, field=path)
        return value

    return described(
        check,
        {
            "type": "string",
            "minLength": min_len,
            "maxLength": max_len,
            "pattern": "^[^\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u00ad\\u061c"
            "\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\ufeff]*$",
            "description": "NFC text without control, format or bidirectional characters",
        },
    )


def pattern(regex: re.Pattern[str], what: str) -> Validator:
    def check(value: Any, path: str) -> str:
        _refuse_tokens(value, path)
        if not isinstance(value, str):
            raise InvalidField(f"must be a string ({what}), got {_kind(value)}", field=path)
        if not regex.fullmatch(value):
            raise InvalidField(f"{_show(value)} is not {what}", field=path)
        return value

    return described(check, {"type": "string", "pattern": _anchored(regex.pattern), "description": what})


def one_of(choices: tuple[str, ...]) -> Validator:
    def check(value: Any, path: str) -> str:
        _refuse_tokens(value, path)
        if value not in choices or not isinstance(value, str):
            raise InvalidField(f"{_show(value)} is not one of {', '.join(choices)}", field=path)
        return value

    return described(check, {"type": "string", "enum": list(choices)})


def integer(lo: int, hi: int) -> Validator:
    def check(value: Any, path: str) -> int:
        _refuse_tokens(value, path)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidField(f"must be an integer, got {_kind(value)}", field=path)
        if not lo <= value <= hi:
            raise InvalidField(f"{value} is outside {lo}..{hi}", field=path)
        return value

    return described(check, {"type": "integer", "minimum": lo, "maximum": hi})


def boolean(value: Any, path: str) -> bool:
    _refuse_tokens(value, path)
    if not isinstance(value, bool):
        raise InvalidField(f"must be true or false, got {_kind(value)}", field=path)
    return value


described(boolean, {"type": "boolean"})

slug = pattern(SLUG, "a party id (lowercase letters, digits and '-', 2-63 characters)")
statement_id = pattern(STATEMENT_ID, "a statement id (8-64 letters, digits, '.', '_', ':', '-')")
lot_id = pattern(LOT_ID, "a lot id (1-128 letters, digits, '.', '_', ':', '/', '#', '-')")
unit = pattern(UNIT, "a unit (1-16 characters, such as kg, t, pcs)")
sha256_hex = pattern(SHA256_HEX, "a SHA-256 hash in lowercase hex")
role = one_of(ROLES)


def amount(value: Any, path: str) -> str:
    """A positive decimal string such as "1250.5" (SPEC §2: never a JSON number)."""
    _refuse_tokens(value, path)
    if not isinstance(value, str):
        raise InvalidField(f'must be a decimal string such as "12.5", got {_kind(value)}', field=path)
    if not AMOUNT.fullmatch(value):
        raise InvalidField(
            f"{_show(value)} is not a decimal amount (digits, optional '.' and up to 6 decimals)",
            field=path,
        )
    if Decimal(value) <= 0:
        raise InvalidField("must be greater than zero", field=path)
    return value


def coordinate(limit: int) -> Validator:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not COORD.fullmatch(value) or abs(Decimal(value)) > limit:
            raise InvalidField(f"{_show(value)} is not a decimal string within ±{limit}", field=path)
        return value

    whole = {
        90: "90(?:\\.0{1,8})?|[1-8]?[0-9](?:\\.[0-9]{1,8})?",
        180: "180(?:\\.0{1,8})?|(?:1[0-7][0-9]|[1-9]?[0-9])(?:\\.[0-9]{1,8})?",
    }[limit]
    return described(
        check,
        {"type": "string", "pattern": f"^-?(?:{whole})$", "description": f"a decimal string within ±{limit}"},
    )


def country(value: Any, path: str) -> str:
    if not isinstance(value, str) or value not in COUNTRIES:
        raise InvalidField(f"{_show(value)} is not an ISO 3166-1 alpha-2 country code", field=path)
    return value


def date(value: Any, path: str) -> str:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        raise InvalidField(f"{_show(value)} is not a date (YYYY-MM-DD)", field=path)
    try:
        dt.date.fromisoformat(value)
    except ValueError as e:
        raise InvalidField(f"{_show(value)} is not a calendar date", field=path) from e
    return value


def timestamp(value: Any, path: str) -> str:
    """RFC 3339 in UTC with a 'Z' suffix, as SPEC §4 requires for ``issued_at``."""
    if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
        raise InvalidField(f"{_show(value)} is not an RFC 3339 UTC time (…T…Z)", field=path)
    try:
        parse_timestamp(value)
    except ValueError as e:
        raise InvalidField(f"{_show(value)} is not a valid time", field=path) from e
    return value


def parse_timestamp(value: str) -> dt.datetime:
    m = TIMESTAMP.fullmatch(value)
    if not m:
        raise ValueError(value)
    day, hh, mm, ss, frac = m.groups()
    micro = int((frac or ".0")[1:7].ljust(6, "0"))
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(int(hh), int(mm), int(ss), micro), dt.UTC)


# Positive decimals: digits, an optional point and up to 6 decimals, never zero.
_POSITIVE = (
    "[1-9][0-9]{0,14}(?:\\.[0-9]{1,6})?|0\\.(?:[1-9][0-9]{0,5}|0[1-9][0-9]{0,4}"
    "|00[1-9][0-9]{0,3}|000[1-9][0-9]{0,2}|0000[1-9][0-9]?|00000[1-9])"
)
described(
    amount,
    {
        "type": "string",
        "pattern": _anchored(_POSITIVE),
        "description": 'a positive decimal string such as "1250.5"',
    },
)
described(country, {"type": "string", "enum": sorted(COUNTRIES), "description": "ISO 3166-1 alpha-2"})
described(date, {"type": "string", "format": "date", "pattern": _anchored(DATE.pattern)})
described(
    timestamp,
    {
        "type": "string",
        "format": "date-time",
        "pattern": _anchored(TIMESTAMP.pattern),
        "description": "RFC 3339, UTC ('Z')",
    },
)


def gs1_check_digit_ok(digits: str) -> bool:
    """GS1 mod-10: weights 3,1,3,… from the right, excluding the check digit."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def gtin14(value: Any, path: str) -> str:
    if not isinstance(value, str) or not GTIN14.fullmatch(value):
        raise InvalidField(f"{_show(value)} is not a GTIN-14 (14 digits)", field=path)
    if not gs1_check_digit_ok(value):
        raise InvalidField(f"{value} has a wrong GS1 check digit", field=path)
    return value


def gln(value: Any, path: str) -> str:
    if not isinstance(value, str) or not GLN.fullmatch(value) or not gs1_check_digit_ok(value):
        raise InvalidField(f"{_show(value)} is not a GLN (13 digits, valid check digit)", field=path)
    return value


def os_id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not OS_ID.fullmatch(value):
        raise InvalidField(f"{_show(value)} is not an Open Supply Hub id (e.g. CN2019303BQ3FZP)", field=path)
    return value


def batch(value: Any, path: str) -> str:
    if not isinstance(value, str) or not BATCH.fullmatch(value):
        raise InvalidField(
            f"{_show(value)} is not a batch (1-20 characters of the GS1 AI (10) alphabet)", field=path
        )
    return value


described(
    gtin14,
    {"type": "string", "pattern": "^[0-9]{14}$", "description": "GTIN-14 with a valid GS1 check digit"},
)
described(
    gln,
    {
        "type": "string",
        "pattern": "^[0-9]{13}$",
        "description": "GLN: 13 digits with a valid GS1 check digit",
    },
)
described(
    os_id,
    {"type": "string", "pattern": _anchored(OS_ID.pattern), "description": "Open Supply Hub facility id"},
)
described(
    batch,
    {
        "type": "string",
        "pattern": _anchored(BATCH.pattern),
        "description": "1-20 characters of the GS1 AI (10) alphabet",
    },
)


def obj(spec: Mapping[str, tuple[bool, Validator]]) -> Validator:
    """An object with exactly the fields of ``spec`` (name -> (required, validator))."""

    def check(value: Any, path: str) -> dict[str, Any]:
        _refuse_tokens(value, path)
        if not isinstance(value, dict):
            raise InvalidField(f"must be an object, got {_kind(value)}", field=path or None)
        for key in value:
            if key not in spec:
                raise UnknownField(
                    f"unknown field {_show(key)}; allowed: {', '.join(spec)}",
                    field=_join(path, key),
                )
        for key, (required, validator) in spec.items():
            if key in value:
                validator(value[key], _join(path, key))
            elif required:
                raise MissingField("is required", field=_join(path, key))
        return value

    return described(
        check,
        {
            "type": "object",
            "properties": {key: schema_of(v) for key, (_, v) in spec.items()},
            "required": [key for key, (req, _) in spec.items() if req],
            "additionalProperties": False,
        },
    )


def array(
    item: Validator, *, min_items: int = 0, max_items: int = MAX_ITEMS, unique: str | None = None
) -> Validator:
    """A list of ``item``; with ``unique``, no two items share that key (or value, if "")."""

    def check(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidField(f"must be a list, got {_kind(value)}", field=path)
        if not min_items <= len(value) <= max_items:
            raise InvalidField(f"must hold {min_items}-{max_items} items, got {len(value)}", field=path)
        seen: set[Any] = set()
        for i, v in enumerate(value):
            item(v, f"{path}[{i}]")
            if unique is not None:
                key = v[unique] if unique else v
                if key in seen:
                    raise InvalidField(f"{_show(key)} is listed twice", field=f"{path}[{i}]")
                seen.add(key)
        return value

    schema: dict[str, Any] = {
        "type": "array",
        "items": schema_of(item),
        "minItems": min_items,
        "maxItems": max_items,
    }
    if unique == "":
        schema["uniqueItems"] = True
    elif unique:
        schema["description"] = f"no two items share a {unique}"
    return described(check, schema)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {int: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
