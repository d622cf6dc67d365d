"""The full audit of a ledger from its raw bytes (``provenance verify``).

Everything is re-derived from ``entries``: the canonical form of each entry, the hash
chain, every signature with the key that was active for its issuer at that seq, every rule
of SPEC §7 by replaying the log into a scratch database, the derived tables against that
replay, every stored Merkle node, and the root and signature of every stored checkpoint.
Given a checkpoint kept elsewhere, it also proves the ledger still extends it, which
catches truncation, rollback and a different ledger posing under the same origin.

Entries are streamed; the replay lives in a temporary file, so memory stays flat.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ledger.audit.workers import Verifier as SignatureVerifier
from ledger.crypto.keys import PublicKey
from ledger.errors import LedgerError
from ledger.model import rules
from ledger.model.identity import keys_at, operator_keys
from ledger.model.statements import ZERO_HASH, Entry
from ledger.store import sqlite as store
from ledger.tlog.merkle import Frontier, leaf_hash
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Verifier


@dataclass(order=True)
class Problem:
    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class Report:
    size: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    def add(self, seq: int | None, message: str) -> None:
        self.problems.append(Problem(seq, message))

    @property
    def ok(self) -> bool:
        return not self.problems


Progress = Callable[[int, int], None]


def verify_ledger(
    conn: sqlite3.Connection, *, external: str | None = None, progress: Progress | None = None
) -> Report:
    """Audit the ledger on ``conn``; ``external`` is a signed checkpoint kept elsewhere."""
    report = Report()
    try:
        with store.read_transaction(conn):
            _verify(conn, report, external, progress)
    except sqlite3.DatabaseError as e:  # not a database, truncated, a record table dropped
        report.add(None, f"the ledger file cannot be read as a ledger: {e}")
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _verify(
    conn: sqlite3.Connection, report: Report, external: str | None, progress: Progress | None
) -> None:
    origin = store.get_meta(conn, "origin")
    if origin is None:
        report.add(None, "meta table has no origin")
        return
    total = store.size(conn)
    report.size = total
    first = store.entry_row(conn, 0)
    if first is None:
        report.add(0, "the ledger has no genesis entry")
        return
    verifier: Verifier | None = None
    try:
        genesis = Entry.from_canonical(first[0])
        verifier = Verifier(origin, _genesis_key(genesis))
        if genesis.statement.body["origin"] != origin:
            report.add(0, f"genesis origin {genesis.statement.body['origin']!r} is not {origin!r}")
    except (LedgerError, KeyError) as e:
        # Without the operator key no signature can be checked and nothing replayed; the
        # chain, the entry hashes, the Merkle nodes and the checkpoint roots still can be.
        report.add(0, f"genesis entry is unreadable: {e}")
        report.add(
            0,
            "without genesis (the operator key) no signature is checked and no rule"
            " replayed; the chain, hashes, Merkle nodes and checkpoint roots are",
        )

    # Checkpoint signatures are checked after the replay, against the operator keys its key
    # events give at each size; the roots are compared while the entries stream by.
    checkpoints = _checkpoints(conn, report)
    wanted_roots: dict[int, list[tuple[str, bytes]]] = {}
    for size, root, _ in checkpoints:
        wanted_roots.setdefault(size, []).append(("stored checkpoint", root))
    outside = _external(external, report)
    if outside is not None:
        if outside.size > total:
            report.add(
                total,
                f"the ledger has {total} entries but the given checkpoint commits to"
                f" {outside.size}: entries were removed (truncation or rollback)",
            )
        else:
            wanted_roots.setdefault(outside.size, []).append(("given checkpoint", outside.root))
    if checkpoints and checkpoints[-1][0] > total:
        report.add(
            total,
            f"a stored checkpoint commits to {checkpoints[-1][0]} entries, the ledger"
            f" has {total}: entries were removed",
        )
    elif checkpoints and checkpoints[-1][0] < total:
        report.add(
            checkpoints[-1][0], f"entries {checkpoints[-1][0]}..{total - 1} are not covered by any checkpoint"
        )

    with tempfile.TemporaryDirectory(prefix="provenance-verify-") as tmp:
        replay = _scratch(Path(tmp) / "replay.db")
        sigs = SignatureVerifier(total)
        frontier = Frontier()
        prev, last_time, expect = ZERO_HASH, "", 0
        gap = False  # after a missing entry, tree positions shift: node checks mean nothing
        node_batch: list[tuple[int, int, bytes]] = []
        issuers = rules.IssuerCache()  # one replay, one transaction: party statements clear it
        for seq, canonical, stored_hash, index in store.iter_entry_rows(conn):
            if seq != expect:
                report.add(expect, f"entries {expect}..{seq - 1} are missing")
                if not gap:
                    report.add(
                        expect,
                        "Merkle nodes and checkpoint roots from here on are not"
                        " checked: the entries they cover are gone",
                    )
                gap, expect = True, seq
            expect += 1
            h = leaf_hash(canonical)
            if h != stored_hash:
                report.add(seq, "stored entry hash does not match the entry's bytes")
            sigs.validate(seq, canonical)  # in full, on another core
            try:
                entry = Entry.unchecked(canonical)
            except (ValueError, KeyError, TypeError, IndexError):  # the validation says why
                prev = h.hex()
                node_batch.extend(frontier.append(h))
                continue
            _check_entry(index, report, seq, entry, prev, last_time)
            prev, last_time = h.hex(), max(last_time, entry.recorded_at)

            def defer(public: bytes, seq: int = seq, entry: Entry = entry) -> None:
                sigs.add(seq, public, entry.statement.message, entry.envelope.sig)

            if verifier is not None:  # without genesis there is nothing to replay against
                _replay(replay, report, seq, entry, h, canonical, defer, issuers)
            node_batch.extend(frontier.append(h))
            if gap:
                node_batch = []
            elif frontier.size in wanted_roots:
                for what, root in wanted_roots[frontier.size]:
                    if frontier.root() != root:
                        report.add(
                            frontier.size - 1,
                            f"the {what} for size {frontier.size} has root {root.hex()},"
                            f" the entries give {frontier.root().hex()}",
                        )
            if len(node_batch) >= 4096:
                _check_nodes(conn, report, node_batch)
                node_batch = []
            if progress and seq % 1000 == 0:
                progress(seq, total)
        _check_nodes(conn, report, node_batch)
        if not gap:
            _check_node_count(conn, report, frontier.size)
        for seq, why in sigs.invalid_entries():
            report.add(seq, f"entry bytes are not a valid canonical entry: {why}")
        for seq in sigs.failures():
            report.add(seq, "signature does not verify with the issuer's key active at this seq")
        if verifier is not None:
            history = operator_keys(replay)
            for size, _, note in checkpoints:
                _check_checkpoint_signature(
                    report, origin, note, history, size, f"checkpoint for size {size}"
                )
            if outside is not None and external is not None:
                _check_checkpoint_signature(
                    report, origin, external, history, min(outside.size, total), "the given checkpoint", False
                )
            _compare_derived(conn, replay, report)
        replay.close()
    if progress:
        progress(total, total)


def _replay(
    replay: sqlite3.Connection,
    report: Report,
    seq: int,
    entry: Entry,
    h: bytes,
    canonical: bytes,
    defer: Callable[[bytes], None],
    issuers: rules.IssuerCache,
) -> None:
    """Apply the rules to ``entry`` in the scratch ledger, as an append would have."""
    st = entry.statement
    try:
        with store.savepoint(replay):
            rules.apply(replay, seq, entry.envelope, entry.recorded_at, defer=defer, cache=issuers)
            store.insert_entry(replay, seq, h, canonical, st.type, st.issuer, st.id, entry.recorded_at)
        return
    except LedgerError as e:
        report.add(seq, f"replay refuses this entry: {e.code}: {e}")
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
        pass  # an entry the validation refuses (it says why) may not even replay
    data = st.data
    store.insert_entry(
        replay,
        seq,
        h,
        canonical,
        str(data.get("type")),
        str(data.get("issuer")),
        str(data.get("id")),
        str(entry.recorded_at),
    )


def _genesis_key(genesis: Entry) -> PublicKey:
    return PublicKey.from_b64(genesis.statement.body["key"])


def _scratch(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    store.create_schema(conn)
    conn.execute("BEGIN")
    return conn


def _check_entry(
    index: tuple[object, ...], report: Report, seq: int, entry: Entry, prev: str, last_time: str
) -> None:
    if entry.seq != seq:
        report.add(seq, f"entry says seq {entry.seq} but is stored at seq {seq}")
    if entry.prev != prev:
        report.add(
            seq,
            f"prev {entry.prev[:16]}… is not the hash of entry {seq - 1}"
            f" ({prev[:16]}…): the hash chain is broken",
        )
    if entry.recorded_at < last_time:
        report.add(seq, f"recorded_at {entry.recorded_at} goes back before {last_time}")
    st = entry.statement
    if index != (st.type, st.issuer, st.id, entry.recorded_at):
        report.add(seq, "the entries table's index columns do not match the entry's bytes")


def _checkpoints(conn: sqlite3.Connection, report: Report) -> list[tuple[int, bytes, str]]:
    """Every stored checkpoint as (size, root, note); signatures are checked later."""
    out: list[tuple[int, bytes, str]] = []
    for size, root, note in conn.execute("SELECT size, root, note FROM checkpoints ORDER BY size"):
        report.checkpoints += 1
        try:
            cp = Checkpoint.from_text(note[: note.rfind("\n\n") + 1])
        except LedgerError as e:
            report.add(max(size - 1, 0), f"checkpoint for size {size} does not verify: {e}")
            continue
        if cp.size != size or cp.root != bytes(root):
            report.add(max(size - 1, 0), f"checkpoint row for size {size} does not match its signed note")
        out.append((cp.size, cp.root, note))
    return out


def open_checkpoint(
    note: str, origin: str, history: list[tuple[str, int, int | None]], size: int
) -> Checkpoint:
    """The checkpoint in ``note`` if the operator key its key events give for tree ``size``
    signed it (SPEC §6, §8: checkpoints after an operator rotation are signed with the new
    key). ``history``: the operator's (public key, from seq, until seq) rows, as replayed.
    Raises ``BadSignature``/``Malformed``. The one place a checkpoint's signatures are judged."""
    keys = keys_at(history, size) or [history[0][0]]
    error: LedgerError | None = None
    for public in keys:
        try:
            return SignedCheckpoint.open(note, Verifier(origin, PublicKey.from_b64(public))).checkpoint
        except LedgerError as e:
            error = e
    assert error is not None
    raise error


