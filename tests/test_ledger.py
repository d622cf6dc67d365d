"""The ledger facade (SPEC §5, §8, §9): entries, batches, checkpoints and proofs, and many
processes appending to one ledger at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import origin_envelope

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.crypto.canonical import jcs
from ledger.crypto.keys import PrivateKey
from ledger.demo.builder import Builder
from ledger.errors import ConfigError, LedgerError, NotFound, ProofError, RootMismatch
from ledger.model.identity import digest
from ledger.model.statements import ZERO_HASH, Envelope
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint, Verifier

PROVENANCE = Path(sys.executable).with_name("provenance")


def origin_body(lot: str, amount: str = "100") -> dict[str, Any]:
    return {
        "lot": lot,
        "material": "cotton",
        "quantity": {"amount": amount, "unit": "kg"},
        "origin": {"country": "IN"},
        "produced_on": "2025-05-20",
        "certifications": [],
    }


def ship_body(lot: str, amount: str, to: str) -> dict[str, Any]:
    return {"lot": lot, "amount": amount, "unit": "kg", "to": to, "shipped_on": "2025-05-21"}


def opened(led: Ledger, note: str) -> SignedCheckpoint:
    """Parse a checkpoint note with the ledger's verifier key, as an outside client would."""
    vkey = Verifier.from_text(led.info()["vkey"])
    return SignedCheckpoint.open(note, vkey)


def checkpoint_rows(led: Ledger) -> list[tuple[int, str]]:
    rows = led.conn.execute("SELECT size, note FROM checkpoints ORDER BY size")
    return [(int(s), n) for s, n in rows]


def leaf_hashes(led: Ledger) -> list[bytes]:
    return [merkle.leaf_hash(led.canonical(seq)) for seq in range(led.size)]


# -- life cycle -----------------------------------------------------------------------------


def test_init_writes_genesis_signed_by_the_operator(ledger):
    assert ledger.size == 1
    genesis = ledger.entry(0)
    st = genesis.statement
    assert (st.type, st.issuer, genesis.seq, genesis.prev) == ("genesis", "operator", 0, ZERO_HASH)
    next_key = PrivateKey.load(ledger.home / "operator-next.key")
    assert st.body == {
        "origin": ledger.origin,
        "name": "Test Operator",
        "key": ledger.verifier.public.b64,
        "next": [digest(next_key.public.raw)],
    }
    assert genesis.envelope.key_id == ledger.verifier.public.key_id
    genesis.envelope.verify(ledger.verifier.public)
    cp = opened(ledger, ledger.latest_checkpoint().note).checkpoint
    leaf = merkle.leaf_hash(ledger.canonical(0))
    assert (cp.origin, cp.size, cp.root) == (ledger.origin, 1, leaf)


def test_operator_key_is_private(ledger):
    mode = (ledger.home / "operator.key").stat().st_mode & 0o777
    assert mode == 0o600


def test_init_refuses_a_home_that_holds_a_ledger(ledger, clock):
    with pytest.raises(ConfigError, match="already holds a ledger"):
        Ledger.init(ledger.home, "other.test/x", clock=clock)


@pytest.mark.parametrize("origin", ["has space", "a+b", "", "x" * 201, "tab\there", "naïve"])
def test_init_refuses_an_origin_unfit_for_a_note_key_name(tmp_path, origin):
    with pytest.raises(ConfigError, match="origin"):
        Ledger.init(tmp_path / "home", origin)
    assert not (tmp_path / "home" / "ledger.db").exists()


@pytest.mark.parametrize("name", ["x" * 201, "bell\x07"], ids=["201-chars", "control-char"])
def test_init_with_a_bad_name_leaves_the_home_usable(tmp_path, clock, name):
    from ledger.errors import InvalidField

    with pytest.raises(InvalidField):
        Ledger.init(tmp_path / "home", "ledger.test/x", name=name, clock=clock)
    with Ledger.init(tmp_path / "home", "ledger.test/x", clock=clock) as led:
        assert led.size == 1


def test_open_finds_what_init_made(ledger, cast):
    root = ledger.root(ledger.size)
    with Ledger.open(ledger.home) as again:
        assert (again.origin, again.size, again.root(again.size)) == (ledger.origin, 17, root)
        assert again.verifier == ledger.verifier
        assert again.info() == ledger.info()


def test_open_refuses_a_folder_without_a_ledger(tmp_path):
    with pytest.raises(ConfigError, match="no ledger"):
        Ledger.open(tmp_path)


