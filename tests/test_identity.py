"""The key event log (SPEC v2 §6-§7): parties own their keys; nobody, the operator included,
can sign in a party's name. Every refusal appends nothing (``expect_refusal`` checks)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.demo.builder import Builder
from ledger.model.identity import digest

Refuse = Callable[..., Any]


def fresh(n: int) -> PrivateKey:
    return PrivateKey.from_seed(bytes([n]) * 32)


def inception_body(
    pid: str, keys: list[PrivateKey], nexts: list[PrivateKey], role: str = "farm"
) -> dict[str, Any]:
    return {
        "party": pid,
        "name": "New Farm",
        "role": role,
        "country": "IN",
        "identifiers": {},
        "keys": [k.public.b64 for k in keys],
        "next": [digest(k.public.raw) for k in nexts],
    }


def origin_body(lot: str = "lot-x") -> dict[str, Any]:
    return {
        "lot": lot,
        "material": "cotton",
        "quantity": {"amount": "10", "unit": "kg"},
        "origin": {"country": "IN"},
        "produced_on": "2025-05-01",
        "certifications": [],
    }


# -- inception and admission -------------------------------------------------------------


def test_a_party_incepts_itself_and_acts_only_once_admitted(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    key, nxt = fresh(1), fresh(2)
    seq = b.submit(b.envelope("inception", "farm-new", inception_body("farm-new", [key], [nxt]), key))
    b.keys["farm-new"] = key
    expect_refusal(
        b.ledger,
        b.envelope("material-origin", "farm-new", origin_body()),
        "not-admitted",
        403,
        "statement.issuer",
    )
    b.admit("farm-new", "farm", seq)
    assert b.origin("farm-new", "lot-x", "cotton", "10", "kg", country="IN", produced_on="2025-05-01") > seq
    row = b.ledger.conn.execute(
        "SELECT role, admitted, suspended FROM parties WHERE id = 'farm-new'"
    ).fetchone()
    assert row == ("farm", seq + 1, None)


def test_inception_must_be_signed_by_one_of_its_own_keys(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    body = inception_body("farm-new", [fresh(1)], [fresh(2)])
    expect_refusal(
        b.ledger, b.envelope("inception", "farm-new", body, fresh(3)), "unknown-key", 403, "signature.key_id"
    )


def test_operator_cannot_incept_a_party_or_reincept_an_existing_one(
    cast: Builder, expect_refusal: Refuse
) -> None:
    b, op = cast, cast.keys["operator"]
    mine = fresh(9)
    # In its own name, for someone else: never.
    body = inception_body("farm-new", [mine], [fresh(2)])
    expect_refusal(
        b.ledger, b.envelope("inception", "operator", body, op), "not-own-keys", 403, "statement.issuer"
    )
    # In the party's name, with a key the operator made: the id exists already.
    body = inception_body("farm-a", [mine], [fresh(2)])
    expect_refusal(
        b.ledger, b.envelope("inception", "farm-a", body, mine), "party-exists", 422, "statement.body.party"
    )
    # With the operator's own key as the "new party's" key: a key speaks for one party only.
    body = inception_body("farm-new", [op], [fresh(2)])
    expect_refusal(
        b.ledger, b.envelope("inception", "farm-new", body, op), "key-taken", 422, "statement.body.keys[0]"
    )


def test_a_key_of_another_party_is_refused(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    stolen = b.keys["farm-a"]
    body = inception_body("farm-new", [stolen], [fresh(2)])
    expect_refusal(
        b.ledger,
        b.envelope("inception", "farm-new", body, stolen),
        "key-taken",
        422,
        "statement.body.keys[0]",
    )


@pytest.mark.parametrize(
    "key_bytes",
    [
        bytes(32),
        bytes([1]) + bytes(31),
        bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ],
    ids=["small-order-zero", "identity", "small-order-noncanonical"],
)
def test_small_order_keys_are_refused_where_introduced(
    cast: Builder, expect_refusal: Refuse, sign_raw: Any, key_bytes: bytes
) -> None:
    key = fresh(1)
    body = inception_body("farm-new", [key], [fresh(2)])
    body["keys"].append(base64.b64encode(key_bytes).decode())
    st = cast.statement("inception", "farm-new", body)
    expect_refusal(cast.ledger, sign_raw(st, key), "invalid-field", 400, "statement.body.keys[1]")


def test_bad_digest_and_empty_next_are_refused(cast: Builder, expect_refusal: Refuse, sign_raw: Any) -> None:
    key = fresh(1)
    body = inception_body("farm-new", [key], [fresh(2)])
    body["next"] = ["ab" * 16]
    expect_refusal(
        cast.ledger,
        sign_raw(cast.statement("inception", "farm-new", body), key),
        "invalid-field",
        400,
        "statement.body.next[0]",
    )
    body["next"] = []
    expect_refusal(
        cast.ledger,
        sign_raw(cast.statement("inception", "farm-new", body), key),
        "invalid-field",
        400,
        "statement.body.next",
    )


def test_admission_names_the_inception(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    key = fresh(1)
    seq = b.submit(b.envelope("inception", "farm-new", inception_body("farm-new", [key], [fresh(2)]), key))
    body = {"party": "farm-new", "inception": seq - 1, "role": "farm"}
    expect_refusal(
        b.ledger, b.envelope("admission", "operator", body), "rule-violation", 422, "statement.body.inception"
    )
    body = {"party": "farm-new", "inception": seq, "role": "farm"}
    expect_refusal(
        b.ledger, b.envelope("admission", "farm-a", body), "role-not-allowed", 403, "statement.issuer"
    )


# -- the operator signing as a party -----------------------------------------------------


def test_operator_cannot_sign_as_a_party_with_its_own_key(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    env = b.envelope("material-origin", "farm-a", origin_body(), b.keys["operator"])
    expect_refusal(b.ledger, env, "unknown-key", 403, "signature.key_id")


def test_operator_cannot_rotate_a_party(cast: Builder, expect_refusal: Refuse) -> None:
    b, op = cast, cast.keys["operator"]
    body = {
        "party": "audit-a",
        "keys": [op.public.b64],
        "next": [digest(fresh(5).public.raw)],
        "reason": "lost",
    }
    expect_refusal(
        b.ledger, b.envelope("rotation", "operator", body, op), "not-own-keys", 403, "statement.issuer"
    )
    mine = fresh(7)
    body = {
        "party": "audit-a",
        "keys": [mine.public.b64],
        "next": [digest(fresh(5).public.raw)],
        "reason": "lost",
    }
    expect_refusal(
        b.ledger, b.envelope("rotation", "audit-a", body, mine), "key-not-committed", 403, "signature.key_id"
    )


# -- rotation ----------------------------------------------------------------------------


def test_stolen_current_key_cannot_rotate(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    current, thief = b.keys["farm-a"], fresh(7)
    body = {
        "party": "farm-a",
        "keys": [current.public.b64],
        "next": [digest(thief.public.raw)],
        "reason": "scheduled",
    }
    expect_refusal(
        b.ledger,
        b.envelope("rotation", "farm-a", body, current),
        "key-not-committed",
        403,
        "signature.key_id",
    )


def test_rotation_cannot_reveal_an_uncommitted_key(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    committed, extra = b.next_keys["farm-a"][0], fresh(7)
    body = {
        "party": "farm-a",
        "keys": [committed.public.b64, extra.public.b64],
        "next": [digest(fresh(8).public.raw)],
        "reason": "scheduled",
    }
    expect_refusal(
        b.ledger,
        b.envelope("rotation", "farm-a", body, committed),
        "key-not-committed",
        403,
        "statement.body.keys[1]",
    )


@pytest.mark.parametrize("which", ["current", "revealed", "committed-before"])
def test_rotation_cannot_reuse_a_digest(cast: Builder, expect_refusal: Refuse, which: str) -> None:
    b = cast
    if which == "committed-before":
        old_next = b.next_keys["farm-a"][0]
        b.rotate("farm-a")
        reused = old_next
    else:
        reused = b.keys["farm-a"] if which == "current" else b.next_keys["farm-a"][0]
    committed = b.next_keys["farm-a"][0]
    body = {
        "party": "farm-a",
        "keys": [committed.public.b64],
        "next": [digest(reused.public.raw)],
        "reason": "scheduled",
    }
    expect_refusal(
        b.ledger,
        b.envelope("rotation", "farm-a", body, committed),
        "digest-reused",
        422,
        "statement.body.next[0]",
    )


def test_a_lost_key_is_recovered_with_the_next_one(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    old = b.keys["farm-a"]
    rot = b.rotate("farm-a", reason="lost")
    assert b.keys["farm-a"] != old
    expect_refusal(
        b.ledger,
        b.envelope("material-origin", "farm-a", origin_body(), old),
        "key-not-active",
        403,
        "signature.key_id",
    )
    assert b.origin("farm-a", "lot-y", "cotton", "5", "kg", country="IN", produced_on="2025-05-01") == rot + 1
    b.rotate("farm-a")  # and again: each rotation commits to a fresh next key
    assert verify_ledger(b.ledger.conn).ok


def test_compromised_since_marks_later_statements_disputed(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    before = b.origin("farm-a", "lot-1", "cotton", "5", "kg", country="IN", produced_on="2025-05-01")
    forged = b.origin("farm-a", "lot-2", "cotton", "5", "kg", country="IN", produced_on="2025-05-01")
    env, key, nexts = b.rotation_envelope("farm-a", reason="compromised", compromised_since=b.ledger.size + 5)
    expect_refusal(b.ledger, env, "rule-violation", 422, "statement.body.compromised_since")
    rot = b.rotate("farm-a", reason="compromised", compromised_since=forged)
    rows = b.ledger.conn.execute("SELECT seq, party, rotation FROM disputed").fetchall()
    assert rows == [(forged, "farm-a", rot)] and before < forged
    assert verify_ledger(b.ledger.conn).ok


def test_compromised_since_only_with_reason_compromised(
    cast: Builder, expect_refusal: Refuse, sign_raw: Any
) -> None:
    b = cast
    committed = b.next_keys["farm-a"][0]
    body = {
        "party": "farm-a",
        "keys": [committed.public.b64],
        "next": [digest(fresh(8).public.raw)],
        "reason": "scheduled",
        "compromised_since": 1,
    }
    env = sign_raw(b.statement("rotation", "farm-a", body), committed)
    expect_refusal(b.ledger, env, "invalid-field", 400, "statement.body.compromised_since")


# -- suspension --------------------------------------------------------------------------


def test_suspended_party_signs_only_key_events_and_profile(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    b.suspend("farm-a", "labour inspection pending")
    expect_refusal(
        b.ledger, b.envelope("material-origin", "farm-a", origin_body()), "suspended", 403, "statement.issuer"
    )
    b.profile("farm-a", "Green Valley Cotton Cooperative", "IN")
    b.rotate("farm-a")
    expect_refusal(
        b.ledger,
        b.envelope("suspension", "operator", {"party": "farm-a", "reason": "again"}),
        "standing-refused",
        422,
        "statement.body.party",
    )
    b.reinstate("farm-a")
    expect_refusal(
        b.ledger,
        b.envelope("reinstatement", "operator", {"party": "farm-a", "reason": "again"}),
        "standing-refused",
        422,
        "statement.body.party",
    )
    assert b.origin("farm-a", "lot-z", "cotton", "5", "kg", country="IN", produced_on="2025-05-01") > 0
    kinds = [r[0] for r in b.ledger.conn.execute("SELECT kind FROM suspensions ORDER BY seq")]
    assert kinds == ["suspension", "reinstatement"]


def test_only_the_operator_suspends_and_only_a_party_writes_its_profile(
    cast: Builder, expect_refusal: Refuse
) -> None:
    b = cast
    expect_refusal(
        b.ledger,
        b.envelope("suspension", "brand-a", {"party": "farm-a", "reason": "x"}),
        "role-not-allowed",
        403,
        "statement.issuer",
    )
    body = {"party": "farm-a", "name": "Operator's Farm", "country": "IN", "identifiers": {}}
    expect_refusal(b.ledger, b.envelope("profile", "operator", body), "not-own-keys", 403, "statement.issuer")


def test_key_events_cannot_be_revoked(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    inception = b.ledger.conn.execute("SELECT first_seq FROM parties WHERE id = 'farm-a'").fetchone()[0]
    env = b.envelope("revocation", "operator", {"entry": inception, "reason": "gone"})
    expect_refusal(b.ledger, env, "revocation-refused", 422, "statement.body.entry")


# -- the operator's own keys -------------------------------------------------------------


def test_operator_rotation_moves_checkpoints_to_the_new_key(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    led = b.ledger
    old_vkey = led.verifier.to_text()
    old = b.keys["operator"]
    rot = b.rotate("operator")
    assert led.verifier.to_text() != old_vkey and led.info()["vkey"] == led.verifier.to_text()
    assert led.latest_checkpoint().checkpoint.size == rot + 1
    assert led.verifier.public == b.keys["operator"].public
    # The batch of the rotation itself is signed with the new key; the one before with the old.
    from ledger.tlog.note import SignedCheckpoint

    SignedCheckpoint.open(led.checkpoint(rot + 1).note, led.verifier)
    SignedCheckpoint.open(led.checkpoint(rot).note, led.verifier_at(rot))
    assert led.verifier_at(rot).public == old.public
    # The old key can no longer speak for the operator.
    env = b.envelope("suspension", "operator", {"party": "farm-a", "reason": "x"}, old)
    expect_refusal(led, env, "key-not-active", 403, "signature.key_id")
    b.suspend("farm-a")
    assert verify_ledger(led.conn).ok
    home = led.home
    led.close()
    with Ledger.open(home) as again:  # the home holds the new key
        assert again.verifier.public == b.keys["operator"].public
        again.append_one(
            Builder(again, seed="x").envelope(
                "reinstatement", "operator", {"party": "farm-a", "reason": "ok"}
            )
        )
        assert verify_ledger(again.conn).ok


def test_operator_rotation_needs_its_new_key_at_hand(cast: Builder, expect_refusal: Refuse) -> None:
    env, _, _ = cast.rotation_envelope("operator")
    expect_refusal(cast.ledger, env, "operator-key-unavailable", 403, "statement.body.keys")


# -- corrects (SPEC §6) ------------------------------------------------------------------


def test_corrects_names_a_revoked_entry_of_the_same_issuer(cast: Builder, expect_refusal: Refuse) -> None:
    b = cast
    wrong = b.origin("farm-a", "lot-c", "cotton", "10", "kg", country="PK", produced_on="2025-05-01")
    other = b.origin("mine-a", "ore-c", "cobalt", "1", "t", country="CD", produced_on="2025-05-01")
    fixed = dict(origin_body("lot-c"), corrects=wrong)
    err = expect_refusal(
        b.ledger,
        b.envelope("material-origin", "farm-a", fixed),
        "rule-violation",
        422,
        "statement.body.corrects",
    )
    assert "not revoked" in err.message
    b.revoke("farm-a", wrong, "wrong country")
    b.revoke("mine-a", other, "test")
    theirs = dict(origin_body("lot-d"), corrects=other)
    expect_refusal(
        b.ledger,
        b.envelope("material-origin", "farm-a", theirs),
        "revocation-not-allowed",
        403,
        "statement.body.corrects",
    )
    later = dict(origin_body("lot-d"), corrects=10_000)
    expect_refusal(
        b.ledger,
        b.envelope("material-origin", "farm-a", later),
        "unknown-entry",
        422,
        "statement.body.corrects",
    )
    seq = b.submit(b.envelope("material-origin", "farm-a", fixed))
    assert b.ledger.entry(seq).statement.body["corrects"] == wrong
    assert verify_ledger(b.ledger.conn).ok


def test_identity_statements_carry_no_corrects(cast: Builder, expect_refusal: Refuse, sign_raw: Any) -> None:
    body = {"party": "farm-a", "reason": "x", "corrects": 1}
    st = cast.statement("suspension", "operator", body)
    expect_refusal(
        cast.ledger, sign_raw(st, cast.keys["operator"]), "unknown-field", 400, "statement.body.corrects"
    )
