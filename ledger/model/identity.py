"""The key event log: who a party is and which keys speak for it (SPEC §6-§7).

A party's keys come only from statements the party itself signs: its ``inception`` (signed
by one of the keys it names) and each ``rotation`` (signed by a key whose digest the party
committed to in its previous ``next``, pre-rotation as in KERI). The operator's own keys come
from ``genesis`` and its rotations the same way. The operator admits, suspends and
reinstates parties, but no statement of its own ever writes a key of another party.

Derived state, kept in the append transaction and rebuilt by ``verify``'s replay:
``parties`` (profile, role, ``admitted`` and ``suspended`` seqs), ``keys`` (key history,
``until_seq`` set when a rotation retires a key), ``next_digests`` (the current
commitments), ``used_digests`` (every digest a party ever committed or revealed),
``admissions``, ``suspensions`` (with reinstatements) and ``disputed`` (statements signed
with keys a ``compromised`` rotation retired, from ``compromised_since`` on).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence

from ledger import errors as E
from ledger.crypto.keys import PublicKey
from ledger.model.statements import Envelope, Statement

OPERATOR = "operator"
KEY_EVENTS = ("genesis", "inception", "rotation")
IDENTITY_TYPES = (*KEY_EVENTS, "admission", "profile", "suspension", "reinstatement")
# What a party not yet admitted, or suspended, may still sign.
ALWAYS_ALLOWED = ("inception", "rotation", "profile")
OPERATOR_ACTS = ("admission", "suspension", "reinstatement")

Defer = Callable[[bytes], None]


def digest(raw: bytes) -> str:
    """SPEC §3: a key's digest, the full lowercase hex SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(raw).hexdigest()


def check_signature(
    envelope: Envelope, key: PublicKey, verified_key: bytes | None, defer: Defer | None
) -> None:
    """Check ``envelope``'s signature under ``key`` (or hand it to ``defer``)."""
    if defer is not None:
        defer(key.raw)
    elif verified_key != key.raw:
        try:
            envelope.verify(key)
        except E.BadSignature as e:
            raise E.BadSignature(e.message, field="signature.sig") from e


def signing_key(envelope: Envelope) -> PublicKey:
    """The key of ``body.keys`` that signed a key event (its proof of possession)."""
    body = envelope.statement.body
    keys = [body["key"]] if envelope.statement.type == "genesis" else body["keys"]
    for i, text in enumerate(keys):
        key = PublicKey.from_b64(text, f"statement.body.keys[{i}]")
        if key.key_id == envelope.key_id:
            return key
    raise E.UnknownKey(
        f"key {envelope.key_id} is not among the keys this {envelope.statement.type} names:"
        " a key event is signed by one of its own keys",
        field="signature.key_id",
    )


def require_own(st: Statement) -> None:
    """The issuer of a key event or profile is the party it is about."""
    party = st.body["party"]
    if st.issuer != party:
        raise E.NotOwnKeys(
            f"{st.issuer} cannot sign a {st.type} for {party}: only {party} itself sets its keys"
            " and profile (the operator admits, suspends and reinstates, never writes a party's keys)",
            field="statement.issuer",
        )


def _check_keys_free(conn: sqlite3.Connection, party: str, keys: Iterable[PublicKey]) -> None:
    for i, key in enumerate(keys):
        for owner, public in conn.execute("SELECT party, public FROM keys WHERE key_id = ?", (key.key_id,)):
            if public == key.b64 and owner != party:
                raise E.KeyTaken(
                    f"key {key.key_id} is registered to {owner}: a key speaks for one party only",
                    field=f"statement.body.keys[{i}]",
                )


def _commit(conn: sqlite3.Connection, seq: int, party: str, digests: Iterable[str]) -> None:
    conn.execute("DELETE FROM next_digests WHERE party = ?", (party,))
    for d in digests:
        conn.execute("INSERT INTO next_digests (party, digest, seq) VALUES (?, ?, ?)", (party, d, seq))
        conn.execute(
            "INSERT OR IGNORE INTO used_digests (party, digest, seq) VALUES (?, ?, ?)", (party, d, seq)
        )


def _add_keys(conn: sqlite3.Connection, seq: int, party: str, keys: Iterable[PublicKey]) -> None:
    for key in keys:
        conn.execute(
            "INSERT INTO keys (party, key_id, public, from_seq, until_seq) VALUES (?, ?, ?, ?, NULL)",
            (party, key.key_id, key.b64, seq),
        )
        conn.execute(
            "INSERT OR IGNORE INTO used_digests (party, digest, seq) VALUES (?, ?, ?)",
            (party, digest(key.raw), seq),
        )