def test_operator_key_that_is_not_genesis_key_is_refused(ledger, cast):
    (ledger.home / "operator.key").unlink()
    PrivateKey.generate().save(ledger.home / "operator.key")
    with Ledger.open(ledger.home) as led, pytest.raises(ConfigError, match="not a current operator key"):
        led.append_one(
            Builder(led, seed="other").envelope(
                "material-origin", "farm-a", origin_body("x-1"), key=cast.key_for("farm-a")
            )
        )


# -- entries --------------------------------------------------------------------------------


def test_entries_are_canonical_and_chained(stocked, cast):
    led = cast.ledger
    prev = ZERO_HASH
    for seq in range(led.size):
        canonical = led.canonical(seq)
        obj = json.loads(canonical)
        assert set(obj) == {"seq", "prev", "recorded_at", "statement", "signature"}
        assert jcs(obj) == canonical, "stored bytes must be JCS(entry) exactly"
        assert (obj["seq"], obj["prev"]) == (seq, prev)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["recorded_at"])
        prev = hashlib.sha256(b"\x00" + canonical).hexdigest()


def test_recorded_at_never_goes_back(cast, clock):
    led = cast.ledger
    clock.advance(seconds=30)
    a = cast.origin("farm-a", "t-1", "cotton", "1", "kg", country="IN", produced_on="2025-05-20")
    clock.advance(seconds=-20)  # the machine's clock jumps back
    b = cast.origin("farm-a", "t-2", "cotton", "1", "kg", country="IN", produced_on="2025-05-20")
    ta, tb = led.entry(a).recorded_at, led.entry(b).recorded_at
    assert tb >= ta
    assert verify_ledger(led.conn).ok


def test_entry_view_is_what_the_api_returns(stocked, cast):
    led = cast.ledger
    cp = led.latest_checkpoint()
    root = opened(led, cp.note).checkpoint.root
    for seq in (0, stocked["spin"], led.size - 1):
        view = led.entry_view(seq)
        assert set(view) == {"seq", "entry_hash", "entry", "canonical", "inclusion_proof", "checkpoint"}
        canonical = base64.b64decode(view["canonical"], validate=True)
        stored = led.conn.execute("SELECT canonical FROM entries WHERE seq = ?", (seq,)).fetchone()[0]
        assert canonical == bytes(stored)
        assert view["entry_hash"] == hashlib.sha256(b"\x00" + canonical).hexdigest()
        assert view["entry"] == json.loads(canonical)
        assert view["checkpoint"] == cp.note
        proof = merkle.InclusionProof.from_json(view["inclusion_proof"])
        assert (proof.leaf_index, proof.tree_size) == (seq, cp.checkpoint.size)
        merkle.verify_inclusion(seq, proof.tree_size, bytes.fromhex(view["entry_hash"]), proof.hashes, root)


def test_reading_an_entry_that_does_not_exist(ledger):
    with pytest.raises(NotFound) as info:
        ledger.entry(1)
    assert info.value.status == 404
    with pytest.raises(NotFound):
        ledger.entry_view(5)


# -- batches --------------------------------------------------------------------------------


