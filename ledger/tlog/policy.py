"""C2SP tlog-policy: which logs, which witnesses, and how many cosignatures make a quorum.

A policy file is lines of ``log <vkey> [<url>]``, ``witness <name> <vkey> [<url>]``,
``group <name> <k|any|all> <member>…`` and exactly one ``quorum <name>`` (``none`` needs no
cosignature). Groups and the quorum may only name witnesses and groups defined above them,
each member at most once; blank lines and ``#`` comments are ignored. ``Policy.satisfied``
decides whether a set of witnesses that verifiably cosigned a checkpoint meets the quorum;
``Policy.check`` verifies a checkpoint note against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import BadSignature, ConfigError, LedgerError
from ledger.tlog.cosignature import (
    ALG_COSIGNATURE_V1,
    Cosignature,
    VerifierKey,
    verify_cosignatures,
)
from ledger.tlog.note import ALG_ED25519, SignedCheckpoint, Verifier

NONE = "none"
MAX_ITEMS = 256
_WS = re.compile(r"[ \t]+")


class PolicyError(ConfigError):
    """A policy file that does not parse: the message names the line."""

    status, code = 400, "bad-policy"


class QuorumNotMet(BadSignature):
    """A checkpoint without the cosignatures the policy requires."""

    code = "quorum-not-met"


@dataclass(frozen=True)
class Witness:
    name: str
    vkey: VerifierKey
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    logs: tuple[VerifierKey, ...] = ()
    log_urls: tuple[str | None, ...] = ()
    witnesses: dict[str, Witness] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = NONE

    # -- reading ----------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read policy {path}: {e.strerror or e}") from e
        return cls.from_text(data, source=str(path))

    @classmethod
    def from_text(cls, data: bytes | str, source: str = "policy") -> Policy:
        """Parse a tlog-policy file. Raises ``PolicyError`` naming the file and line."""
        raw = data.encode() if isinstance(data, str) else data
        logs: list[VerifierKey] = []
        log_urls: list[str | None] = []
        witnesses: dict[str, Witness] = {}
        groups: dict[str, Group] = {}
        quorum: str | None = None
        publics: set[bytes] = set()
        for number, line_bytes in enumerate(raw.split(b"\n"), 1):
            where = f"{source} line {number}"
            if any(b < 0x20 and b != 0x09 or b == 0x7F for b in line_bytes):
                raise PolicyError(f"{where}: control character (only tab and newline are allowed)")
            line = line_bytes.decode("utf-8", errors="surrogateescape").strip(" \t")
            if not line or line.startswith("#"):
                continue
            word, *args = _WS.split(line)
            try:
                if word == "log":
                    _arity(args, 1, 2, "log <vkey> [<url>]")
                    vkey = VerifierKey.from_text(args[0])
                    if vkey.alg != ALG_ED25519:
                        raise PolicyError("a log key must be an Ed25519 note key (type 0x01)")
                    _unique_key(vkey, publics)
                    logs.append(vkey)
                    log_urls.append(args[1] if len(args) > 1 else None)
                elif word == "witness":
                    _arity(args, 2, 3, "witness <name> <vkey> [<url>]")
                    name = _new_name(args[0], witnesses, groups)
                    vkey = VerifierKey.from_text(args[1])
                    if vkey.alg != ALG_COSIGNATURE_V1:
                        raise PolicyError("a witness key must be a cosignature key (type 0x04)")
                    _unique_key(vkey, publics)
                    witnesses[name] = Witness(name, vkey, args[2] if len(args) > 2 else None)
                elif word == "group":
                    if len(args) < 3:
                        raise PolicyError("want: group <name> <k|any|all> <member>...")
                    name = _new_name(args[0], witnesses, groups)
                    members = tuple(args[2:])
                    for m in members:
                        if m not in witnesses and m not in groups:
                            raise PolicyError(f"group member {m!r} is not defined above")
                    if len(set(members)) != len(members):
                        raise PolicyError("a group lists a member twice")
                    k = _threshold(args[1], len(members))
                    groups[name] = Group(name, k, members)
                elif word == "quorum":
                    _arity(args, 1, 1, "quorum <name>")
                    if quorum is not None:
                        raise PolicyError("a second quorum line (a policy has exactly one)")
                    if args[0] != NONE and args[0] not in witnesses and args[0] not in groups:
                        raise PolicyError(f"quorum {args[0]!r} is not a witness or group defined above")
                    quorum = args[0]
                else:
                    raise PolicyError(f"unknown keyword {word!r} (want log, witness, group or quorum)")
                if len(logs) + len(witnesses) + len(groups) > MAX_ITEMS:
                    raise PolicyError(f"more than {MAX_ITEMS} logs, witnesses and groups")
            except LedgerError as e:
                raise PolicyError(f"{where}: {e.describe()}") from e
        if quorum is None:
            raise PolicyError(f"{source}: no quorum line (write 'quorum none' to require no witness)")
        return cls(tuple(logs), tuple(log_urls), witnesses, groups, quorum)

    # -- deciding ---------------------------------------------------------------------

    def satisfied(self, cosigned: set[str] | frozenset[str]) -> bool:
        """Whether the witnesses named in ``cosigned`` (each verified) meet the quorum."""
        return self._witnessed(self.quorum, cosigned)

    def _witnessed(self, name: str, cosigned: set[str] | frozenset[str]) -> bool:
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._witnessed(m, cosigned) for m in group.members) >= group.threshold

    def cosigned_by(self, note: str) -> dict[str, Cosignature]:
        """The policy's witnesses whose cosignature in ``note`` verifies, by policy name.
        Raises ``BadSignature`` if a line of a known witness does not verify."""
        out: dict[str, Cosignature] = {}
        for pname, w in self.witnesses.items():
            found = verify_cosignatures(note, [w.vkey])
            if found:
                out[pname] = found[w.vkey.name]
        return out

    def check(self, note: str, log: Verifier | None = None) -> SignedCheckpoint:
        """Verify a checkpoint note: signed by ``log`` (or, without it, by one of the policy's
        logs), and cosigned to the quorum. Returns the checkpoint; raises ``BadSignature``
        (``QuorumNotMet`` when the cosignatures fall short) or ``Malformed``."""
        verifiers = [log] if log is not None else [Verifier(k.name, k.public) for k in self.logs]
        if log is not None and self.logs:
            named = [k for k in self.logs if k.public == log.public]
            if not named:
                raise BadSignature(f"the log key {log.to_text()} is not one of the policy's logs")
            if not any(k.name == log.name for k in named):
                # tlog-policy: a log's key name is its origin; the same key under another name
                # is another log, so it vouches for nothing here.
                raise BadSignature(
                    f"the policy names the log key {log.to_text().rsplit('+', 1)[-1]} as"
                    f" {named[0].name!r}, but the checkpoint's origin is {log.name!r}"
                )
        if not verifiers:
            raise BadSignature("the policy names no log and no log key was given")
        opened: SignedCheckpoint | None = None
        errors: list[str] = []
        for v in verifiers:
            try:
                opened = SignedCheckpoint.open(note, v)
                break
            except BadSignature as e:
                errors.append(e.describe())
        if opened is None:
            raise BadSignature(f"checkpoint not signed by a log of the policy: {'; '.join(errors)}")
        cosigned = self.cosigned_by(note)
        if not self.satisfied(set(cosigned)):
            have = ", ".join(sorted(cosigned)) or "none"
            raise QuorumNotMet(
                f"checkpoint of size {opened.checkpoint.size} is not cosigned by a quorum of"
                f" witnesses ({self.describe_quorum()}); valid cosignatures from: {have}",
                field="checkpoint",
            )
        return opened

    def describe_quorum(self, name: str | None = None) -> str:
        name = self.quorum if name is None else name
        if name == NONE or name in self.witnesses:
            return name
        g = self.groups[name]
        inner = ", ".join(self.describe_quorum(m) for m in g.members)
        return f"{g.threshold} of [{inner}]"


def _arity(args: list[str], low: int, high: int, usage: str) -> None:
    if not low <= len(args) <= high:
        raise PolicyError(f"want: {usage}")


def _new_name(name: str, witnesses: dict[str, Witness], groups: dict[str, Group]) -> str:
    if name == NONE:
        raise PolicyError("'none' is reserved")
    if name in witnesses or name in groups:
        raise PolicyError(f"name {name!r} is defined twice")
    return name


def _unique_key(vkey: VerifierKey, publics: set[bytes]) -> None:
    if vkey.public.raw in publics:
        raise PolicyError(f"key of {vkey.name} is listed twice")
    publics.add(vkey.public.raw)


def _threshold(text: str, n: int) -> int:
    if text == "any":
        return 1
    if text == "all":
        return n
    if not re.fullmatch(r"[1-9][0-9]{0,3}", text) or not 1 <= int(text) <= n:
        raise PolicyError(f"threshold {text!r} must be any, all or a number from 1 to {n}")
    return int(text)