def _check_next_fresh(
    conn: sqlite3.Connection, party: str, digests: list[str], keys: Iterable[PublicKey]
) -> None:
    revealed = {digest(k.raw) for k in keys}
    for i, d in enumerate(digests):
        row = conn.execute(
            "SELECT seq FROM used_digests WHERE party = ? AND digest = ?", (party, d)
        ).fetchone()
        if row is not None or d in revealed:
            where = f"entry {row[0]}" if row is not None else "this statement's keys"
            raise E.DigestReused(
                f"digest {d[:16]}… was already used by {party} ({where}): each next key is new",
                field=f"statement.body.next[{i}]",
            )


def genesis(conn: sqlite3.Connection, seq: int, envelope: Envelope) -> None:
    """Entry 0: the operator's first key, signed by itself, and its first commitment."""
    st = envelope.statement
    if seq != 0:
        raise E.RoleNotAllowed("a genesis statement can only be entry 0", field="statement.type")
    if st.issuer != OPERATOR:
        raise E.RoleNotAllowed("the genesis issuer must be operator", field="statement.issuer")
    key = PublicKey.from_b64(st.body["key"], "statement.body.key")
    if envelope.key_id != key.key_id:
        raise E.UnknownKey("genesis must be signed by the key it names", field="signature.key_id")
    envelope.verify(key)
    if digest(key.raw) in st.body["next"]:
        raise E.DigestReused("the next key must differ from the current one", field="statement.body.next")
    conn.execute(
        "INSERT INTO parties (id, name, role, country, identifiers, first_seq, seq, admitted, suspended)"
        " VALUES ('operator', ?, 'operator', '', '{}', ?, ?, ?, NULL)",
        (st.body["name"], seq, seq, seq),
    )
    _add_keys(conn, seq, OPERATOR, [key])
    _commit(conn, seq, OPERATOR, st.body["next"])
    conn.execute("INSERT INTO statement_ids (issuer, stmt_id, seq) VALUES (?, ?, ?)", (st.issuer, st.id, seq))


def inception_key(conn: sqlite3.Connection, envelope: Envelope) -> PublicKey:
    """Check an inception before anything is written; return the key to verify it with."""
    st = envelope.statement
    require_own(st)
    party = st.body["party"]
    row = conn.execute("SELECT first_seq FROM parties WHERE id = ?", (party,)).fetchone()
    if row is not None:
        raise E.PartyExists(
            f"{party} was incepted at entry {row[0]}: one inception per party id, ever",
            field="statement.body.party",
        )
    keys = [PublicKey.from_b64(k, f"statement.body.keys[{i}]") for i, k in enumerate(st.body["keys"])]
    _check_keys_free(conn, party, keys)
    _check_next_fresh(conn, party, st.body["next"], keys)
    return signing_key(envelope)


