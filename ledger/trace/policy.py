"""The operator's compliance policy: high-risk regions for material origins.

The policy lives in ``<ledger home>/policy.json``; without that file it is empty. Format::

    {"high_risk_regions": [
        {"country": "CN", "region": "Xinjiang", "aliases": ["XUAR", "East Turkestan"],
         "severity": "serious", "reason": "UFLPA rebuttable presumption"},
        {"country": "KP"}
    ]}

Each entry names a ``country`` (ISO 3166-1 alpha-2), a ``region`` or both. An entry with a
country only matches every origin in that country; with a region, an origin matches when its
region holds the region's words (or an alias's words) in order, compared without case or
accents, so "Xīnjiāng Uyghur Autonomous Region" matches "Xinjiang". ``severity`` is
``attention`` (the default: the issue's verdict names only audit failures and revoked steps
as serious), ``serious`` (the verdict becomes non-compliant) or ``info``. ``reason`` is
quoted in the finding.

The policy a trace applied travels inside its bundle (``Policy.to_json``), so an offline
verifier re-derives the verdict under the very same policy.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError
from ledger.model.fields import COUNTRIES
from ledger.model.text import skeleton
from ledger.trace.policy_claims import DEFAULT_LATE_RECORD_DAYS, WorkforceRate, YieldBound, late_record_days

POLICY_NAME = "policy.json"
POLICY_KEYS = ("high_risk_regions", "late_record_days", "yields", "workforce_rates")
SEVERITIES = ("serious", "attention", "info")
DEFAULT_SEVERITY = "attention"
_ENTRY_KEYS = frozenset({"country", "region", "aliases", "severity", "reason"})


# Latin letters that carry their mark inside and so do not decompose under NFKD.
_FOLD = str.maketrans(
    {
        "ı": "i",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ħ": "h",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ŧ": "t",
        "ŋ": "n",
    }
)


def words(text: str) -> tuple[str, ...]:
    """``text`` as lower-case words without accents: "Xīnjiāng-Uyghur" -> ("xinjiang", "uyghur")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(w for w in re.split(r"[\W_]+", plain) if w)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """True if ``needle``'s words appear in order in ``haystack``, or written together or
    split apart ("Xin jiang", "X-i-n-j-i-a-n-g" hold "xinjiang"): some run of the
    haystack's words spells the needle's words joined."""
    n = len(needle)
    if n == 0:
        return False
    if any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1)):
        return True
    joined = "".join(needle)
    for i in range(len(haystack)):
        spelled = ""
        for word in haystack[i:]:
            spelled += word
            if spelled == joined:
                return True
            if not joined.startswith(spelled):
                break
    return False


def names_match(text: str, name: str) -> bool:
    """True if ``text`` names ``name``: by words without case or accents, or by their
    Unicode TS #39 confusable skeletons (a Cyrillic "а" in "Xinjiаng" still matches)."""
    return _contains(words(text), words(name)) or _contains(
        words(skeleton(text.casefold())), words(skeleton(name.casefold()))
    )