def test_batch_appends_the_good_and_refuses_the_bad_with_one_checkpoint(cast, stocked):
    b, led = cast, cast.ledger
    start = led.size
    checkpoints_before = checkpoint_rows(led)
    newcomer = PrivateKey.from_seed(b"\x21" * 32)
    good_origin = b.envelope("material-origin", "farm-a", origin_body("bat-1"))
    batch = [
        good_origin,
        b.envelope("material-origin", "farm-a", origin_body("bat-1")),  # lot made just above
        b.envelope("shipment", "farm-a", ship_body("bat-1", "60", "proc-a")),  # uses the new lot
        b.envelope("shipment", "farm-a", ship_body("bat-1", "41", "proc-a")),  # 40 left
        good_origin,  # replay of the first
        b.envelope(
            "inception",
            "farm-new",
            {
                "party": "farm-new",
                "name": "New Farm",
                "role": "farm",
                "country": "KE",
                "identifiers": {},
                "keys": [newcomer.public.b64],
                "next": [digest(PrivateKey.from_seed(b"\x23" * 32).public.raw)],
            },
            key=newcomer,
        ),
        b.envelope("admission", "operator", {"party": "farm-new", "inception": start + 2, "role": "farm"}),
        b.envelope("material-origin", "farm-new", origin_body("new-1"), key=newcomer),
        b.envelope("material-origin", "farm-zz", origin_body("zz-1"), key=newcomer),
        b.envelope("shipment", "farm-new", ship_body("new-1", "100", "trade-a"), key=newcomer),
    ]
    results = led.append(batch)
    assert len(results) == len(batch)
    outcome = [r.code if isinstance(r, LedgerError) else "ok" for r in results]
    assert outcome == [
        "ok",
        "lot-exists",
        "ok",
        "insufficient-balance",
        "replay",
        "ok",
        "ok",
        "ok",
        "unknown-issuer",
        "ok",
    ]
    assert results[4].to_json()["error"]["seq"] == start
    accepted = [r for r in results if not isinstance(r, LedgerError)]
    # consecutive seqs in the order given, and nothing else appended
    assert [r.entry.seq for r in accepted] == list(range(start, start + 6))
    assert led.size == start + 6
    # exactly one new checkpoint, for the final size, shared by every entry of the batch
    after = checkpoint_rows(led)
    assert after[:-1] == checkpoints_before and len(after) == len(checkpoints_before) + 1
    size, note = after[-1]
    assert size == led.size
    assert {r.checkpoint.note for r in accepted} == {note}
    root = opened(led, note).checkpoint.root
    views = led.appended_views(results)
    for r, view in zip(results, views, strict=True):
        if isinstance(r, LedgerError):
            assert view == r.to_json()
            continue
        proof = merkle.InclusionProof.from_json(view["inclusion_proof"])
        assert proof.tree_size == size
        assert view["checkpoint"] == note
        merkle.verify_inclusion(r.entry.seq, size, r.entry.hash, proof.hashes, root)
    assert verify_ledger(led.conn).ok


def test_batch_of_refusals_changes_nothing(cast, stocked, ledger_state):
    led = cast.ledger
    before = ledger_state(led)
    bad = [
        cast.envelope("material-origin", "farm-a", origin_body("cot-1")),
        cast.envelope("shipment", "trade-a", ship_body("cot-1", "11", "proc-a")),
    ]
    results = led.append(bad)
    assert [r.code for r in results] == ["lot-exists", "insufficient-balance"]
    assert ledger_state(led) == before


def test_empty_batch_changes_nothing(cast, ledger_state):
    before = ledger_state(cast.ledger)
    assert cast.ledger.append([]) == []
    assert ledger_state(cast.ledger) == before


def test_batch_is_one_transaction(cast, stocked, ledger_state):
    """If the checkpoint cannot be signed, nothing of the batch remains."""
    led = cast.ledger
    before = ledger_state(led)
    envelopes = [cast.envelope("material-origin", "farm-a", origin_body(f"tx-{i}")) for i in range(3)]
    key_file = led.home / "operator.key"
    key_file.chmod(0o644)  # the operator key is now refused: checkpoints cannot be signed
    with Ledger.open(led.home) as fresh, pytest.raises(ConfigError, match="mode 0644"):
        fresh.append(envelopes)
    assert ledger_state(led) == before
    key_file.chmod(0o600)
    with Ledger.open(led.home) as fresh:
        assert all(not isinstance(r, LedgerError) for r in fresh.append(envelopes))
    assert led.size == before["size"] + 3


@pytest.mark.parametrize("cut", [22, 19], ids=["to-a-checkpointed-size", "between-checkpoints"])
def test_append_refuses_to_extend_a_truncated_log(cast, ledger_state, cut):
    """Checkpoints at 17 (the cast) and 22; entries cut back to ``cut - 1`` behind the
    ledger's back. Appending must not sign a checkpoint the kept ones contradict."""
    b, led = cast, cast.ledger
    with b.batch():
        for i in range(5):
            b.origin("farm-a", f"cut-{i}", "cotton", "1", "kg", country="IN", produced_on="2025-05-20")
    assert [s for s, _ in checkpoint_rows(led)] == [1, 17, 22]
    size = cut - 1
    with led.conn:
        led.conn.execute("DELETE FROM entries WHERE seq >= ?", (size,))
        for level in range(5):
            led.conn.execute(
                "DELETE FROM nodes WHERE level = ? AND (idx + 1) * ? > ?", (level, 1 << level, size)
            )
    before = ledger_state(led)
    env = b.envelope("material-origin", "farm-a", origin_body("after-cut"))
    with pytest.raises(LedgerError) as info:
        led.append([env])
    assert info.value.code == "integrity" and info.value.status == 500
    assert ledger_state(led) == before