def _check_checkpoint_signature(
    report: Report,
    origin: str,
    note: str,
    history: list[tuple[str, int, int | None]],
    size: int,
    what: str,
    stored: bool = True,
) -> None:
    if not history:
        report.add(None, f"{what} cannot be checked: the replay gives no operator key")
        return
    try:
        open_checkpoint(note, origin, history, size)
    except LedgerError as e:
        report.add(
            max(size - 1, 0) if stored else None,
            f"{what} does not verify: it is not signed by this ledger's key (the operator key"
            f" its key events give for size {size}): {e}",
        )


def _external(text: str | None, report: Report) -> Checkpoint | None:
    if text is None:
        return None
    try:
        return Checkpoint.from_text(text[: text.rfind("\n\n") + 1])
    except LedgerError as e:
        report.add(None, f"the given checkpoint cannot be read: {e}")
        return None


def _check_nodes(conn: sqlite3.Connection, report: Report, nodes: list[tuple[int, int, bytes]]) -> None:
    if not nodes:
        return
    by_level: dict[int, dict[int, bytes]] = {}
    for level, idx, h in nodes:
        by_level.setdefault(level, {})[idx] = h
    for level, want in by_level.items():
        lo, hi = min(want), max(want)
        have = {
            idx: bytes(h)
            for idx, h in conn.execute(
                "SELECT idx, hash FROM nodes WHERE level = ? AND idx BETWEEN ? AND ?", (level, lo, hi)
            )
        }
        for idx, h in want.items():
            if have.get(idx) != h:
                first_leaf = idx << level
                report.add(
                    first_leaf,
                    f"stored Merkle node (level {level}, index {idx}) over entries"
                    f" {first_leaf}..{((idx + 1) << level) - 1} is "
                    + ("missing" if idx not in have else "wrong"),
                )


