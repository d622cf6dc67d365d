"""Rebuild a ledger entry by entry from bytes someone else holds: ``import`` and ``mirror``.

Each entry must be in canonical form, continue the seq and the hash chain, and pass every
rule of an append (``rules.apply``: the signature with the issuer's key at that seq, custody,
balances, …); it is then stored verbatim with its Merkle nodes. A checkpoint is kept only if
the operator's key signed it and its root is the one the entries give. What ends up stored
is therefore exactly what ``provenance verify`` accepts, and the derived tables are the
replay's own.
"""

from __future__ import annotations

import sqlite3

from ledger.crypto.keys import PublicKey
from ledger.errors import IntegrityError, LedgerError, Malformed
from ledger.model import rules
from ledger.model.statements import ZERO_HASH, Entry
from ledger.store import sqlite as store
from ledger.tlog import merkle
from ledger.tlog.merkle import Frontier, leaf_hash
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Verifier, check_origin

FORMAT = "provenance-ledger/v1"


class Replayer:
    """Appends verified entries to the ledger on ``conn`` inside transactions it manages."""

    def __init__(
        self, conn: sqlite3.Connection, frontier: Frontier | None = None, prev: str = ZERO_HASH
    ) -> None:
        self.conn = conn
        self.frontier = frontier or Frontier()
        self.prev = prev
        self.verifier: Verifier | None = None
        self._nodes: list[tuple[int, int, bytes]] = []

    @classmethod
    def resume(cls, conn: sqlite3.Connection) -> Replayer:
        """Go on from the entries ``conn`` already holds (which a replay stored)."""
        size, last, _ = store.head(conn)
        wanted = merkle.subtree_nodes(0, size)
        have = store.get_nodes(conn, wanted) if wanted else {}
        replayer = cls(conn, Frontier(size, [have[n] for n in wanted]), last.hex() if last else ZERO_HASH)
        row = store.entry_row(conn, 0)
        origin = store.get_meta(conn, "origin")
        if row is not None and origin is not None:
            replayer.verifier = Verifier(origin, _genesis_key(Entry.from_canonical(row[0])))
        return replayer

    @property
    def size(self) -> int:
        return self.frontier.size

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Store the pending Merkle nodes and commit: everything so far survives a crash."""
        store.insert_nodes(self.conn, self._nodes)
        self._nodes = []
        self.conn.execute("COMMIT")

    def entry(self, raw: bytes, where: str) -> bytes:
        """Verify and store the next entry; return its leaf hash. Raises ``Malformed`` or
        ``IntegrityError`` naming ``where`` and the seq."""
        try:
            entry = Entry.from_canonical(raw)
        except LedgerError as e:
            raise Malformed(f"{where}: not a canonical entry: {e}", seq=self.size) from e
        if entry.seq != self.size or entry.prev != self.prev:
            raise IntegrityError(
                f"{where}: entry {entry.seq} does not continue the chain at {self.size}", seq=self.size
            )
        st = entry.statement
        if entry.seq == 0:
            origin = check_origin(str(st.body.get("origin", "")))
            self.verifier = Verifier(origin, _genesis_key(entry))
            store.set_meta(self.conn, "origin", origin)
            store.set_meta(self.conn, "format", FORMAT)
        try:
            rules.apply(self.conn, entry.seq, entry.envelope, entry.recorded_at)
        except LedgerError as e:
            raise IntegrityError(f"{where}: entry {entry.seq} breaks a rule: {e}", seq=entry.seq) from e
        h = leaf_hash(raw)
        store.insert_entry(self.conn, entry.seq, h, raw, st.type, st.issuer, st.id, entry.recorded_at)
        self._nodes.extend(self.frontier.append(h))
        self.prev = h.hex()
        return h

    def open_checkpoint(self, note: str, where: str) -> Checkpoint:
        """The checkpoint in ``note`` if the operator's key for its size signed it (the genesis
        key, or the key of the operator's latest rotation among the entries it covers, as the
        replayed ``keys`` table says). Raises ``IntegrityError``."""
        if self.verifier is None:
            raise Malformed(f"{where}: a checkpoint before the genesis entry")
        try:
            size = Checkpoint.from_text(note[: note.find("\n\n") + 1]).size
            verifiers = self.operator_verifiers(size)
            for verifier in verifiers[:-1]:
                try:
                    return SignedCheckpoint.open(note, verifier).checkpoint
                except LedgerError:
                    continue
            return SignedCheckpoint.open(note, verifiers[-1]).checkpoint
        except LedgerError as e:
            raise IntegrityError(f"{where}: checkpoint does not verify: {e}") from e

    def operator_verifiers(self, size: int) -> list[Verifier]:
        """The operator keys that may sign the checkpoint of ``size``: entries ``0 … size − 1``
        decide (a rotation at seq r is signed under the old key, checkpoints after it under the
        new). Falls back to the genesis key."""
        assert self.verifier is not None
        rows = self.conn.execute(
            "SELECT public FROM keys WHERE party = 'operator' AND from_seq < ?"
            " AND (until_seq IS NULL OR until_seq >= ?) ORDER BY from_seq",
            (size, size),
        ).fetchall()
        origin = self.verifier.name
        return [Verifier(origin, PublicKey.from_b64(str(r[0]))) for r in rows] or [self.verifier]

    def checkpoint(self, note: str, where: str) -> Checkpoint:
        """Keep ``note`` if it is signed by the operator and commits to the entries so far."""
        cp = self.open_checkpoint(note, where)
        if cp.size != self.size or cp.root != self.frontier.root():
            raise IntegrityError(f"{where}: checkpoint for size {cp.size} does not match the entries")
        store.insert_nodes(self.conn, self._nodes)
        self._nodes = []
        store.insert_checkpoint(self.conn, cp.size, cp.root, note)
        return cp


def _genesis_key(genesis: Entry) -> PublicKey:
    return PublicKey.from_b64(genesis.statement.body["key"])