def inception(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    b = st.body
    party = b["party"]
    conn.execute(
        "INSERT INTO parties (id, name, role, country, identifiers, first_seq, seq, admitted, suspended)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        (party, b["name"], b["role"], b["country"], _identifiers(b), seq, seq),
    )
    _add_keys(conn, seq, party, [PublicKey.from_b64(k) for k in b["keys"]])
    _commit(conn, seq, party, b["next"])


def rotation_key(conn: sqlite3.Connection, envelope: Envelope) -> PublicKey:
    """Check a rotation before anything is written; return the committed key that signed it."""
    st = envelope.statement
    require_own(st)
    party = st.body["party"]
    committed = {r[0] for r in conn.execute("SELECT digest FROM next_digests WHERE party = ?", (party,))}
    signer = signing_key(envelope)
    if digest(signer.raw) not in committed:
        raise E.KeyNotCommitted(
            f"key {signer.key_id} was not committed in {party}'s next key digests: only a"
            " pre-committed next key can rotate (a stolen current key cannot)",
            field="signature.key_id",
        )
    keys = [PublicKey.from_b64(k, f"statement.body.keys[{i}]") for i, k in enumerate(st.body["keys"])]
    for i, key in enumerate(keys):
        if digest(key.raw) not in committed:
            raise E.KeyNotCommitted(
                f"key {key.key_id} was not committed in {party}'s next key digests",
                field=f"statement.body.keys[{i}]",
            )
    _check_keys_free(conn, party, keys)
    _check_next_fresh(conn, party, st.body["next"], keys)
    return signer


def rotation(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    b = st.body
    party = b["party"]
    since = b.get("compromised_since")
    if since is not None and since > seq:
        raise E.RuleViolation(
            f"entry {since} is after this rotation (entry {seq})", field="statement.body.compromised_since"
        )
    retired = [
        r[0] for r in conn.execute("SELECT key_id FROM keys WHERE party = ? AND until_seq IS NULL", (party,))
    ]
    conn.execute("UPDATE keys SET until_seq = ? WHERE party = ? AND until_seq IS NULL", (seq, party))
    _add_keys(conn, seq, party, [PublicKey.from_b64(k) for k in b["keys"]])
    _commit(conn, seq, party, b["next"])
    if since is not None:
        _dispute(conn, seq, party, since, set(retired))


def _dispute(conn: sqlite3.Connection, seq: int, party: str, since: int, retired: set[str]) -> None:
    """Mark every statement of ``party`` from ``since`` on signed by a retired key."""
    for s, canonical in conn.execute(
        "SELECT seq, canonical FROM entries WHERE issuer = ? AND seq >= ? AND seq < ? ORDER BY seq",
        (party, since, seq),
    ).fetchall():
        key_id = json.loads(bytes(canonical))["signature"]["key_id"]
        if key_id in retired:
            conn.execute(
                "INSERT OR IGNORE INTO disputed (seq, party, key_id, rotation) VALUES (?, ?, ?, ?)",
                (s, party, key_id, seq),
            )


def admission(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    b = st.body
    party = b["party"]
    row = _party(conn, party)
    if b["inception"] != row[0]:
        raise E.RuleViolation(
            f"{party} was incepted at entry {row[0]}, not {b['inception']}", field="statement.body.inception"
        )
    conn.execute("UPDATE parties SET role = ?, admitted = ? WHERE id = ?", (b["role"], seq, party))
    conn.execute(
        "INSERT INTO admissions (seq, party, role, inception) VALUES (?, ?, ?, ?)",
        (seq, party, b["role"], b["inception"]),
    )


def suspension(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    party = st.body["party"]
    row = _party(conn, party)
    if row[1] is not None:
        raise E.StandingRefused(
            f"{party} is suspended already (entry {row[1]})", field="statement.body.party"
        )
    conn.execute("UPDATE parties SET suspended = ? WHERE id = ?", (seq, party))
    _standing(conn, seq, party, st)


def reinstatement(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    party = st.body["party"]
    row = _party(conn, party)
    if row[1] is None:
        raise E.StandingRefused(f"{party} is not suspended", field="statement.body.party")
    conn.execute("UPDATE parties SET suspended = NULL WHERE id = ?", (party,))
    _standing(conn, seq, party, st)


def profile(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    require_own(st)
    b = st.body
    conn.execute(
        "UPDATE parties SET name = ?, country = ?, identifiers = ?, seq = ? WHERE id = ?",
        (b["name"], b["country"], _identifiers(b), seq, b["party"]),
    )


def require_standing(st: Statement, admitted: int | None, suspended: int | None) -> None:
    """SPEC §7: a party not yet admitted, or suspended, signs only key events and profiles."""
    if st.type in ALWAYS_ALLOWED:
        return
    if admitted is None:
        raise E.NotAdmitted(
            f"{st.issuer} is not admitted yet: until the operator admits it, it signs only key events"
            " and its profile",
            field="statement.issuer",
        )
    if suspended is not None:
        raise E.Suspended(
            f"{st.issuer} is suspended (entry {suspended}): it signs only key events and its profile"
            " until reinstated",
            field="statement.issuer",
        )


def require_operator(st: Statement, role: str) -> None:
    if role != "operator":
        raise E.RoleNotAllowed(f"only the operator signs a {st.type}", field="statement.issuer")
    if st.body["party"] == OPERATOR:
        raise E.InvalidField(
            f"the operator cannot be the subject of a {st.type}", field="statement.body.party"
        )


def _party(conn: sqlite3.Connection, party: str) -> tuple[int, int | None]:
    row = conn.execute("SELECT first_seq, suspended FROM parties WHERE id = ?", (party,)).fetchone()
    if row is None:
        raise E.UnknownParty(f"{party!r} has no inception in this ledger", field="statement.body.party")
    return int(row[0]), row[1]


def _standing(conn: sqlite3.Connection, seq: int, party: str, st: Statement) -> None:
    conn.execute(
        "INSERT INTO suspensions (seq, party, kind, reason) VALUES (?, ?, ?, ?)",
        (seq, party, st.type, st.body["reason"]),
    )


def _identifiers(body: dict[str, object]) -> str:
    return json.dumps(body["identifiers"], sort_keys=True, separators=(",", ":"))


def operator_keys(conn: sqlite3.Connection) -> list[tuple[str, int, int | None]]:
    """The operator's key history from the derived ``keys`` table: (public, from, until)."""
    return [
        (str(r[0]), int(r[1]), r[2])
        for r in conn.execute(
            "SELECT public, from_seq, until_seq FROM keys WHERE party = 'operator' ORDER BY from_seq, key_id"
        )
    ]


def keys_at(keys: Sequence[tuple[str, int, int | None]], size: int | None) -> list[str]:
    """Which of ``keys`` may sign the checkpoint of ``size`` (entries 0..size-1 decide; a
    rotation at seq r is signed under the old key, checkpoints of size > r under the new);
    ``None``: the keys active now."""
    if size is None:
        return [public for public, _, until in keys if until is None]
    return [public for public, start, until in keys if start < size and (until is None or until >= size)]