def _check_node_count(conn: sqlite3.Connection, report: Report, size: int) -> None:
    expected = sum(size >> level for level in range(size.bit_length()))
    have = conn.execute("SELECT count(*) FROM nodes").fetchone()[0]
    if have != expected:
        report.add(None, f"the nodes table has {have} rows, a tree of {size} entries has {expected}")


def _rows(conn: sqlite3.Connection, table: str, order: str) -> Iterator[tuple[object, ...]]:
    cur = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
    while True:
        batch = cur.fetchmany(1000)
        if not batch:
            return
        yield from batch


def _compare_derived(conn: sqlite3.Connection, replay: sqlite3.Connection, report: Report) -> None:
    """Every derived row must be exactly what the replay produced, no more and no less."""
    for table, order in store.DERIVED_TABLES.items():
        width = len(order.split(","))
        stored = _rows(conn, table, order)
        rebuilt = _rows(replay, table, order)
        try:
            a = next(stored, None)
        except sqlite3.DatabaseError as e:
            report.add(None, f"derived table {table} cannot be read: {e}")
            continue
        b = next(rebuilt, None)
        shown = 0
        while (a is not None or b is not None) and shown < 20:
            if a is not None and a == b:  # the common case: no keys to compare
                a, b = next(stored, None), next(rebuilt, None)
                continue
            ka, kb = (a[:width] if a else ()), (b[:width] if b else ())
            if a is not None and (b is None or _key(ka) < _key(kb)):
                report.add(
                    _seq_of(table, a, replay, conn),
                    f"derived table {table} has a row the replay does not: {_show(a)}",
                )
                a, shown = next(stored, None), shown + 1
            elif b is not None and (a is None or _key(kb) < _key(ka)):
                report.add(
                    _seq_of(table, b, replay, conn),
                    f"derived table {table} lacks a row the replay has: {_show(b)}",
                )
                b, shown = next(rebuilt, None), shown + 1
            else:
                if a != b:
                    report.add(
                        _seq_of(table, b or a, replay, conn),
                        f"derived table {table} row {_show(ka)} is {_show(a)}, replay gives {_show(b)}",
                    )
                    shown += 1
                a, b = next(stored, None), next(rebuilt, None)


