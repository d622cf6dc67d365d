"""The ledger's rules that depend on its state (SPEC §6-§7), and the derived state they keep.

``apply`` checks one envelope against the state left by every earlier entry and, if it
passes, writes the derived rows it implies. It runs inside the append transaction (and
again, from scratch, when ``verify`` replays the log), so the checks and the writes see
one consistent state. A refusal raises before any write, and the caller's savepoint undoes
anything half done.

Revocation unwinds what the target did to lots, so a corrected statement can be appended
after it; it is refused once the goods have moved on (revoke the later entries first). The
lot ids a revoked origin or transformation created are free again, so its correction can
carry the same ids and a trace shows the two side by side.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ledger import errors as E
from ledger.crypto.keys import PublicKey
from ledger.model import dates, identity, transit
from ledger.model.fields import parse_timestamp
from ledger.model.statements import Envelope, Statement

CLOCK_SKEW = dt.timedelta(minutes=5)

SIGNERS: dict[str, frozenset[str]] = {
    "material-origin": frozenset({"farm", "mine", "processor"}),
    "transformation": frozenset({"farm", "mine", "processor", "manufacturer"}),
    "shipment": frozenset({"farm", "mine", "processor", "manufacturer", "trader", "brand"}),
    "product": frozenset({"brand"}),
}
NOT_REVOCABLE = (*identity.IDENTITY_TYPES, "revocation")


def dec(text: str) -> Decimal:
    return Decimal(text)


def dec_str(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros ("12.5", "0")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


class IssuerCache:
    """Issuers' roles, standing and keys, read once per transaction (identity statements
    clear it).

    Make a new one for each transaction: another process may register keys in between.
    """

    def __init__(self) -> None:
        self.roles: dict[str, tuple[str, int | None, int | None]] = {}
        self.keys: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
        self.parsed: dict[str, PublicKey] = {}

    def clear(self) -> None:
        self.roles.clear()
        self.keys.clear()


def apply(
    conn: sqlite3.Connection,
    seq: int,
    envelope: Envelope,
    recorded_at: str,
    verified_key: bytes | None = None,
    defer: Callable[[bytes], None] | None = None,
    cache: IssuerCache | None = None,
) -> None:
    """Check ``envelope`` as entry ``seq`` and write the derived state it implies.

    ``verified_key``: the raw public key a signature check already passed with (outside the
    write lock); the signature is checked again only if the issuer's key has changed since.
    ``defer``: instead of checking the signature here, hand the issuer's key to this callback
    (the audit checks signatures on other cores while it replays). ``cache``: issuers'
    roles and keys already read in this transaction.
    Raises a ``LedgerError`` subclass naming the field at fault; writes nothing then.
    """
    st = envelope.statement
    if st.type == "genesis":
        identity.genesis(conn, seq, envelope)
        _link(conn, seq, "party", identity.OPERATOR)
        return
    cache = cache if cache is not None else IssuerCache()
    if st.type == "inception":
        role, admitted, suspended = "", None, None
    else:
        role, admitted, suspended = _issuer(conn, st.issuer, cache)
    _claim_id(conn, seq, st)
    if st.type == "inception":
        identity.check_signature(envelope, identity.inception_key(conn, envelope), verified_key, defer)
    elif st.type == "rotation":
        identity.check_signature(envelope, identity.rotation_key(conn, envelope), verified_key, defer)
    else:
        _check_key(conn, envelope, verified_key, defer, cache)
    # Both are "YYYY-MM-DDTHH:MM:SS…Z": equal-width prefixes compare as times, and only a
    # statement issued after the ledger's clock needs the exact comparison.
    if st.issued_at[:19] > recorded_at[:19] and (
        parse_timestamp(st.issued_at) > parse_timestamp(recorded_at) + CLOCK_SKEW
    ):
        raise E.ClockSkew(
            f"{st.issued_at} is more than 5 minutes after the ledger's clock ({recorded_at})",
            field="statement.issued_at",
        )
    if st.type != "inception":
        identity.require_standing(st, admitted, suspended)
    if st.type in identity.IDENTITY_TYPES:
        cache.clear()
        IDENTITY_HANDLERS[st.type](conn, seq, st, role)
        _link(conn, seq, "party", st.body["party"])
    else:
        if "corrects" in st.body:
            _check_correction(conn, seq, st)
        HANDLERS[st.type](conn, seq, st, role)
        dates.check(conn, st, recorded_at)
    _link(conn, seq, "party", st.issuer)


def _check_correction(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    """SPEC §6: ``corrects`` names a revoked entry of the same issuer, before this one."""
    target, field = st.body["corrects"], "statement.body.corrects"
    row = conn.execute("SELECT issuer FROM entries WHERE seq = ?", (target,)).fetchone()
    if row is None or target >= seq:
        raise E.UnknownEntry(f"entry {target} does not exist (yet)", field=field)
    if row[0] != st.issuer:
        raise E.RevocationNotAllowed(f"entry {target} was signed by {row[0]}, not {st.issuer}", field=field)
    if conn.execute("SELECT 1 FROM revocations WHERE target = ?", (target,)).fetchone() is None:
        raise E.RuleViolation(f"entry {target} is not revoked: revoke it before correcting it", field=field)


def _claim_id(conn: sqlite3.Connection, seq: int, st: Statement) -> None:
    """Replay before keys: a client retrying an envelope that landed gets its seq (409) even
    if the key that signed it has been rotated since. (issuer, id) pairs are public anyway."""
    try:
        conn.execute(
            "INSERT INTO statement_ids (issuer, stmt_id, seq) VALUES (?, ?, ?)",
            (st.issuer, st.id, seq),
        )
    except sqlite3.IntegrityError:
        existing = conn.execute(
            "SELECT seq FROM statement_ids WHERE issuer = ? AND stmt_id = ?", (st.issuer, st.id)
        ).fetchone()
        raise E.Replay(
            f"statement {st.id!r} of {st.issuer} is already entry {existing[0]}",
            field="statement.id",
            seq=existing[0],
        ) from None


def _issuer(conn: sqlite3.Connection, issuer: str, cache: IssuerCache) -> tuple[str, int | None, int | None]:
    found = cache.roles.get(issuer)
    if found is None:
        row = conn.execute("SELECT role, admitted, suspended FROM parties WHERE id = ?", (issuer,)).fetchone()
        if row is None:
            raise E.UnknownIssuer(
                f"{issuer!r} is not a registered party (a party starts with its own inception)",
                field="statement.issuer",
            )
        found = cache.roles[issuer] = (str(row[0]), row[1], row[2])
    return found


def _check_key(
    conn: sqlite3.Connection,
    envelope: Envelope,
    verified_key: bytes | None,
    defer: Callable[[bytes], None] | None,
    cache: IssuerCache,
) -> None:
    st = envelope.statement
    rows = cache.keys.get((st.issuer, envelope.key_id))
    if rows is None:
        rows = cache.keys[(st.issuer, envelope.key_id)] = conn.execute(
            "SELECT public, until_seq FROM keys WHERE party = ? AND key_id = ?",
            (st.issuer, envelope.key_id),
        ).fetchall()
    if not rows:
        raise E.UnknownKey(f"key {envelope.key_id} is not a key of {st.issuer}", field="signature.key_id")
    active = [r[0] for r in rows if r[1] is None]
    if not active:
        retired = max(r[1] for r in rows if r[1] is not None)
        raise E.InactiveKey(
            f"key {envelope.key_id} of {st.issuer} was retired at entry {retired}",
            field="signature.key_id",
        )
    key = cache.parsed.get(active[0])
    if key is None:
        key = cache.parsed[active[0]] = PublicKey.from_b64(active[0])
    identity.check_signature(envelope, key, verified_key, defer)


def verify_pending(conn: sqlite3.Connection, envelope: Envelope) -> bytes | None:
    """The issuer's active key for ``envelope`` if one is registered now, else ``None``.

    Used to verify signatures before the write lock is taken; ``apply`` re-checks the key.
    """
    st = envelope.statement
    if st.type in identity.KEY_EVENTS:
        return None
    row = conn.execute(
        "SELECT public FROM keys WHERE party = ? AND key_id = ? AND until_seq IS NULL",
        (st.issuer, envelope.key_id),
    ).fetchone()
    return PublicKey.from_b64(row[0]).raw if row else None


def _require_role(st: Statement, role: str) -> None:
    allowed = SIGNERS[st.type]
    if role not in allowed:
        raise E.RoleNotAllowed(
            f"{st.issuer} is {a(role)}; a {st.type} is signed by {' or '.join(sorted(allowed))}",
            field="statement.issuer",
        )


def _link(conn: sqlite3.Connection, seq: int, kind: str, value: str) -> None:
    conn.execute("INSERT OR IGNORE INTO links (kind, value, seq) VALUES (?, ?, ?)", (kind, value, seq))


def _party_role(conn: sqlite3.Connection, pid: str, field: str) -> str:
    row = conn.execute("SELECT role FROM parties WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise E.UnknownParty(f"{pid!r} is not a registered party", field=field)
    return str(row[0])


def _attestation(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    b = st.body
    facility = b["facility"]
    facility_role = _party_role(conn, facility, "statement.body.facility")
    if facility_role == "operator":
        raise E.InvalidField("the operator is not a facility", field="statement.body.facility")
    if role != "auditor" and st.issuer != facility:
        raise E.RoleNotAllowed(
            f"{st.issuer} is {a(role)}: only an auditor or the facility itself ({facility}) "
            "attests its labour conditions",
            field="statement.issuer",
        )
    conn.execute(
        "INSERT INTO attestations (seq, facility, issuer, audit_date, valid_until, outcome)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (seq, facility, st.issuer, b["audit_date"], b["valid_until"], b["outcome"]),
    )
    _link(conn, seq, "party", facility)


def _new_lot(
    conn: sqlite3.Connection,
    seq: int,
    lot: str,
    material: str,
    amount: str,
    unit: str,
    producer: str,
    field: str,
) -> None:
    row = conn.execute("SELECT seq FROM lots WHERE lot = ?", (lot,)).fetchone()
    if row:
        raise E.LotExists(f"lot {lot!r} exists already (entry {row[0]})", field=field)
    conn.execute(
        "INSERT INTO lots (lot, material, amount, unit, producer, seq) VALUES (?, ?, ?, ?, ?, ?)",
        (lot, material, amount, unit, producer, seq),
    )
    conn.execute("INSERT INTO holdings (lot, party, balance) VALUES (?, ?, ?)", (lot, producer, amount))
    _link(conn, seq, "lot", lot)


def _take(
    conn: sqlite3.Connection, seq: int, party: str, lot: str, amount: str, unit: str, field: str
) -> None:
    """Custody and mass balance: ``party`` holds ``lot`` and at least ``amount`` of it."""
    row = conn.execute("SELECT unit FROM lots WHERE lot = ?", (lot,)).fetchone()
    if row is None:
        raise E.UnknownLot(f"lot {lot!r} does not exist", field=f"{field}.lot")
    if row[0] != unit:
        raise E.UnitMismatch(f"lot {lot!r} is counted in {row[0]!r}, not {unit!r}", field=f"{field}.unit")
    held = conn.execute("SELECT balance FROM holdings WHERE lot = ? AND party = ?", (lot, party)).fetchone()
    if held is None:
        raise E.NoCustody(
            f"{party} does not hold lot {lot!r}: it neither produced it nor received it",
            field=f"{field}.lot",
        )
    balance = dec(held[0])
    if dec(amount) > balance:
        raise E.InsufficientBalance(
            f"{amount} {unit} is more than the {dec_str(balance)} {unit} of lot {lot!r} {party} holds",
            field=f"{field}.amount",
        )
    _set_balance(conn, lot, party, balance - dec(amount))
    _link(conn, seq, "lot", lot)


def _set_balance(conn: sqlite3.Connection, lot: str, party: str, value: Decimal) -> None:
    conn.execute(
        "INSERT INTO holdings (lot, party, balance) VALUES (?, ?, ?)"
        " ON CONFLICT (lot, party) DO UPDATE SET balance = excluded.balance",
        (lot, party, dec_str(value)),
    )


def _give(conn: sqlite3.Connection, lot: str, party: str, amount: str) -> None:
    held = conn.execute("SELECT balance FROM holdings WHERE lot = ? AND party = ?", (lot, party)).fetchone()
    _set_balance(conn, lot, party, (dec(held[0]) if held else Decimal(0)) + dec(amount))


def _origin(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    _require_role(st, role)
    b = st.body
    _new_lot(
        conn,
        seq,
        b["lot"],
        b["material"],
        b["quantity"]["amount"],
        b["quantity"]["unit"],
        st.issuer,
        "statement.body.lot",
    )


def _transformation(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    _require_role(st, role)
    b = st.body
    for i, line in enumerate(b["inputs"]):
        _take(conn, seq, st.issuer, line["lot"], line["amount"], line["unit"], f"statement.body.inputs[{i}]")
    for i, out in enumerate(b["outputs"]):
        _new_lot(
            conn,
            seq,
            out["lot"],
            out["material"],
            out["amount"],
            out["unit"],
            st.issuer,
            f"statement.body.outputs[{i}].lot",
        )


def _shipment(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    _require_role(st, role)
    b = st.body
    to_role = _party_role(conn, b["to"], "statement.body.to")
    if to_role in ("operator", "auditor"):
        raise E.InvalidField(f"{b['to']} is {a(to_role)} and holds no goods", field="statement.body.to")
    if b["to"] == st.issuer:
        raise E.InvalidField("a party cannot ship to itself", field="statement.body.to")
    _take(conn, seq, st.issuer, b["lot"], b["amount"], b["unit"], "statement.body")
    transit.record_shipment(conn, seq, b, st.issuer)  # in transit until the receiver's receipt
    _link(conn, seq, "party", b["to"])


def _receipt(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    """The receiver takes the goods of a shipment (accepted) or sends them back (refused)."""
    b = st.body
    shipment = transit.receivable(conn, b["shipment"], st.issuer, "statement.body.shipment")
    _give(conn, shipment.lot, shipment.receiver if b["accepted"] else shipment.sender, shipment.amount)
    transit.record_receipt(conn, shipment.seq, seq, b)
    _link(conn, seq, "lot", shipment.lot)
    _link(conn, seq, "party", shipment.sender)


def _product(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    _require_role(st, role)
    b = st.body
    owner = conn.execute("SELECT brand FROM gtins WHERE gtin = ?", (b["gtin"],)).fetchone()
    if owner and owner[0] != st.issuer:
        raise E.GtinOwned(f"GTIN {b['gtin']} belongs to {owner[0]}", field="statement.body.gtin")
    prior = conn.execute(
        "SELECT seq FROM products WHERE gtin = ? AND batch = ? AND revoked_by IS NULL",
        (b["gtin"], b["batch"]),
    ).fetchone()
    if prior:
        raise E.BatchExists(
            f"batch {b['batch']!r} of GTIN {b['gtin']} was declared in entry {prior[0]}",
            field="statement.body.batch",
        )
    for i, line in enumerate(b["lots"]):
        _take(conn, seq, st.issuer, line["lot"], line["amount"], line["unit"], f"statement.body.lots[{i}]")
    if not owner:
        conn.execute("INSERT INTO gtins (gtin, brand, seq) VALUES (?, ?, ?)", (b["gtin"], st.issuer, seq))
    conn.execute(
        "INSERT INTO products (seq, gtin, batch, brand, revoked_by) VALUES (?, ?, ?, ?, NULL)",
        (seq, b["gtin"], b["batch"], st.issuer),
    )
    _link(conn, seq, "gtin", b["gtin"])


def _revocation(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
    target = st.body["entry"]
    field = "statement.body.entry"
    row = conn.execute("SELECT canonical, issuer, type FROM entries WHERE seq = ?", (target,)).fetchone()
    if row is None or target >= seq:
        raise E.UnknownEntry(f"entry {target} does not exist (yet)", field=field)
    t_issuer, t_type = row[1], row[2]
    if st.issuer != t_issuer and role != "operator":
        raise E.RevocationNotAllowed(
            f"entry {target} was signed by {t_issuer}; only it or the operator may revoke it", field=field
        )
    if t_type in NOT_REVOCABLE:
        raise E.RevocationRefused(
            f"a {t_type} entry cannot be revoked"
            + (
                "; the party rotates its keys or the operator suspends it"
                if t_type in identity.IDENTITY_TYPES
                else ""
            ),
            field=field,
        )
    done = conn.execute("SELECT seq FROM revocations WHERE target = ?", (target,)).fetchone()
    if done:
        raise E.AlreadyRevoked(f"entry {target} was revoked by entry {done[0]}", field=field)
    body = json.loads(bytes(row[0]))["statement"]["body"]
    _unwind(conn, seq, target, t_type, t_issuer, body, field)
    conn.execute("INSERT INTO revocations (target, seq) VALUES (?, ?)", (target, seq))
    _link(conn, seq, "party", t_issuer)


def _unwind(
    conn: sqlite3.Connection, seq: int, target: int, kind: str, issuer: str, body: dict[str, Any], field: str
) -> None:
    """Undo what entry ``target`` did to lots, or refuse if its goods have moved on."""

    def give_back(lot: str, holder: str, amount: str) -> None:
        held = conn.execute(
            "SELECT balance FROM holdings WHERE lot = ? AND party = ?", (lot, holder)
        ).fetchone()
        if held is None or dec(held[0]) < dec(amount):
            raise E.RevocationRefused(
                f"lot {lot!r} has moved on since entry {target} (shipped or used by {holder});"
                " revoke the later entries first",
                field=field,
            )
        _set_balance(conn, lot, holder, dec(held[0]) - dec(amount))

    def retire(lot: str, amount: str) -> None:
        give_back(lot, issuer, amount)
        others = conn.execute(
            "SELECT count(*) FROM holdings WHERE lot = ? AND party != ? AND balance != '0'",
            (lot, issuer),
        ).fetchone()[0]
        if others:
            raise E.RevocationRefused(
                f"lot {lot!r} has been shipped on since entry {target}; revoke the later entries first",
                field=field,
            )
        conn.execute("DELETE FROM holdings WHERE lot = ?", (lot,))
        # The id is free again, so the correction can carry it: the trace then finds the
        # revoked statement beside its correction (both name the lot).
        conn.execute("DELETE FROM lots WHERE lot = ? AND seq = ?", (lot, target))

    if kind == "material-origin":
        retire(body["lot"], body["quantity"]["amount"])
    elif kind == "transformation":
        for out in body["outputs"]:
            retire(out["lot"], out["amount"])
        for line in body["inputs"]:
            _give(conn, line["lot"], issuer, line["amount"])
    elif kind == "shipment":
        shipment = transit.get(conn, target)
        if shipment is not None and shipment.receipt is None:  # in transit: back to the sender
            _give(conn, body["lot"], issuer, body["amount"])
        elif shipment is not None and shipment.accepted:
            give_back(body["lot"], body["to"], body["amount"])
            _give(conn, body["lot"], issuer, body["amount"])
        # refused: the goods went back to the sender with the receipt
        transit.mark_revoked(conn, target, seq)
    elif kind == "receipt":
        shipment = transit.get(conn, body["shipment"])
        if shipment is not None:
            give_back(
                shipment.lot, shipment.receiver if body["accepted"] else shipment.sender, shipment.amount
            )
            transit.undo_receipt(conn, shipment.seq)
    elif kind == "product":
        for line in body["lots"]:
            _give(conn, line["lot"], issuer, line["amount"])
        conn.execute("UPDATE products SET revoked_by = ? WHERE seq = ?", (seq, target))


Handler = Callable[[sqlite3.Connection, int, Statement, str], None]


def _operator_act(act: Callable[[sqlite3.Connection, int, Statement], None]) -> Handler:
    def handler(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
        identity.require_operator(st, role)
        act(conn, seq, st)

    return handler


def _own_act(act: Callable[[sqlite3.Connection, int, Statement], None]) -> Handler:
    def handler(conn: sqlite3.Connection, seq: int, st: Statement, role: str) -> None:
        act(conn, seq, st)

    return handler


IDENTITY_HANDLERS: dict[str, Handler] = {
    "inception": _own_act(identity.inception),
    "rotation": _own_act(identity.rotation),
    "profile": _own_act(identity.profile),
    "admission": _operator_act(identity.admission),
    "suspension": _operator_act(identity.suspension),
    "reinstatement": _operator_act(identity.reinstatement),
}
HANDLERS: dict[str, Handler] = {
    "labor-attestation": _attestation,
    "material-origin": _origin,
    "transformation": _transformation,
    "shipment": _shipment,
    "receipt": _receipt,
    "product": _product,
    "revocation": _revocation,
}