def test_append_stream_refuses_a_bad_signature_and_keeps_the_rest(cast, stocked):
    """The streaming append (the CLI's) checks signatures on other cores; a bad one is
    refused alone and the statements after it still see the good ones before it."""
    b, led = cast, cast.ledger
    start = led.size
    items: list[Any] = []
    for i in range(40):
        items.append(b.envelope("material-origin", "farm-a", origin_body(f"st-{i}")))
    forged = b.envelope("material-origin", "mine-a", origin_body("forged-1"))
    forged = type(forged)(forged.statement, forged.key_id, bytes(64))
    items.insert(17, forged)
    items.append(b.envelope("shipment", "farm-a", ship_body("st-3", "100", "proc-a")))
    items.append(LedgerError("unparsable line"))
    batch = led.append_stream(lambda: iter(items))
    codes = [r.code if isinstance(r, LedgerError) else "ok" for r in batch.results]
    assert codes == ["ok"] * 17 + ["bad-signature"] + ["ok"] * 24 + ["error"]
    assert [r for r in batch.results if isinstance(r, int)] == list(range(start, start + 41))
    assert batch.checkpoint is not None and batch.checkpoint.checkpoint.size == led.size
    assert checkpoint_rows(led)[-1][0] == led.size
    assert verify_ledger(led.conn).ok


def test_a_forged_registration_never_sticks(cast, stocked):
    """An admission 'by the operator' with a bad signature, and statements by the party it
    would admit, in one batch: both ways of appending refuse all of them."""
    b, led = cast, cast.ledger
    evil = PrivateKey.from_seed(b"\x22" * 32)
    inception = b.incept("evil-co", "Evil", "farm", "IN", keys=[evil])
    real = b.envelope(
        "admission", "operator", {"party": "evil-co", "inception": inception, "role": "farm"}, key=evil
    )
    forged = type(real)(real.statement, b.key_for("operator").public.key_id, real.sig)
    dependant = b.envelope("material-origin", "evil-co", origin_body("evil-1"), key=evil)
    honest = b.envelope("material-origin", "farm-a", origin_body("honest-1"))
    batch = led.append_stream(lambda: iter([forged, dependant]))
    assert [r.code for r in batch.results] == ["bad-signature", "not-admitted"]
    assert batch.checkpoint is None
    results = led.append([forged, dependant, honest])
    assert [getattr(r, "code", "ok") for r in results] == ["bad-signature", "not-admitted", "ok"]
    assert verify_ledger(led.conn).ok


@pytest.fixture
def grown(cast: Builder) -> Builder:
    """About 70 entries in batches of many sizes: one checkpoint per batch."""
    b = cast
    n = 0
    for size in (1, 2, 3, 5, 1, 8, 13, 4, 16, 1, 7):
        with b.batch():
            for _ in range(size):
                b.origin("farm-a", f"g-{n}", "cotton", "10", "kg", country="IN", produced_on="2025-05-20")
                n += 1
    return b


def test_checkpoint_is_a_signed_note_per_spec(grown):
    led = grown.ledger
    note = led.latest_checkpoint().note
    body, sig = note.split("\n\n")
    assert body.split("\n") == [led.origin, str(led.size), base64.b64encode(led.root(led.size)).decode()]
    assert re.fullmatch(rf"\u2014 {re.escape(led.origin)} [A-Za-z0-9+/]{{91}}=\n", sig)
    raw = base64.b64decode(sig.split(" ")[-1])
    vkey = led.info()["vkey"]
    name, key_hash, key = vkey.split("+", 2)  # the base64 key may hold "+"
    assert name == led.origin and raw[:4].hex() == key_hash
    assert base64.b64decode(key) == b"\x01" + led.verifier.public.raw
    led.verifier.public.verify(raw[4:], (body + "\n").encode())


def test_one_checkpoint_per_committed_size(grown):
    led = grown.ledger
    sizes = [s for s, _ in checkpoint_rows(led)]
    expected, total = [], 1
    for size in (16, 1, 2, 3, 5, 1, 8, 13, 4, 16, 1, 7):
        total += size
        expected.append(total)
    assert sizes == [1, *expected]
    assert sizes[-1] == led.size == 78


