"""The policy's bounds on what steps may claim: yields and workforce rates (issue 14).

Two lists of ``policy.json`` (docs/claims.md)::

    "yields": [
        {"process": "ginning", "input": "seed cotton", "output": "cotton lint", "max": "0.40"},
        {"process": "knitting", "input_unit": "kg", "output_unit": "pcs", "max": "6"}
    ],
    "workforce_rates": [
        {"process": "spinning", "unit": "kg", "per_worker_per_day": "60"},
        {"material": "seed cotton", "unit": "kg", "per_worker_per_day": "25", "days": 365}
    ]

A yield bound applies to a transformation whose process names ``process`` (by words, as
regions are matched) and whose input and output lots are of the named materials; its ratio
is output amount over input amount, in ``output_unit`` per ``input_unit`` (the same unit on
both sides when neither is given). A workforce rate says how much one worker can make in a
day; a step (an origin or a transformation's outputs) claiming more than the workers of the
facility's audit in force could make in ``days`` days is a red flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.errors import ConfigError
from ledger.model.fields import UNIT

SEVERITIES = ("serious", "attention", "info")
DEFAULT_LATE_RECORD_DAYS = 90


def _decimal(obj: dict[str, Any], key: str, path: str) -> Decimal | None:
    value = obj.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise InvalidOperation
        number = Decimal(value)
    except InvalidOperation:
        raise ConfigError(f'{path}.{key} must be a decimal string such as "0.40", got {value!r}') from None
    if not number.is_finite() or number <= 0:
        raise ConfigError(f"{path}.{key} must be greater than zero, got {value!r}")
    return number


def _string(obj: dict[str, Any], key: str, path: str, *, unit: bool = False) -> str | None:
    """``obj[key]``, if present: a non-empty name, or with ``unit`` a unit such as kg."""
    value = obj.get(key)
    if value is None:
        return None
    if unit and not (isinstance(value, str) and UNIT.fullmatch(value)):
        raise ConfigError(f"{path}.{key} {value!r} is not a unit such as kg, m, pcs")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}.{key} must be a non-empty name")
    return value


def _name(obj: dict[str, Any], key: str, path: str) -> str | None:
    return _string(obj, key, path)


def _unit(obj: dict[str, Any], key: str, path: str) -> str | None:
    return _string(obj, key, path, unit=True)


def _severity(obj: dict[str, Any], path: str, default: str) -> str:
    severity = obj.get("severity", default)
    if severity not in SEVERITIES:
        raise ConfigError(f"{path}.severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    return str(severity)


def _keys(obj: Any, path: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ConfigError(f"{path} must be an object")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ConfigError(f"{path} has unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return obj


def _text(d: Decimal) -> str:
    return format(d.normalize(), "f")


@dataclass(frozen=True)
class YieldBound:
    """Bounds on a transformation's output/input ratio."""

    process: str | None = None
    input: str | None = None
    output: str | None = None
    input_unit: str | None = None
    output_unit: str | None = None
    max: Decimal | None = None
    min: Decimal | None = None
    severity: str = "serious"
    reason: str | None = None

    KEYS = frozenset(
        {"process", "input", "output", "input_unit", "output_unit", "max", "min", "severity", "reason"}
    )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("process", "input", "output", "input_unit", "output_unit", "reason"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("max", "min"):
            if getattr(self, key) is not None:
                out[key] = _text(getattr(self, key))
        out["severity"] = self.severity
        return out

    @classmethod
    def from_json(cls, obj: Any, path: str) -> YieldBound:
        obj = _keys(obj, path, cls.KEYS)
        bound = cls(
            _name(obj, "process", path),
            _name(obj, "input", path),
            _name(obj, "output", path),
            _unit(obj, "input_unit", path),
            _unit(obj, "output_unit", path),
            _decimal(obj, "max", path),
            _decimal(obj, "min", path),
            _severity(obj, path, "serious"),
            _name(obj, "reason", path),
        )
        if bound.max is None and bound.min is None:
            raise ConfigError(f"{path} needs a max, a min or both")
        if bound.max is not None and bound.min is not None and bound.min > bound.max:
            raise ConfigError(f"{path}.min is above its max")
        if (bound.input_unit is None) != (bound.output_unit is None):
            raise ConfigError(f"{path} names input_unit and output_unit together, or neither")
        return bound


@dataclass(frozen=True)
class WorkforceRate:
    """How much one worker can make in a day, of a process's outputs or of a material."""

    unit: str
    per_worker_per_day: Decimal
    process: str | None = None
    material: str | None = None
    days: int = 1
    severity: str = "serious"
    reason: str | None = None

    KEYS = frozenset({"process", "material", "unit", "per_worker_per_day", "days", "severity", "reason"})

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"unit": self.unit, "per_worker_per_day": _text(self.per_worker_per_day)}
        for key in ("process", "material", "reason"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(days=self.days, severity=self.severity)
        return out

    @classmethod
    def from_json(cls, obj: Any, path: str) -> WorkforceRate:
        obj = _keys(obj, path, cls.KEYS)
        unit = _unit(obj, "unit", path)
        rate = _decimal(obj, "per_worker_per_day", path)
        if unit is None or rate is None:
            raise ConfigError(f"{path} needs a unit and a per_worker_per_day")
        days = obj.get("days", 1)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 3660:
            raise ConfigError(f"{path}.days must be a whole number of days, 1-3660, got {days!r}")
        return cls(
            unit,
            rate,
            _name(obj, "process", path),
            _name(obj, "material", path),
            days,
            _severity(obj, path, "serious"),
            _name(obj, "reason", path),
        )


def late_record_days(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 36600:
        raise ConfigError(f"{path}.late_record_days must be a whole number of days, got {value!r}")
    return value
