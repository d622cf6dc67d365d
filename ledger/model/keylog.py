"""Key event logs replayed in memory, from entries alone (SPEC §6).

``rules`` and ``identity`` keep the key event log in SQL tables while the ledger appends;
this module replays the same events over ``Entry`` objects for the checkers that hold only
entries: the bundle verifier (each signer's key from its key events in the bundle), the
trace (profiles, standing, disputed statements) and ``watch``. Its verdicts are the same:
a key event is accepted only if signed as SPEC §6 says, with every revealed key committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.crypto.keys import PublicKey
from ledger.errors import BadSignature, LedgerError
from ledger.model.identity import OPERATOR, digest
from ledger.model.statements import Entry


@dataclass
class PartyState:
    """One party as its entries so far say: profile, role, standing, keys and commitments."""

    party: str
    name: str
    role: str
    country: str = ""
    identifiers: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, PublicKey] = field(default_factory=dict)
    next: set[str] = field(default_factory=set)
    admitted: int | None = None
    suspended: int | None = None
    history: list[tuple[int, str]] = field(default_factory=list)  # (seq, statement type)
    ever: set[bytes] = field(default_factory=set)  # every raw key it ever had

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "country": self.country,
            "identifiers": self.identifiers,
        }


class KeyLog:
    """Parties' key event logs, fed entries in ``seq`` order (``apply``)."""

    def __init__(self) -> None:
        self.parties: dict[str, PartyState] = {}
        self.signed: dict[str, list[tuple[int, str]]] = {}  # party -> (seq, key_id) it signed
        self.disputed: dict[int, int] = {}  # seq -> the compromised rotation that disputes it
        # party -> (rotation seq, compromised_since, key ids it retired), per compromise
        self.compromises: dict[str, list[tuple[int, int, set[str]]]] = {}

    def disputed_by(self, entry: Entry) -> int | None:
        """The seq of the ``compromised`` rotation that disputes ``entry`` (SPEC §6), if any:
        one of its issuer's that retired the key it was signed with, from a seq at or before it."""
        for rot, since, retired in self.compromises.get(entry.statement.issuer, []):
            if since <= entry.seq < rot and entry.envelope.key_id in retired:
                return rot
        return None

    def key_of(self, entry: Entry) -> PublicKey:
        """The key that must have signed ``entry``, by the key events applied so far.
        Raises ``BadSignature`` naming the seq if there is none."""
        st, seq, kid = entry.statement, entry.seq, entry.envelope.key_id
        if st.type in ("genesis", "inception", "rotation"):
            keys = [st.body["key"]] if st.type == "genesis" else st.body["keys"]
            found = [PublicKey.from_b64(k) for k in keys if PublicKey.from_b64(k).key_id == kid]
            if not found:
                raise BadSignature(
                    f"entry {seq}: a {st.type} is signed by one of its own keys", field="entries"
                )
            if st.type == "rotation":
                state = self.parties.get(st.issuer)
                committed = state.next if state else set()
                if st.issuer != st.body["party"] or any(
                    digest(PublicKey.from_b64(k).raw) not in committed for k in keys
                ):
                    raise BadSignature(
                        f"entry {seq}: rotation of {st.body['party']} reveals a key its next digests"
                        " did not commit to",
                        field="entries",
                    )
            if st.type == "inception" and (st.issuer != st.body["party"] or st.issuer in self.parties):
                raise BadSignature(f"entry {seq}: an inception not by a new party itself", field="entries")
            return found[0]
        state = self.parties.get(st.issuer)
        if state is None:
            raise LedgerError(
                f"entry {seq} is signed by {st.issuer}, whose inception is not here", field="entries"
            )
        key = state.keys.get(kid)
        if key is None:
            raise BadSignature(
                f"entry {seq}: key {kid} was not a key of {st.issuer} at that entry", field="entries"
            )
        return key

    def verify(self, entry: Entry) -> None:
        """Check ``entry``'s signature with its issuer's key at its seq, then apply it."""
        key = self.key_of(entry)
        try:
            entry.envelope.verify(key)
        except BadSignature as e:
            raise BadSignature(
                f"entry {entry.seq}: the signature of {entry.statement.issuer} does not verify",
                field="entries",
            ) from e
        self.apply(entry)

    def apply(self, entry: Entry) -> None:
        """Fold ``entry`` into the parties' state (its signature is the caller's business)."""
        st, seq = entry.statement, entry.seq
        b = st.body
        self.signed.setdefault(st.issuer, []).append((seq, entry.envelope.key_id))
        if st.type == "genesis":
            key = PublicKey.from_b64(b["key"])
            self.parties[OPERATOR] = PartyState(
                OPERATOR, b["name"], "operator", keys={key.key_id: key}, next=set(b["next"]), admitted=seq
            )
        elif st.type == "inception":
            keys = [PublicKey.from_b64(k) for k in b["keys"]]
            self.parties[b["party"]] = PartyState(
                b["party"],
                b["name"],
                b["role"],
                b["country"],
                dict(b["identifiers"]),
                {k.key_id: k for k in keys},
                set(b["next"]),
            )
        elif st.type == "rotation" and b["party"] in self.parties:
            state = self.parties[b["party"]]
            retired = set(state.keys)
            state.keys = {k.key_id: k for k in (PublicKey.from_b64(x) for x in b["keys"])}
            state.ever.update(k.raw for k in state.keys.values())
            state.next = set(b["next"])
            since = b.get("compromised_since")
            if since is not None:
                self.compromises.setdefault(b["party"], []).append((seq, since, retired))
                for s, kid in self.signed.get(b["party"], []):
                    if since <= s < seq and kid in retired:
                        self.disputed.setdefault(s, seq)
        elif st.type == "admission" and b["party"] in self.parties:
            self.parties[b["party"]].role = b["role"]
            self.parties[b["party"]].admitted = seq
        elif st.type == "profile" and b["party"] in self.parties:
            state = self.parties[b["party"]]
            state.name, state.country, state.identifiers = b["name"], b["country"], dict(b["identifiers"])
        elif st.type == "suspension" and b["party"] in self.parties:
            self.parties[b["party"]].suspended = seq
        elif st.type == "reinstatement" and b["party"] in self.parties:
            self.parties[b["party"]].suspended = None
        else:
            return
        if st.type in ("genesis", "inception"):
            state = self.parties[OPERATOR if st.type == "genesis" else b["party"]]
            state.ever.update(k.raw for k in state.keys.values())
        subject = OPERATOR if st.type == "genesis" else b["party"]
        if subject in self.parties:
            self.parties[subject].history.append((seq, st.type))