def test_every_proof_verifies_against_the_stored_checkpoints(grown):
    led = grown.ledger
    leaves = leaf_hashes(led)
    n = len(leaves)
    checkpoints = {s: opened(led, note).checkpoint for s, note in checkpoint_rows(led)}
    # the stored roots are the RFC 9162 roots of the entries, for every size
    roots = {size: merkle.mth(leaves[:size]) for size in range(1, n + 1)}
    for size, cp in checkpoints.items():
        assert (cp.origin, cp.root) == (led.origin, roots[size])
    for size in range(1, n + 1):
        assert led.root(size) == roots[size]
        for seq in range(size):
            proof = led.inclusion_proof(seq, size)
            assert (proof.leaf_index, proof.tree_size) == (seq, size)
            merkle.verify_inclusion(seq, size, leaves[seq], proof.hashes, roots[size])
    sizes = sorted(checkpoints)
    for i, old in enumerate(sizes):
        for new in sizes[i:]:
            proof = led.consistency_proof(old, new)
            assert (proof.old_size, proof.new_size) == (old, new)
            merkle.verify_consistency(old, new, checkpoints[old].root, checkpoints[new].root, proof.hashes)
    for old in range(1, n + 1, 3):
        for new in range(old, n + 1, 5):
            merkle.verify_consistency(
                old, new, roots[old], roots[new], led.consistency_proof(old, new).hashes
            )


def test_a_batch_answer_larger_than_the_node_cache_has_a_proof_on_every_line(cast, monkeypatch):
    """The node cache empties itself past its limit to stay flat; a batch whose answer needs
    more nodes than that must still give every line (a 300,000-envelope batch once died
    after about 101,500 lines with a KeyError: the cache emptied after deciding what it had)."""
    from ledger.core.ledger import NodeCache

    monkeypatch.setattr(NodeCache, "LIMIT", 8)
    b = cast
    envelopes = [Envelope.from_json(origin_envelope(b, f"c-{i}")) for i in range(300)]
    led = b.ledger
    batch = led.append_stream(lambda: iter(envelopes))
    lines = [json.loads(line) for line in led.batch_lines(batch)]
    assert [line["seq"] for line in lines] == list(range(led.size - 300, led.size))
    root = led.root(led.size)
    for line in lines:
        proof = line["inclusion_proof"]
        assert proof["tree_size"] == led.size
        merkle.verify_inclusion(
            line["seq"],
            led.size,
            bytes.fromhex(line["entry_hash"]),
            [bytes.fromhex(h) for h in proof["hashes"]],
            root,
        )


def test_proofs_default_to_the_latest_checkpoint_and_round_trip_as_json(grown):
    led = grown.ledger
    proof = led.inclusion_proof(5)
    assert proof.tree_size == led.latest_checkpoint().checkpoint.size
    as_json = proof.to_json()
    assert set(as_json) == {"leaf_index", "tree_size", "hashes"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in as_json["hashes"])
    assert merkle.InclusionProof.from_json(json.loads(json.dumps(as_json))) == proof
    cons = led.consistency_proof(10, 40).to_json()
    assert set(cons) == {"old_size", "new_size", "hashes"}
    assert merkle.ConsistencyProof.from_json(cons) == led.consistency_proof(10, 40)


def test_proof_does_not_verify_for_another_leaf_or_index(grown):
    led = grown.ledger
    leaves, size = leaf_hashes(led), led.size
    root = led.root(size)
    proof = led.inclusion_proof(7, size)
    with pytest.raises(RootMismatch):
        merkle.verify_inclusion(7, size, leaves[8], proof.hashes, root)
    with pytest.raises(RootMismatch):  # 6 and 7 are siblings: same length, another root
        merkle.verify_inclusion(6, size, leaves[7], proof.hashes, root)
    cons = led.consistency_proof(20, size)
    with pytest.raises(RootMismatch):
        merkle.verify_consistency(20, size, led.root(21), root, cons.hashes)


PROOF_RANGES = [
    ("inclusion-seq-at-size", lambda led: led.inclusion_proof(10, 10), "seq"),
    ("inclusion-size-beyond", lambda led: led.inclusion_proof(0, led.size + 1), "size"),
    ("inclusion-size-zero", lambda led: led.inclusion_proof(0, 0), "size"),
    ("inclusion-negative-seq", lambda led: led.inclusion_proof(-1, 5), "seq"),
    ("consistency-old-after-new", lambda led: led.consistency_proof(6, 5), "old"),
    ("consistency-new-beyond", lambda led: led.consistency_proof(1, led.size + 1), "new"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in PROOF_RANGES], ids=[c[0] for c in PROOF_RANGES])