@dataclass(frozen=True)
class RiskRegion:
    """One high-risk place: a country, a region within it, or a region anywhere."""

    country: str | None = None
    region: str | None = None
    aliases: tuple[str, ...] = ()
    severity: str = DEFAULT_SEVERITY
    reason: str | None = None

    @property
    def label(self) -> str:
        if self.region and self.country:
            return f"{self.region} ({self.country})"
        return self.region or self.country or "?"

    def matches(self, country: str, region: str | None) -> bool:
        """True if an origin in ``country``/``region`` lies in this high-risk place."""
        if self.country and self.country != country.upper():
            return False
        if not self.region:
            return True
        return any(names_match(region or "", name) for name in (self.region, *self.aliases))

    def unresolved(self, country: str, region: str | None) -> bool:
        """True if the origin is in this entry's country but names no region to rule it out."""
        return bool(self.region and self.country == country.upper() and not (region or "").strip())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity}
        if self.country:
            out["country"] = self.country
        if self.region:
            out["region"] = self.region
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, obj: Any, path: str) -> RiskRegion:
        if not isinstance(obj, dict):
            raise ConfigError(f"{path} must be an object")
        unknown = sorted(set(obj) - _ENTRY_KEYS)
        if unknown:
            raise ConfigError(
                f"{path} has unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
            )
        country = obj.get("country")
        if country is not None:
            if not isinstance(country, str) or country.upper() not in COUNTRIES:
                raise ConfigError(f"{path}.country {country!r} is not an ISO 3166-1 alpha-2 code")
            country = country.upper()
        region = _opt_text(obj.get("region"), f"{path}.region")
        if country is None and region is None:
            raise ConfigError(f"{path} needs a country, a region or both")
        aliases = obj.get("aliases", [])
        if not isinstance(aliases, list):
            raise ConfigError(f"{path}.aliases must be a list of names")
        if aliases and region is None:
            raise ConfigError(f"{path}.aliases needs a region")
        alias_names = tuple(_opt_text(a, f"{path}.aliases") or "" for a in aliases)
        severity = obj.get("severity", DEFAULT_SEVERITY)
        if severity not in SEVERITIES:
            raise ConfigError(f"{path}.severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        reason = _opt_text(obj.get("reason"), f"{path}.reason")
        return cls(country, region, alias_names, severity, reason)


def _opt_text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not words(value):
        raise ConfigError(f"{path} must be a non-empty name")
    return value


@dataclass(frozen=True)
class Policy:
    """What the trace judges beyond the audits: high-risk regions, when a record is late,
    yield bounds and workforce rates (``policy_claims``)."""

    high_risk_regions: tuple[RiskRegion, ...] = ()
    late_record_days: int = DEFAULT_LATE_RECORD_DAYS
    yields: tuple[YieldBound, ...] = ()
    workforce_rates: tuple[WorkforceRate, ...] = ()

    def match(self, country: str, region: str | None) -> list[RiskRegion]:
        return [r for r in self.high_risk_regions if r.matches(country, region)]

    def unresolved(self, country: str, region: str | None) -> list[RiskRegion]:
        return [r for r in self.high_risk_regions if r.unresolved(country, region)]

    def to_json(self) -> dict[str, Any]:
        """The policy as ``from_json`` reads it; keys at their defaults are left out."""
        out: dict[str, Any] = {"high_risk_regions": [r.to_json() for r in self.high_risk_regions]}
        if self.late_record_days != DEFAULT_LATE_RECORD_DAYS:
            out["late_record_days"] = self.late_record_days
        if self.yields:
            out["yields"] = [y.to_json() for y in self.yields]
        if self.workforce_rates:
            out["workforce_rates"] = [w.to_json() for w in self.workforce_rates]
        return out

    @classmethod
    def from_json(cls, obj: Any, source: str = "policy") -> Policy:
        """Parse a policy; raise ``ConfigError`` naming the key at fault."""
        if not isinstance(obj, dict):
            raise ConfigError(f"{source} must be a JSON object")
        unknown = sorted(set(obj) - set(POLICY_KEYS))
        if unknown:
            raise ConfigError(f"{source} has unknown key {unknown[0]!r}; allowed: {', '.join(POLICY_KEYS)}")
        lists = {}
        for key in ("high_risk_regions", "yields", "workforce_rates"):
            lists[key] = obj.get(key, [])
            if not isinstance(lists[key], list):
                raise ConfigError(f"{source}: {key} must be a list")
        return cls(
            tuple(
                RiskRegion.from_json(r, f"{source}: high_risk_regions[{i}]")
                for i, r in enumerate(lists["high_risk_regions"])
            ),
            late_record_days(obj.get("late_record_days", DEFAULT_LATE_RECORD_DAYS), source),
            tuple(YieldBound.from_json(y, f"{source}: yields[{i}]") for i, y in enumerate(lists["yields"])),
            tuple(
                WorkforceRate.from_json(w, f"{source}: workforce_rates[{i}]")
                for i, w in enumerate(lists["workforce_rates"])
            ),
        )

    @classmethod
    def load(cls, home: Path) -> Policy:
        """``<home>/policy.json``, or the empty policy if there is no such file."""
        path = home / POLICY_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read {path}: {e}") from e
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path} is not JSON: {e.msg} at line {e.lineno}") from e
        return cls.from_json(obj, str(path))