def _key(k: tuple[object, ...]) -> tuple[tuple[int, object], ...]:
    return tuple((0 if isinstance(x, int) else 1, x) for x in k)


def _seq_of(
    table: str,
    row: tuple[object, ...] | None,
    replay: sqlite3.Connection | None = None,
    stored: sqlite3.Connection | None = None,
) -> int | None:
    """The entry a derived row stems from, where the row says so."""
    if row is None:
        return None
    seq_col = {
        "statement_ids": 2,
        "parties": 6,
        "keys": 3,
        "next_digests": 2,
        "used_digests": 2,
        "admissions": 0,
        "suspensions": 0,
        "disputed": 0,
        "lots": 5,
        "links": 2,
        "products": 0,
        "gtins": 2,
        "attestations": 0,
        "revocations": 1,
    }.get(table)
    if seq_col is not None:
        seq = row[seq_col]
        return seq if isinstance(seq, int) else None
    if table == "holdings":
        # The last entry that moved this lot for this party, else the lot's last entry, from
        # the replay; if the replay never saw the lot (its entry is damaged), the stored lot.
        for conn in (c for c in (replay, stored) if c is not None):
            for sql, params in (
                (
                    "SELECT max(l.seq) FROM links l JOIN links p ON p.seq = l.seq"
                    " AND p.kind = 'party' AND p.value = ? WHERE l.kind = 'lot' AND l.value = ?",
                    (row[1], row[0]),
                ),
                ("SELECT max(seq) FROM links WHERE kind = 'lot' AND value = ?", (row[0],)),
                ("SELECT seq FROM lots WHERE lot = ?", (row[0],)),
            ):
                try:
                    hit = conn.execute(sql, params).fetchone()
                except sqlite3.DatabaseError:
                    continue
                if hit is not None and hit[0] is not None:
                    return int(hit[0])
    return None


def _show(row: object) -> str:
    return json.dumps(row, default=lambda b: bytes(b).hex() if isinstance(b, bytes | memoryview) else str(b))


def terminal_progress(stream: TextIO = sys.stderr) -> Progress | None:
    """A progress bar on a terminal; nothing when output is piped."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        stream.write(f"\rverifying [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show
