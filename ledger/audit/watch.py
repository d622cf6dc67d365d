"""A party's monitor of its own name (``provenance watch``): key transparency for suppliers.

Each run fetches the ledger's latest checkpoint, checks that it extends the last one this
party saw (a consistency proof against the state file), then reads every entry since then
(not trusting the ledger's indexes) and lists those that concern the party: issued by it,
or naming it (facility, recipient, the party of an identity statement). It raises an alarm
for any statement issued in its name, and any key event about it, not signed by one of the
keys the party holds (``--keys DIR``). An operator who signs as the party, re-incepts or
rotates it, or forks the log shows up here.

The operator's checkpoint key is taken on first use and kept in the state; if it changes,
the new key must follow from the kept one by the operator's own key events (SPEC §6).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ledger.crypto.keys import PrivateKey
from ledger.errors import ConfigError, LedgerError
from ledger.model.identity import KEY_EVENTS, OPERATOR
from ledger.model.keylog import KeyLog
from ledger.model.statements import Entry
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint, Verifier


class Source(Protocol):
    """Where the monitor reads the ledger: a server's API or a local home."""

    def info(self) -> dict[str, Any]: ...
    def consistency(self, old: int, new: int) -> dict[str, Any]: ...
    def entries(self, after: int) -> Iterator[dict[str, Any]]: ...
    def events(self, party: str) -> dict[str, Any]: ...


@dataclass
class Seen:
    seq: int
    type: str
    issuer: str
    concerns: str  # issued | key-event | named
    alarm: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "issuer": self.issuer,
            "concerns": self.concerns,
            "alarm": self.alarm,
        }


@dataclass
class WatchReport:
    state: dict[str, Any]
    seen: list[Seen] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)


def own_keys(folder: Path) -> dict[str, bytes]:
    """key_id -> raw public key of every private key file in ``folder`` (the party's current
    and next keys). Raises ``ConfigError`` if there is none."""
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder of key files")
    out: dict[str, bytes] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file():
            try:
                key = PrivateKey.load(path)
            except ConfigError:
                continue  # not a key file (or one we cannot open): it proves nothing either way
            out[key.public.key_id] = key.public.raw
    if not out:
        raise ConfigError(f"{folder} holds no key file this party can read")
    return out


def watch(source: Source, party: str, keys: dict[str, bytes], state: dict[str, Any] | None) -> WatchReport:
    """One monitoring round (module docstring). Returns the new state to keep and what was
    seen; ``alarms`` is empty when all is well. Raises ``LedgerError`` if the source fails."""
    info = source.info()
    vkey = Verifier.from_text(info["vkey"])
    report = WatchReport(state={})
    if state is not None and state.get("vkey") != info["vkey"]:
        _check_operator_rotation(source, state["vkey"], vkey, report)
    try:
        cp = SignedCheckpoint.open(info["checkpoint"], vkey).checkpoint
    except LedgerError as e:
        report.alarms.append(f"the checkpoint does not verify with the operator's key: {e}")
        return report
    old_size = 0
    if state is not None:
        old_size, old_root = int(state["size"]), bytes.fromhex(state["root"])
        if cp.size < old_size:
            report.alarms.append(f"the log shrank from {old_size} to {cp.size} entries: a rollback or a fork")
            return report
        if old_size and cp.size > old_size:
            proof = source.consistency(old_size, cp.size)
            try:
                merkle.verify_consistency(
                    old_size, cp.size, old_root, cp.root, [bytes.fromhex(h) for h in proof["hashes"]]
                )
            except LedgerError as e:
                report.alarms.append(
                    f"checkpoint {cp.size} does not extend the one seen before ({old_size}): {e}"
                )
                return report
        elif cp.size == old_size and cp.root != old_root:
            report.alarms.append(f"two different checkpoints for size {cp.size}: the log forked")
            return report
    # Every entry since the last checkpoint seen is read, not only those the ledger's own
    # indexes link to the party: an entry written behind the ledger's back has no index rows.
    for view in source.entries(old_size - 1):
        if view["seq"] >= cp.size:
            break
        seen = _judge(view, party, keys, cp.size, cp.root)
        if seen is None:
            continue
        report.seen.append(seen)
        if seen.alarm:
            report.alarms.append(f"seq {seen.seq}: {seen.alarm}")
    report.state = {
        "origin": cp.origin,
        "vkey": info["vkey"],
        "size": cp.size,
        "root": cp.root.hex(),
        "checkpoint": info["checkpoint"],
    }
    return report


