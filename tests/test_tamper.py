"""Attacks on the stored ledger (SPEC §5, §8, §11): each case damages a COPY of ledger.db
with sqlite3 directly, as someone with the file (but not the operator key) could, and
expects ``verify`` to report it, naming the seq at fault.

Truncation, rollback and forks need a checkpoint kept elsewhere (``--checkpoint``), or a
consistency proof between two checkpoints a client kept: those have their own tests below.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.audit.verify import Report, verify_ledger
from ledger.core.ledger import Ledger
from ledger.crypto.canonical import jcs
from ledger.crypto.keys import PrivateKey, b64
from ledger.demo.builder import Builder
from ledger.errors import RootMismatch
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Signer

ORIGIN = "ledger.test/provenance"
NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
PROVENANCE = Path(sys.executable).with_name("provenance")
GTIN = "09506000134352"


@dataclass
class Base:
    """A small ledger built once for this module; tests damage copies of it."""

    home: Path
    seq: dict[str, int]
    keys: dict[str, PrivateKey]
    size: int
    checkpoint_sizes: list[int]


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator keys here are not encrypted: ignore a passphrase set outside."""
    monkeypatch.delenv("PROVENANCE_KEY_PASSPHRASE", raising=False)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PROVENANCE_KEY_PASSPHRASE", raising=False)
        yield _build_base(tmp_path_factory.mktemp("base") / "home")


def _build_base(home: Path) -> Base:
    led = Ledger.init(home, ORIGIN, clock=lambda: NOW)
    b = Builder(led, seed="tamper-tests")
    seq: dict[str, int] = {}
    with b.batch():
        for pid, role, country in (
            ("farm-a", "farm", "IN"),
            ("proc-a", "processor", "IN"),
            ("make-a", "manufacturer", "BD"),
            ("brand-a", "brand", "SE"),
            ("trade-a", "trader", "HK"),
            ("audit-a", "auditor", "CH"),
        ):
            b.party(pid, pid.title(), role, country)
    # Inceptions, in the order of the batch above (each party: its inception, its admission).
    seq["party_farm"], seq["party_trade"] = 1, 9
    with b.batch():  # inside a batch, the builder answers the seq each statement will get
        seq["origin"] = b.origin(
            "farm-a", "cot-1", "cotton", "1000", "kg", country="IN", produced_on="2025-05-01"
        )
        seq["ship_cotton"] = b.ship("farm-a", "cot-1", "600", "kg", "proc-a", "2025-05-02")  # and its receipt
    seq["spin"] = b.transform(
        "proc-a", "spinning", "2025-05-03", [("cot-1", "500", "kg")], [("yarn-1", "cotton yarn", "400", "kg")]
    )
    seq["ship_yarn"] = b.ship("proc-a", "yarn-1", "400", "kg", "make-a", "2025-05-04")
    seq["rotation"] = b.rotate("farm-a")
    seq["origin_2"] = b.origin(
        "farm-a", "cot-2", "cotton", "80", "kg", country="IN", produced_on="2025-05-05"
    )
    seq["sew"] = b.transform(
        "make-a", "sewing", "2025-05-05", [("yarn-1", "300", "kg")], [("tee-1", "t-shirt", "1000", "pcs")]
    )
    seq["ship_tees"] = b.ship("make-a", "tee-1", "800", "pcs", "brand-a", "2025-05-06")
    seq["product"] = b.product("brand-a", GTIN, "B1", "Tee", [("tee-1", "100", "pcs")])
    seq["audit"] = b.audit(
        "audit-a", "proc-a", standard="SA8000", audit_date="2025-04-01", valid_until="2026-04-01"
    )
    seq["ship_trader"] = b.ship("farm-a", "cot-2", "50", "kg", "trade-a", "2025-05-07")
    seq["revocation"] = b.revoke("farm-a", seq["ship_trader"], "wrong buyer")
    size = led.size
    sizes = [r[0] for r in led.conn.execute("SELECT size FROM checkpoints ORDER BY size")]
    keys = dict(b.keys)
    assert [
        led.entry(seq["party_farm"]).statement.body["party"],
        led.entry(seq["party_trade"]).statement.body["party"],
    ] == ["farm-a", "trade-a"]
    assert verify_ledger(led.conn).ok
    led.close()
    return Base(home, seq, keys, size, sizes)


