"""An entry in readable form, and the checks a visitor can watch the server make: the
signature against the issuer's registered key, the inclusion proof against the signed
checkpoint. (Anyone can redo both offline from the JSON; the page only shows the way.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ledger.core.ledger import Ledger
from ledger.crypto.keys import PublicKey
from ledger.errors import LedgerError
from ledger.model.statements import Entry
from ledger.store import sqlite as store
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint
from web.present import words as w


def _keys(count: int, what: str) -> str:
    return f"{count} {what} key{'s' if count != 1 else ''}"


def _a(role: str) -> str:
    name = w.ROLE_NAME.get(role, role)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


IDENTITY_SENTENCES: dict[str, Callable[[dict[str, Any], Callable[[str], str]], str]] = {
    "inception": lambda b, n: (
        f"{b.get('name')} registered itself as {_a(b.get('role', ''))} in {w.place(b.get('country'))},"
        f" with {_keys(len(b.get('keys', [])), 'signing')} and {_keys(len(b.get('next', [])), 'next')}"
        " committed to."
    ),
    "admission": lambda b, n: f"The operator admitted {n(b.get('party', ''))} as {_a(b.get('role', ''))}.",
    "rotation": lambda b, n: (
        f"{n(b.get('party', ''))} rotated to {_keys(len(b.get('keys', [])), 'new')} ({b.get('reason')})"
        + (
            f"; its statements from entry {b['compromised_since']} on under the old keys are disputed."
            if "compromised_since" in b
            else "."
        )
    ),
    "profile": lambda b, n: (
        f"{n(b.get('party', ''))} updated its profile: {b.get('name')}, {w.place(b.get('country'))}."
    ),
    "suspension": lambda b, n: f"The operator suspended {n(b.get('party', ''))}: {b.get('reason')}.",
    "reinstatement": lambda b, n: f"The operator reinstated {n(b.get('party', ''))}: {b.get('reason')}.",
}


def describe(statement: dict[str, Any], names: dict[str, str]) -> str:
    """One sentence saying what a statement declares."""
    b, t = statement.get("body", {}), statement.get("type")
    who = names.get(statement.get("issuer", ""), statement.get("issuer", ""))

    def n(pid: str) -> str:
        return names.get(pid, pid)

    if t == "genesis":
        return f"The ledger {b.get('origin')} was created by {b.get('name')}."
    if t in IDENTITY_SENTENCES:
        return IDENTITY_SENTENCES[t](b, n)
    if t == "labor-attestation":
        by = (
            "assessed itself"
            if statement.get("issuer") == b.get("facility")
            else f"audited {n(b.get('facility', ''))}"
        )
        present = [w.found(k) for k, v in b.get("indicators", {}).items() if v == "present"]
        found = f" It found that {w.join(present)}." if present else ""
        return (
            f"{who} {by} to {b.get('standard')} on {w.date(b.get('audit_date'))}, valid until "
            f"{w.date(b.get('valid_until'))}: "
            f"{w.OUTCOME_NAME.get(b.get('outcome', ''), '')}.{found}"
        )
    if t == "material-origin":
        q, o = b.get("quantity", {}), b.get("origin", {})
        return (
            f"{who} produced {w.amount(q.get('amount'), q.get('unit'))} of {b.get('material')} "
            f"(lot {b.get('lot')}) in {w.place(o.get('country'), o.get('region'))} on "
            f"{w.date(b.get('produced_on'))}."
        )
    if t == "transformation":
        ins = w.join([f"{w.amount(i['amount'], i['unit'])} of lot {i['lot']}" for i in b.get("inputs", [])])
        outs = w.join(
            [
                f"{w.amount(o['amount'], o['unit'])} of {o['material']} (lot {o['lot']})"
                for o in b.get("outputs", [])
            ]
        )
        return f"{who}: {b.get('process')} on {w.date(b.get('date'))}, turning {ins} into {outs}."
    if t == "shipment":
        return (
            f"{who} shipped {w.amount(b.get('amount'), b.get('unit'))} of lot {b.get('lot')} to "
            f"{n(b.get('to', ''))} on {w.date(b.get('shipped_on'))}."
        )
    if t == "product":
        lots = w.join([f"{w.amount(x['amount'], x['unit'])} of lot {x['lot']}" for x in b.get("lots", [])])
        return (
            f"{who} declared {b.get('name')}, GTIN {b.get('gtin')} batch {b.get('batch')}, made from {lots}."
        )
    if t == "revocation":
        return f"{who} withdrew entry {b.get('entry')}: {b.get('reason')}"
    if t == "receipt":
        verb = "accepted" if b.get("accepted") else "refused"
        note = f" ({b['note']})" if b.get("note") else ""
        return f"{who} {verb} the goods of entry {b.get('shipment')} on {w.date(b.get('received_on'))}{note}."
    return f"A {t} statement by {who}."


@dataclass
class Check:
    ok: bool
    text: str


def check_signature(ledger: Ledger, entry: Entry) -> Check:
    """Verify the entry's signature with the key its issuer had registered under that key id."""
    st = entry.statement
    if st.type == "genesis":
        key_b64 = st.body["key"]
    elif st.type in ("inception", "rotation"):  # signed by one of the keys it sets
        own = [k for k in st.body["keys"] if PublicKey.from_b64(k).key_id == entry.envelope.key_id]
        if not own:
            return Check(False, f"key {entry.envelope.key_id} is not among the keys this {st.type} sets")
        key_b64 = own[0]
    else:
        rows = store.query(
            ledger.conn,
            "SELECT public FROM keys WHERE party = ? AND key_id = ?"
            " AND from_seq < ? ORDER BY from_seq DESC LIMIT 1",
            (st.issuer, entry.envelope.key_id, entry.seq),
        )
        if not rows:
            return Check(False, f"key {entry.envelope.key_id} is not a registered key of {st.issuer}")
        key_b64 = rows[0][0]
    try:
        entry.envelope.verify(PublicKey.from_b64(key_b64))
    except LedgerError as e:
        return Check(False, f"the signature does not verify: {e}")
    return Check(True, f"Signature verified with {st.issuer}'s registered key {entry.envelope.key_id}.")


def check_inclusion(ledger: Ledger, view: dict[str, Any]) -> Check:
    """Recompute the Merkle root from the entry's hash and proof; compare with the checkpoint,
    itself verified with the operator's key."""
    try:
        size = view["inclusion_proof"]["tree_size"]
        cp = SignedCheckpoint.open(view["checkpoint"], ledger.verifier_at(size)).checkpoint
        proof = view["inclusion_proof"]
        leaf = merkle.leaf_hash(base64.b64decode(view["canonical"]))
        merkle.verify_inclusion(
            proof["leaf_index"],
            proof["tree_size"],
            leaf,
            [bytes.fromhex(h) for h in proof["hashes"]],
            cp.root,
        )
    except LedgerError as e:
        return Check(False, f"the inclusion proof does not check out: {e}")
    return Check(
        True,
        f"Included in the ledger: the proof leads to the root of the signed checkpoint of {cp.size} entries.",
    )