NAMING = ("party", "facility", "to")


def _judge(view: dict[str, Any], party: str, keys: dict[str, bytes], size: int, root: bytes) -> Seen | None:
    """What entry ``view`` is to ``party`` (``None``: it does not concern it), with an alarm
    if it speaks in the party's name without one of its keys."""
    data = base64.b64decode(view["canonical"])
    entry = Entry.from_canonical(data)
    st = entry.statement
    proof = view["inclusion_proof"]
    if proof["tree_size"] == size:
        merkle.verify_inclusion(
            entry.seq, size, merkle.leaf_hash(data), [bytes.fromhex(h) for h in proof["hashes"]], root
        )
    about = st.body.get("party") if isinstance(st.body.get("party"), str) else None
    if st.issuer != party and all(st.body.get(k) != party for k in NAMING):
        return None
    if st.issuer == party:
        concerns = "issued"
    elif st.type in KEY_EVENTS and about == party:
        concerns = "key-event"
    else:
        concerns = "named"
    seen = Seen(entry.seq, st.type, st.issuer, concerns)
    if concerns != "named" or (st.type in KEY_EVENTS and about == party):
        kid = entry.envelope.key_id
        if kid not in keys:
            seen.alarm = (
                f"a {st.type} in {party}'s name signed with key {kid}, which is not one of {party}'s keys"
            )
        else:
            from ledger.crypto.keys import PublicKey

            try:
                entry.envelope.verify(PublicKey(keys[kid]))
            except LedgerError:
                seen.alarm = f"a {st.type} in {party}'s name whose signature is not by {party}'s key {kid}"
    return seen


def _check_operator_rotation(source: Source, old_vkey: str, new: Verifier, report: WatchReport) -> None:
    """A new operator key is accepted only if the operator's key events lead to it from the
    key seen before."""
    old = Verifier.from_text(old_vkey)
    log = KeyLog()
    try:
        for view in source.events(OPERATOR)["events"]:
            log.verify(Entry.from_canonical(base64.b64decode(view["canonical"])))
    except LedgerError as e:
        report.alarms.append(f"the operator's key events do not verify: {e}")
        return
    op = log.parties.get(OPERATOR)
    if op is None or old.public.raw not in op.ever or new.public not in op.keys.values():
        report.alarms.append(
            "the operator's checkpoint key changed without a rotation from the key seen before"
        )


def load_state(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ConfigError(f"state file {path} is not JSON: {e}") from e
    if not isinstance(state, dict) or not {"vkey", "size", "root"} <= set(state):
        raise ConfigError(f"state file {path} is not a watch state")
    return state


def save_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


class LocalSource:
    """A ledger home read directly (the operator's machine, or a mirror)."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def info(self) -> dict[str, Any]:
        return self.ledger.info()  # type: ignore[no-any-return]

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return self.ledger.consistency_proof(old, new).to_json()  # type: ignore[no-any-return]

    def entries(self, after: int) -> Iterator[dict[str, Any]]:
        checkpoint = self.ledger.latest_checkpoint()
        nodes = self.ledger.node_cache()
        for seq in range(after + 1, checkpoint.checkpoint.size):
            yield self.ledger.entry_view(seq, checkpoint, nodes)

    def events(self, party: str) -> dict[str, Any]:
        from ledger.core.party_events import party_events

        return party_events(self.ledger, party)


class HttpSource:
    """A ledger server's JSON API (SPEC §10)."""

    def __init__(self, server: str) -> None:
        from ledger.cli.client import Connection

        self.conn = Connection(server)

    def _get(self, path: str) -> dict[str, Any]:
        status, data = self.conn.request("GET", path)
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if status != 200 or not isinstance(body, dict):
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ConfigError(f"GET {path}: {status} {error.get('message', '')}".rstrip())
        return body

    def info(self) -> dict[str, Any]:
        return self._get("/api/v1/ledger")

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        return self._get(f"/api/v1/proofs/consistency?old={old}&new={new}")

    def entries(self, after: int) -> Iterator[dict[str, Any]]:
        while True:
            page = self._get(f"/api/v1/entries?after={after}&limit=1000")
            yield from page["entries"]
            if page["next_after"] is None:
                return
            after = page["next_after"]

    def events(self, party: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self._get(f"/api/v1/parties/{quote(party)}/events")