def copy_home(src: Path, dst: Path, *, with_key: bool = False) -> Path:
    """A consistent copy of a ledger home (the SQLite backup API, so the WAL comes along)."""
    dst.mkdir(parents=True)
    with sqlite3.connect(src / "ledger.db") as a, sqlite3.connect(dst / "ledger.db") as b:
        a.backup(b)
    a.close()
    b.close()
    if with_key:
        shutil.copy2(src / "operator.key", dst / "operator.key")
    return dst


def audit(home: Path, external: str | None = None) -> Report:
    with Ledger.open(home, readonly=True) as led:
        return verify_ledger(led.conn, external=external)


def problems_at(report: Report, seq: int | None, fragment: str) -> list[str]:
    return [p.message for p in report.problems if p.seq == seq and fragment in p.message]


def run_verify(home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    return subprocess.run(
        [str(PROVENANCE), "verify", "--home", str(home), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


# -- the damage -----------------------------------------------------------------------------

Tamper = Callable[[sqlite3.Connection, Base], None]


def _entry(conn: sqlite3.Connection, seq: int) -> dict:
    row = conn.execute("SELECT canonical FROM entries WHERE seq = ?", (seq,)).fetchone()
    return json.loads(row[0])


def _store(conn: sqlite3.Connection, seq: int, entry: dict, *, rehash: bool = True) -> None:
    canonical = jcs(entry)
    conn.execute("UPDATE entries SET canonical = ? WHERE seq = ?", (canonical, seq))
    if rehash:
        conn.execute("UPDATE entries SET hash = ? WHERE seq = ?", (merkle.leaf_hash(canonical), seq))


def edit_body(seq_name: str, rehash: bool) -> Tamper:
    def tamper(conn: sqlite3.Connection, base: Base) -> None:
        seq = base.seq[seq_name]
        entry = _entry(conn, seq)
        entry["statement"]["body"]["amount"] = "900"
        _store(conn, seq, entry, rehash=rehash)

    return tamper


def edit_signature(conn: sqlite3.Connection, base: Base) -> None:
    seq = base.seq["ship_yarn"]
    entry = _entry(conn, seq)
    entry["signature"]["sig"] = b64(base.keys["proc-a"].sign(b"something else"))
    _store(conn, seq, entry)


def resign_with_own_key(conn: sqlite3.Connection, base: Base) -> None:
    """A forged statement with a well-formed signature by a key of the attacker's."""
    seq = base.seq["ship_yarn"]
    entry = _entry(conn, seq)
    entry["statement"]["body"]["amount"] = "40"
    attacker = PrivateKey.from_seed(b"\x66" * 32)
    entry["signature"] = {
        "key_id": attacker.public.key_id,
        "sig": b64(attacker.sign(b"provenance-ledger/v1 statement\n" + jcs(entry["statement"]))),
    }
    _store(conn, seq, entry)


def delete_entry(seq_name: str) -> Tamper:
    def tamper(conn: sqlite3.Connection, base: Base) -> None:
        conn.execute("DELETE FROM entries WHERE seq = ?", (base.seq[seq_name],))

    return tamper


def swap_entries(conn: sqlite3.Connection, base: Base) -> None:
    a, b = base.seq["sew"], base.seq["ship_tees"]
    cols = "hash, canonical, type, issuer, stmt_id, recorded_at"
    ra = conn.execute(f"SELECT {cols} FROM entries WHERE seq = ?", (a,)).fetchone()
    rb = conn.execute(f"SELECT {cols} FROM entries WHERE seq = ?", (b,)).fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    conn.execute(f"UPDATE entries SET {sets} WHERE seq = ?", (*rb, a))
    conn.execute(f"UPDATE entries SET {sets} WHERE seq = ?", (*ra, b))


def change_issuer_column(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE entries SET issuer = 'farm-a' WHERE seq = ?", (base.seq["ship_yarn"],))


def change_issuer_in_statement(conn: sqlite3.Connection, base: Base) -> None:
    seq = base.seq["ship_tees"]
    entry = _entry(conn, seq)
    entry["statement"]["issuer"] = "trade-a"
    _store(conn, seq, entry)
    conn.execute("UPDATE entries SET issuer = 'trade-a' WHERE seq = ?", (seq,))


def change_recorded_at(conn: sqlite3.Connection, base: Base) -> None:
    seq = base.seq["spin"]
    entry = _entry(conn, seq)
    entry["recorded_at"] = "2020-01-01T00:00:00.000Z"
    _store(conn, seq, entry)
    conn.execute("UPDATE entries SET recorded_at = ? WHERE seq = ?", (entry["recorded_at"], seq))


def non_canonical_bytes(conn: sqlite3.Connection, base: Base) -> None:
    seq = base.seq["audit"]
    entry = _entry(conn, seq)
    canonical = json.dumps(entry, indent=1).encode()
    conn.execute(
        "UPDATE entries SET canonical = ?, hash = ? WHERE seq = ?",
        (canonical, merkle.leaf_hash(canonical), seq),
    )


def edit_holdings_balance(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE holdings SET balance = '4000' WHERE lot = 'cot-1' AND party = 'farm-a'")


def delete_holdings_row(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("DELETE FROM holdings WHERE lot = 'tee-1' AND party = 'brand-a'")


def add_holdings_row(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("INSERT INTO holdings (lot, party, balance) VALUES ('tee-1', 'trade-a', '500')")


def replace_active_key(conn: sqlite3.Connection, base: Base) -> None:
    attacker = PrivateKey.from_seed(b"\x67" * 32).public
    conn.execute("UPDATE keys SET public = ? WHERE party = 'farm-a' AND until_seq IS NULL", (attacker.b64,))


def reactivate_retired_key(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE keys SET until_seq = NULL WHERE party = 'farm-a'")


def add_key(conn: sqlite3.Connection, base: Base) -> None:
    attacker = PrivateKey.from_seed(b"\x68" * 32).public
    conn.execute(
        "INSERT INTO keys (party, key_id, public, from_seq, until_seq) VALUES ('brand-a', ?, ?, ?, NULL)",
        (attacker.key_id, attacker.b64, base.seq["product"]),
    )


def change_party_role(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE parties SET role = 'brand' WHERE id = 'trade-a'")


def change_lot_amount(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE lots SET amount = '2000' WHERE lot = 'cot-1'")


def forget_revocation(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("DELETE FROM revocations")


def forget_statement_id(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("DELETE FROM statement_ids WHERE seq = ?", (base.seq["audit"],))


def edit_merkle_node(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE nodes SET hash = ? WHERE level = 0 AND idx = ?", (b"\x00" * 32, base.seq["spin"]))


def edit_checkpoint_root(conn: sqlite3.Connection, base: Base) -> None:
    size = base.seq["spin"] + 1
    conn.execute("UPDATE checkpoints SET root = ? WHERE size = ?", (b"\x01" * 32, size))


def forge_checkpoint(conn: sqlite3.Connection, base: Base) -> None:
    size = base.seq["spin"] + 1
    forger = Signer(ORIGIN, PrivateKey.from_seed(b"\x69" * 32))
    note = SignedCheckpoint.sign(Checkpoint(ORIGIN, size, b"\x02" * 32), forger).note
    conn.execute("UPDATE checkpoints SET note = ?, root = ? WHERE size = ?", (note, b"\x02" * 32, size))


def edit_origin(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("UPDATE meta SET value = 'evil.test/ledger' WHERE key = 'origin'")


def delete_latest_checkpoint(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("DELETE FROM checkpoints WHERE size = ?", (base.size,))


def delete_merkle_node(conn: sqlite3.Connection, base: Base) -> None:
    conn.execute("DELETE FROM nodes WHERE level = 1 AND idx = ?", (base.seq["spin"] // 2,))


def replay_as_new_entry(conn: sqlite3.Connection, base: Base) -> None:
    """An old envelope (the yarn shipment) appended again as a new, well-chained entry."""
    last = _entry(conn, base.size - 1)
    old = _entry(conn, base.seq["ship_yarn"])
    prev = merkle.leaf_hash(jcs(last)).hex()
    entry = {
        "seq": base.size,
        "prev": prev,
        "recorded_at": last["recorded_at"],
        "statement": old["statement"],
        "signature": old["signature"],
    }
    canonical = jcs(entry)
    st = old["statement"]
    conn.execute(
        "INSERT INTO entries (seq, hash, canonical, type, issuer, stmt_id, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            base.size,
            merkle.leaf_hash(canonical),
            canonical,
            st["type"],
            st["issuer"],
            st["id"],
            entry["recorded_at"],
        ),
    )


# (name, damage, seq reported (a Base.seq name, an int, or a function of Base), message part)
CASES: list[tuple[str, Tamper, Callable[[Base], int | None], str]] = [
    (
        "statement-body-edited",
        edit_body("ship_yarn", rehash=True),
        lambda b: b.seq["ship_yarn"],
        "signature does not verify",
    ),
    (
        "statement-body-edited-chain-broken",
        edit_body("ship_yarn", rehash=True),
        lambda b: b.seq["ship_yarn"] + 1,
        "hash chain is broken",
    ),
    (
        "statement-body-edited-hash-kept",
        edit_body("ship_yarn", rehash=False),
        lambda b: b.seq["ship_yarn"],
        "stored entry hash does not match",
    ),
    ("signature-edited", edit_signature, lambda b: b.seq["ship_yarn"], "signature does not verify"),
    ("resigned-with-attackers-key", resign_with_own_key, lambda b: b.seq["ship_yarn"], "unknown-key"),
    ("entry-deleted-in-the-middle", delete_entry("spin"), lambda b: b.seq["spin"], "missing"),
    ("entries-swapped", swap_entries, lambda b: b.seq["sew"], "is stored at seq"),
    ("entries-swapped-second", swap_entries, lambda b: b.seq["ship_tees"], "is stored at seq"),
    ("issuer-column-changed", change_issuer_column, lambda b: b.seq["ship_yarn"], "index columns"),
    (
        "issuer-in-statement-changed",
        change_issuer_in_statement,
        lambda b: b.seq["ship_tees"],
        "replay refuses this entry",
    ),
    ("recorded-at-moved-back", change_recorded_at, lambda b: b.seq["spin"], "goes back"),
    ("non-canonical-bytes", non_canonical_bytes, lambda b: b.seq["audit"], "canonical"),
    # farm-a's balance of cot-1 was last named by its shipment to proc-a and that shipment's
    # receipt (right after it), which names the lot and its sender
    (
        "holdings-balance-edited",
        edit_holdings_balance,
        lambda b: b.seq["ship_cotton"] + 1,
        "derived table holdings",
    ),
    ("keys-public-key-replaced", replace_active_key, lambda b: b.seq["rotation"], "derived table keys"),
    (
        "keys-retired-key-reactivated",
        reactivate_retired_key,
        lambda b: b.seq["party_farm"],
        "derived table keys",
    ),
    ("keys-key-added", add_key, lambda b: b.seq["product"], "derived table keys"),
    ("parties-role-changed", change_party_role, lambda b: b.seq["party_trade"], "derived table parties"),
    ("lots-amount-edited", change_lot_amount, lambda b: b.seq["origin"], "derived table lots"),
    ("revocation-forgotten", forget_revocation, lambda b: b.seq["revocation"], "derived table revocations"),
    ("statement-id-forgotten", forget_statement_id, lambda b: b.seq["audit"], "derived table statement_ids"),
    ("merkle-node-edited", edit_merkle_node, lambda b: b.seq["spin"], "stored Merkle node"),
    (
        "checkpoint-row-root-edited",
        edit_checkpoint_root,
        lambda b: b.seq["spin"],
        "does not match its signed note",
    ),
    ("checkpoint-forged", forge_checkpoint, lambda b: b.seq["spin"], "does not verify"),
    ("origin-renamed", edit_origin, lambda b: 0, "genesis origin"),
    (
        "latest-checkpoint-deleted",
        delete_latest_checkpoint,
        lambda b: b.checkpoint_sizes[-2],
        "not covered by any checkpoint",
    ),
    ("merkle-node-deleted", delete_merkle_node, lambda b: b.seq["spin"] // 2 * 2, "is missing"),
    (
        "envelope-replayed-as-new-entry",
        replay_as_new_entry,
        lambda b: b.size,
        "replay refuses this entry: replay",
    ),
    ("envelope-replayed-not-covered", replay_as_new_entry, lambda b: b.size, "not covered by any checkpoint"),
]


@pytest.mark.parametrize(("damage", "where", "what"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_damage_is_reported_at_its_seq(base, tmp_path, damage, where, what):
    home = copy_home(base.home, tmp_path / "copy")
    with sqlite3.connect(home / "ledger.db") as conn:
        damage(conn, base)
    conn.close()
    report = audit(home)
    assert not report.ok
    seq = where(base)
    assert problems_at(report, seq, what), "\n".join(map(str, report.problems))


HOLDINGS_ROWS = [
    # brand-a's holding of tee-1 was last changed by the product that used 100 pcs of it;
    # trade-a never held tee-1, so the lot's last entry (the same product) is named.
    ("holdings-row-deleted", delete_holdings_row, "product"),
    ("holdings-row-added", add_holdings_row, "product"),
]


@pytest.mark.parametrize(
    ("damage", "step"), [c[1:] for c in HOLDINGS_ROWS], ids=[c[0] for c in HOLDINGS_ROWS]
)
def test_holdings_row_added_or_deleted_is_reported_at_its_seq(base, tmp_path, damage, step):
    home = copy_home(base.home, tmp_path / "copy")
    with sqlite3.connect(home / "ledger.db") as conn:
        damage(conn, base)
    conn.close()
    report = audit(home)
    assert problems_at(report, base.seq[step], "derived table holdings"), "\n".join(map(str, report.problems))


@pytest.mark.parametrize(
    ("damage", "step"), [c[1:] for c in HOLDINGS_ROWS], ids=[c[0] for c in HOLDINGS_ROWS]
)
def test_holdings_row_added_or_deleted_is_reported(base, tmp_path, damage, step):
    home = copy_home(base.home, tmp_path / "copy")
    with sqlite3.connect(home / "ledger.db") as conn:
        damage(conn, base)
    conn.close()
    report = audit(home)
    assert any("derived table holdings" in p.message for p in report.problems)


def test_an_untouched_copy_verifies(base, tmp_path):
    home = copy_home(base.home, tmp_path / "copy")
    report = audit(home)
    assert report.ok, report.problems
    assert report.size == base.size


CLI_CASES = [
    c
    for c in CASES
    if c[0] in ("statement-body-edited", "entry-deleted-in-the-middle", "holdings-balance-edited")
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "where", "what"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_provenance_verify_reports_damage(base, tmp_path, damage, where, what):
    home = copy_home(base.home, tmp_path / "copy")
    with sqlite3.connect(home / "ledger.db") as conn:
        damage(conn, base)
    conn.close()
    done = run_verify(home)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"seq {where(base)}: ") and what in line for line in lines), lines


# -- truncation, rollback and forks: caught against a checkpoint kept elsewhere -------------


def grow(home: Path, base: Base, lots: list[str], *, seed: str) -> str:
    """Append one batch (origins of ``lots`` by proc-a) with the operator key copied along;
    return the latest checkpoint."""
    with Ledger.open(home, clock=lambda: NOW) as led:
        b = Builder(led, seed=seed)
        b.keys.update(base.keys)
        with b.batch():
            for lot in lots:
                b.origin("proc-a", lot, "recycled cotton", "5", "kg", country="IN", produced_on="2025-05-20")
        return led.latest_checkpoint().note


@pytest.fixture
def grown(base: Base, tmp_path: Path) -> tuple[Path, Path, str, str]:
    """(older copy, newer home, checkpoint of the older, checkpoint of the newer)."""
    newer = copy_home(base.home, tmp_path / "newer", with_key=True)
    old_note = grow(newer, base, ["re-1", "re-2"], seed="grow-1")
    older = copy_home(newer, tmp_path / "older")
    new_note = grow(newer, base, ["re-3", "re-4", "re-5"], seed="grow-2")
    return older, newer, old_note, new_note


def test_truncation_that_leaves_no_trace_needs_a_kept_checkpoint(grown, tmp_path):
    older, newer, old_note, new_note = grown
    # delete the last batch, its checkpoint and its Merkle nodes, and restore the derived
    # tables to what they were: a careful attacker
    home = copy_home(newer, tmp_path / "cut")
    with sqlite3.connect(home / "ledger.db") as conn:
        size = int(old_note.split("\n")[1])
        conn.execute("DELETE FROM entries WHERE seq >= ?", (size,))
        conn.execute("DELETE FROM checkpoints WHERE size > ?", (size,))
        for level in range(8):
            conn.execute("DELETE FROM nodes WHERE level = ? AND (idx + 1) * ? > ?", (level, 1 << level, size))
        conn.execute("ATTACH DATABASE ? AS old", (str(older / "ledger.db"),))
        for (table,) in conn.execute(
            "SELECT name FROM old.sqlite_master WHERE type = 'table'"
            " AND name NOT IN ('entries', 'nodes', 'checkpoints', 'meta')"
        ).fetchall():
            conn.execute(f"DELETE FROM main.{table}")
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")
        conn.commit()
        conn.execute("DETACH DATABASE old")
    conn.close()
    assert audit(home).ok, "nothing inside the file betrays the cut"
    report = audit(home, external=new_note)
    assert problems_at(report, size, "entries were removed"), report.problems
    done = run_verify(home, "--checkpoint", str(_write(tmp_path / "kept.txt", new_note)))
    assert done.returncode == 1 and f"seq {size}: " in done.stdout


def test_sloppy_truncation_is_reported_without_a_kept_checkpoint(grown, tmp_path):
    _, newer, old_note, _ = grown
    home = copy_home(newer, tmp_path / "cut")
    size = int(old_note.split("\n")[1])
    with sqlite3.connect(home / "ledger.db") as conn:
        conn.execute("DELETE FROM entries WHERE seq >= ?", (size,))
    conn.close()
    report = audit(home)
    assert problems_at(report, size, "entries were removed"), report.problems


def test_rollback_to_an_older_copy_is_caught_by_a_newer_kept_checkpoint(grown, tmp_path):
    older, _, old_note, new_note = grown
    assert audit(older).ok
    report = audit(older, external=new_note)
    size = int(old_note.split("\n")[1])
    assert problems_at(report, size, "entries were removed"), report.problems
    kept = _write(tmp_path / "kept.txt", new_note)
    done = run_verify(older, "--checkpoint", str(kept))
    assert done.returncode == 1
    assert f"seq {size}: " in done.stdout
    # the older kept checkpoint is still fine
    assert audit(older, external=old_note).ok


def test_another_ledger_under_the_same_origin_fails_the_kept_checkpoint(base, tmp_path):
    other = Ledger.init(tmp_path / "other", ORIGIN, clock=lambda: NOW)
    other.close()
    kept = tmp_path / "kept.txt"
    with Ledger.open(base.home, readonly=True) as led:
        kept.write_text(led.latest_checkpoint().note)
    report = audit(tmp_path / "other", external=kept.read_text())
    assert any("not signed by this ledger's key" in p.message for p in report.problems)
    done = run_verify(tmp_path / "other", "--checkpoint", str(kept))
    assert done.returncode == 1 and "not signed by this ledger's key" in done.stdout


def test_a_fork_with_the_same_operator_key_is_caught(base, tmp_path):
    """Two copies of one ledger grow apart, both signed with the operator's key."""
    a = copy_home(base.home, tmp_path / "a", with_key=True)
    b = copy_home(base.home, tmp_path / "b", with_key=True)
    note_a = grow(a, base, ["fork-a1", "fork-a2"], seed="fork-a")
    note_b = grow(b, base, ["fork-b1", "fork-b2"], seed="fork-b")
    size = int(note_a.split("\n")[1])
    assert size == int(note_b.split("\n")[1]) and note_a != note_b
    # each copy is consistent in itself
    assert audit(a).ok and audit(b).ok
    report = audit(b, external=note_a)
    assert problems_at(report, size - 1, "given checkpoint"), report.problems
    done = run_verify(b, "--checkpoint", str(_write(tmp_path / "kept.txt", note_a)))
    assert done.returncode == 1 and f"seq {size - 1}: " in done.stdout
    # b grows on: still caught, as long as the kept size is covered
    grow(b, base, ["fork-b3"], seed="fork-b2")
    assert problems_at(audit(b, external=note_a), size - 1, "given checkpoint")


def test_consistency_proof_between_kept_checkpoints_catches_a_rewrite(base, tmp_path):
    """A client kept checkpoint A (size m) from the honest ledger; later the operator
    serves a rewritten history and a new checkpoint of it: the consistency proof fails."""
    honest = copy_home(base.home, tmp_path / "honest", with_key=True)
    kept_old = grow(honest, base, ["h-1", "h-2"], seed="honest")
    rewritten = copy_home(base.home, tmp_path / "rewritten", with_key=True)
    grow(rewritten, base, ["r-1", "r-2"], seed="rewrite")
    kept_new = grow(rewritten, base, ["r-3"], seed="rewrite-2")
    with Ledger.open(rewritten, readonly=True) as led:
        old = SignedCheckpoint.open(kept_old, led.verifier).checkpoint
        new = SignedCheckpoint.open(kept_new, led.verifier).checkpoint
        proof = led.consistency_proof(old.size, new.size)
    with pytest.raises(RootMismatch):
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof.hashes)
    # the honest ledger's own growth passes the same check
    kept_later = grow(honest, base, ["h-3"], seed="honest-2")
    with Ledger.open(honest, readonly=True) as led:
        later = SignedCheckpoint.open(kept_later, led.verifier).checkpoint
        proof = led.consistency_proof(old.size, later.size)
    merkle.verify_consistency(old.size, later.size, old.root, later.root, proof.hashes)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- a ledger large enough that verify checks signatures on several processes -------------


@pytest.mark.slow
def test_forged_signature_is_found_among_many(base, tmp_path):
    home = copy_home(base.home, tmp_path / "big", with_key=True)
    with Ledger.open(home, clock=lambda: NOW) as led:
        b = Builder(led, seed="big")
        b.keys.update(base.keys)
        envelopes = [
            b.envelope(
                "material-origin",
                "proc-a",
                {
                    "lot": f"big-{i}",
                    "material": "recycled cotton",
                    "quantity": {"amount": "1", "unit": "kg"},
                    "origin": {"country": "IN"},
                    "produced_on": "2025-05-20",
                    "certifications": [],
                },
            )
            for i in range(1100)
        ]
        led.append(envelopes)
        size = led.size
    victim = size - 300
    with sqlite3.connect(home / "ledger.db") as conn:
        entry = _entry(conn, victim)
        sig = bytearray(base64.b64decode(entry["signature"]["sig"]))
        sig[0] ^= 0x80
        entry["signature"]["sig"] = b64(bytes(sig))
        _store(conn, victim, entry)
    conn.close()
    report = audit(home)
    assert problems_at(report, victim, "signature does not verify"), report.problems
    assert not [p for p in report.problems if "signature" in p.message and p.seq != victim]


# -- damage that breaks more than one row: the audit still names it, never a traceback ------


def _damage(home: Path, sql: str) -> None:
    with sqlite3.connect(home / "ledger.db") as conn:
        conn.execute(sql)
    conn.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sql", "seq", "fragment"),
    [
        ("UPDATE entries SET canonical = X'FFFE' WHERE seq = 0", 0, "genesis"),
        ("DROP TABLE holdings", None, "derived table holdings"),
    ],
    ids=["genesis-bytes-garbled", "derived-table-dropped"],
)
def test_verify_reports_structural_damage_in_one_line_each(base, tmp_path, sql, seq, fragment):
    home = copy_home(base.home, tmp_path / "copy")
    _damage(home, sql)
    done = run_verify(home)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    prefix = f"seq {seq}: " if seq is not None else ""
    assert any(line.startswith(prefix) and fragment in line for line in done.stdout.splitlines()), done.stdout


@pytest.mark.slow
def test_verify_of_a_truncated_file_is_one_clear_line(base, tmp_path):
    home = copy_home(base.home, tmp_path / "copy")
    with (home / "ledger.db").open("r+b") as f:
        f.truncate(8192)
    done = run_verify(home)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "cannot be read" in done.stdout + done.stderr


@pytest.mark.slow
def test_show_of_a_garbled_entry_is_one_error_line(base, tmp_path):
    home = copy_home(base.home, tmp_path / "copy")
    _damage(home, "UPDATE entries SET canonical = X'FFFE' WHERE seq = 3")
    done = subprocess.run([str(PROVENANCE), "show", "3", "--home", str(home)], capture_output=True, text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: integrity:") and "entry 3" in done.stderr


def test_a_holding_whose_lot_entry_is_garbled_is_named_at_the_lot_entry(base, tmp_path):
    home = copy_home(base.home, tmp_path / "copy")
    _damage(home, f"UPDATE entries SET canonical = X'FFFE' WHERE seq = {base.seq['origin']}")
    report = audit(home)
    lines = [p for p in report.problems if "derived table holdings" in p.message]
    assert lines and all(p.seq is not None for p in lines), [str(p) for p in report.problems]


def test_a_garbled_genesis_still_leaves_chain_and_tree_checked(base, tmp_path):
    """Without genesis nothing can be replayed or signature-checked, but damage elsewhere is
    still found: here an entry whose bytes changed, at its seq."""
    home = copy_home(base.home, tmp_path / "copy")
    _damage(home, "UPDATE entries SET canonical = X'FFFE' WHERE seq = 0")
    _damage(
        home,
        f"UPDATE entries SET canonical = CAST(replace(CAST(canonical AS TEXT), '\"cot-1\"',"
        f" '\"cot-X\"') AS BLOB) WHERE seq = {base.seq['ship_cotton']}",
    )
    done = run_verify(home)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"seq {base.seq['ship_cotton']}: stored entry hash does not match" in done.stdout, done.stdout