def test_proof_outside_the_tree_is_refused(grown, call, field):
    with pytest.raises(ProofError) as info:
        call(grown.ledger)
    assert info.value.status == 400 and info.value.field == field


# -- many processes at once -----------------------------------------------------------------


@pytest.mark.slow
def test_concurrent_submitters_never_fork_the_log(cast, tmp_path):
    """Four `provenance submit` processes, two files (two batches) each, on one home; some
    envelopes compete: the same envelope in two processes, the same new lot from two farms."""
    b, led = cast, cast.ledger
    home = led.home
    b.origin("farm-a", "pre-1", "cotton", "5", "kg", country="IN", produced_on="2025-05-20")
    shared = b.envelope("material-origin", "farm-a", origin_body("shared-1"))
    files: list[list[Path]] = []
    issuers = ["farm-a", "mine-a", "proc-a", "farm-a"]
    for p, issuer in enumerate(issuers):
        mine = []
        for f in range(2):
            lines = [b.envelope("material-origin", issuer, origin_body(f"p{p}-f{f}-{i}")) for i in range(6)]
            if f == 0 and p in (0, 1):
                lines.insert(3, shared)
            if f == 1 and p in (2, 3):
                lines.insert(2, b.envelope("material-origin", issuer, origin_body("contested")))
            if p == 1 and f == 1:
                lines.insert(0, b.envelope("material-origin", "farm-a", origin_body("pre-1")))
            path = tmp_path / f"p{p}-f{f}.jsonl"
            path.write_text("".join(json.dumps(e.to_json()) + "\n" for e in lines))
            mine.append(path)
        files.append(mine)
    start = led.size
    checkpoints_before = [s for s, _ in checkpoint_rows(led)]
    led.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    procs = [
        subprocess.Popen(
            [str(PROVENANCE), "submit", *map(str, paths), "--home", str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for paths in files
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode in (0, 1), err
        assert "Traceback" not in err
    lines = [[json.loads(line) for line in out.splitlines()] for out, _ in outputs]
    per_file = [len(path.read_text().splitlines()) for paths in files for path in paths]
    assert [len(ls) for ls in lines] == [per_file[2 * p] + per_file[2 * p + 1] for p in range(4)]
    appended = [line for ls in lines for line in ls if "error" not in line]
    refused = [line["error"] for ls in lines for line in ls if "error" in line]
    # exactly one of the two competing copies of each won; the fixed conflict always loses
    assert sorted(e["code"] for e in refused) == ["lot-exists", "lot-exists", "replay"]
    seqs = sorted(line["seq"] for line in appended)
    assert seqs == list(range(start, start + len(appended))), "duplicate or missing seqs"
    # a checkpoint for each committed batch (its last seq + 1) and for no other size
    batch_ends = set()
    for p, ls in enumerate(lines):
        n0 = per_file[2 * p]
        for chunk in (ls[:n0], ls[n0:]):
            ok = [line for line in chunk if "error" not in line]
            if ok:
                size = max(line["seq"] for line in ok) + 1
                assert {line["inclusion_proof"]["tree_size"] for line in ok} == {size}
                assert {line["checkpoint"].split("\n")[1] for line in ok} == {str(size)}
                batch_ends.add(size)
    with Ledger.open(home) as after:
        assert after.size == start + len(appended)
        sizes = [s for s, _ in checkpoint_rows(after)]
        assert sizes == checkpoints_before + sorted(batch_ends)
        for line in appended:
            cp = opened(after, line["checkpoint"]).checkpoint
            merkle.verify_inclusion(
                line["seq"],
                cp.size,
                bytes.fromhex(line["entry_hash"]),
                [bytes.fromhex(h) for h in line["inclusion_proof"]["hashes"]],
                cp.root,
            )
        stored = after.conn.execute("SELECT count(*), count(DISTINCT seq) FROM entries").fetchone()
        assert stored == (after.size, after.size)
    done = subprocess.run(
        [str(PROVENANCE), "verify", "--home", str(home)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(home / "ledger.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_entry_bytes_are_the_jcs_of_the_entry(cast, stocked):
    """Entry.build splices the statement's bytes; they must equal RFC 8785 of the whole entry."""
    import rfc8785

    led = cast.ledger
    for seq in range(led.size):
        entry = led.entry(seq)
        assert entry.canonical == rfc8785.dumps(entry.to_json())
        assert entry.canonical == jcs(json.loads(entry.canonical))
