"""The ledger facade: create, open, append, read and prove (SPEC §5, §8-§10).

A ``Ledger`` is one SQLite file in a *ledger home* folder beside the operator's key.
``append`` takes a batch of envelopes and commits the accepted ones in one transaction
with one checkpoint for the size it reaches; every read returns proofs against a signed
checkpoint, so nothing a caller gets has to be taken on trust.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit import workers
from ledger.crypto.keys import PrivateKey, PublicKey, b64
from ledger.errors import (
    BadSignature,
    ConfigError,
    IntegrityError,
    LedgerError,
    NotFound,
    ProofError,
    ReadOnlyMirror,
)
from ledger.model import identity, rules
from ledger.model.statements import ZERO_HASH, Entry, Envelope, sign
from ledger.store import cosignatures, database
from ledger.store import sqlite as store
from ledger.tlog import merkle
from ledger.tlog.merkle import ConsistencyProof, Frontier, InclusionProof, Node
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Signer, Verifier, add_signatures, check_origin

DB_NAME = "ledger.db"
KEY_NAME = "operator.key"
NEXT_KEY_NAME = "operator-next.key"
MIRROR_OF = "mirror_of"  # meta key: where a mirror's entries come from
HOME_ENV = "PROVENANCE_HOME"
DEFAULT_HOME = "provenance-home"

Clock = Callable[[], dt.datetime]


def default_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_time(t: dt.datetime) -> str:
    """RFC 3339 UTC with milliseconds, as SPEC §5 shows ``recorded_at``."""
    t = t.astimezone(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Appended:
    """An accepted envelope: its entry and the checkpoint of the batch that committed it."""

    entry: Entry
    checkpoint: SignedCheckpoint


@dataclass(frozen=True)
class Batch:
    """What one batch did: per item, its seq or its refusal; the checkpoint it committed."""

    results: list[int | LedgerError]
    checkpoint: SignedCheckpoint | None

    @property
    def refused(self) -> int:
        return sum(1 for r in self.results if isinstance(r, LedgerError))


class NodeCache:
    """Stored Merkle nodes, fetched once: proofs for neighbouring leaves share most nodes.

    ``upper``, if given, is a longer-lived map for nodes of level ``UPPER_LEVEL`` and above:
    stored nodes never change, there are few of them (one per 2^level leaves), and every
    proof needs a path of them, so keeping them makes a proof's reads nearly independent
    of the tree's size.
    """

    LIMIT = 200_000
    UPPER_LEVEL = 6

    def __init__(self, conn: Any, upper: dict[Node, bytes] | None = None) -> None:
        self.conn = conn
        self.known: dict[Node, bytes] = {}
        self.upper = upper if upper is not None else {}

    def __call__(self, wanted: list[Node]) -> dict[Node, bytes]:
        known, upper = self.known, self.upper
        # Stay flat over a huge batch. Clear before deciding what is missing: a node kept
        # then cleared would be neither fetched nor found.
        if len(known) > self.LIMIT:
            known.clear()
        if len(upper) > self.LIMIT:
            upper.clear()
        missing = [n for n in wanted if n not in known and n not in upper]
        if missing:
            for node, h in store.get_nodes(self.conn, missing).items():
                (upper if node[0] >= self.UPPER_LEVEL else known)[node] = h
        return {n: known[n] if n in known else upper[n] for n in wanted}


class Ledger:
    def __init__(
        self, home: Path, conn: Any, origin: str, verifier: Verifier, clock: Clock = utc_now
    ) -> None:
        self.home = home
        self.conn = conn
        self.origin = origin
        self._genesis_verifier = verifier
        self.clock = clock
        self._signer: Signer | None = None
        self._verifiers: dict[str, Verifier] = {}
        # Operator keys offered for a rotation being appended here (public b64 -> key).
        self._offered: dict[str, PrivateKey] = {}
        self._upper_nodes: dict[Node, bytes] = {}

    # -- life cycle -------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        home: Path,
        origin: str,
        *,
        name: str | None = None,
        passphrase: bytes | None = None,
        clock: Clock = utc_now,
        db: str | None = None,
    ) -> Ledger:
        """Create a ledger home: the operator key (mode 0600), the database and its genesis.

        ``db``: a PostgreSQL URL (or a SQLite path) instead of ``home/ledger.db``; a URL is
        recorded in the home. Raises ``ConfigError`` if ``home`` or the database already
        holds a ledger or ``origin`` is not usable as a note key name.
        """
        check_origin(origin)
        where = database.target(home, db)
        if (home / KEY_NAME).exists() or database.holds_ledger(where):
            raise ConfigError(
                f"{home if (home / KEY_NAME).exists() else database.describe(where)} already holds a ledger"
            )
        key, next_key = PrivateKey.generate(), PrivateKey.generate()
        genesis = sign(
            {  # validated before anything is written
                "type": "genesis",
                "id": new_id(),
                "issuer": "operator",
                "issued_at": format_time(clock()),
                "body": {
                    "origin": origin,
                    "name": name or origin,
                    "key": key.public.b64,
                    "next": [identity.digest(next_key.public.raw)],
                },
            },
            key,
        )
        home.mkdir(parents=True, exist_ok=True)
        try:
            key.save(home / KEY_NAME, passphrase)
            next_key.save(home / NEXT_KEY_NAME, passphrase)
            conn = database.connect(where)
            store.create_schema(conn)
            with store.write_transaction(conn):
                store.set_meta(conn, "origin", origin)
                store.set_meta(conn, "format", "provenance-ledger/v1")
            database.record(home, where)
            ledger = cls(home, conn, origin, Verifier(origin, key.public), clock)
            ledger._signer = Signer(origin, key)
            ledger.append_one(genesis)
        except BaseException:
            for name_ in (KEY_NAME, NEXT_KEY_NAME):
                (home / name_).unlink(missing_ok=True)
            database.discard(home, where)
            raise
        return ledger

    @classmethod
    def open(
        cls,
        home: Path | None = None,
        *,
        clock: Clock = utc_now,
        readonly: bool = False,
        db: str | None = None,
    ) -> Ledger:
        """Open an existing ledger home (its database: ``db``, ``$PROVENANCE_DB``, the URL
        recorded in the home, or ``ledger.db``). Raises ``ConfigError`` if there is none."""
        home = home or default_home()
        conn, path = database.open_existing(home, db, readonly=readonly)
        origin = store.get_meta(conn, "origin")
        row = store.entry_row(conn, 0)
        if origin is None or row is None:
            raise ConfigError(f"{database.describe(path)} is not an initialised ledger")
        try:  # the key that signed genesis; ``verifier`` follows the operator's rotations
            genesis = json.loads(row[0])["statement"]["body"]
            verifier = Verifier(origin, PublicKey.from_b64(genesis["key"]))
        except (ValueError, KeyError, TypeError, LedgerError) as e:
            raise IntegrityError(
                f"entry 0 (genesis) of {database.describe(path)} is damaged ({e}); run provenance verify",
                field="seq",
            ) from e
        return cls(home, conn, origin, verifier, clock)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def verifier(self) -> Verifier:
        """The operator's current checkpoint key, from its key events (SPEC §6)."""
        return self.verifier_at(None)

    def verifier_at(self, size: int | None) -> Verifier:
        """The operator key that signs the checkpoint of tree ``size`` (default: the next one):
        a rotation at seq r is signed by the old key, checkpoints of size > r by the new."""
        active = identity.keys_at(identity.operator_keys(self.conn), size)
        if not active:
            return self._genesis_verifier
        chosen = active[0]
        if chosen not in self._verifiers:
            self._verifiers[chosen] = Verifier(self.origin, PublicKey.from_b64(chosen))
        return self._verifiers[chosen]

    @property
    def signer(self) -> Signer:
        """The operator's checkpoint signer, loaded on first use (the key never leaves here).

        After an operator rotation (here or by another process) the key file is read again:
        it must hold the operator's current key."""
        active = identity.keys_at(identity.operator_keys(self.conn), None) or [
            self._genesis_verifier.public.b64
        ]
        if self._signer is not None and self._signer.key.public.b64 in active:
            return self._signer
        offered = [self._offered[k] for k in active if k in self._offered]
        if not offered:
            source = store.get_meta(self.conn, MIRROR_OF)
            if source is not None and not (self.home / KEY_NAME).exists():
                raise ReadOnlyMirror(
                    f"this ledger is a read-only mirror of {source}: it holds no operator key,"
                    " so it cannot append or sign; the operator's own server can"
                )
        key = offered[0] if offered else PrivateKey.load(self.home / KEY_NAME, strict_mode=True)
        if key.public.b64 not in active:
            raise ConfigError(
                f"{self.home / KEY_NAME} is not a current operator key:"
                " after the operator's rotation the home holds its new key"
            )
        self._signer = Signer(self.origin, key)
        return self._signer

    def rotate_operator(self, envelope: Envelope, new_key: PrivateKey) -> Appended:
        """Append the operator's own ``rotation``, signed by ``new_key`` (a committed next key),
        then keep ``new_key`` as the home's operator key; the checkpoint of this very batch is
        already signed with it (SPEC §6). The old key file is kept beside it, renamed."""
        self._offered[new_key.public.b64] = new_key
        try:
            result = self.append_one(envelope)
        finally:
            self._offered.clear()
        path = self.home / KEY_NAME
        retired = self.home / f"operator-retired-{result.entry.seq}.key"
        if path.exists():
            os.replace(path, retired)
        new_key.save(path)
        return result

    @property
    def operator_key(self) -> PrivateKey:
        return self.signer.key

    # -- appending --------------------------------------------------------------------

    def append(self, envelopes: Sequence[Envelope]) -> list[Appended | LedgerError]:
        """Append a batch in one transaction; return, per envelope, its entry or its refusal.

        A refused envelope appends and changes nothing. The batch commits once, with one
        checkpoint for the size it reaches. Signatures are checked before the write lock is
        taken (``rules.apply`` re-checks the key inside it). For large batches see
        ``append_stream``.
        """
        kept: dict[int, Entry] = {}
        batch = self._run(envelopes, self.preverify(envelopes), None, None, kept)
        out: list[Appended | LedgerError] = []
        for i, r in enumerate(batch.results):
            if isinstance(r, LedgerError):
                out.append(r)
            else:
                assert batch.checkpoint is not None
                out.append(Appended(kept[i], batch.checkpoint))
        return out

    def append_stream(self, source: Callable[[], Iterable[Envelope | LedgerError]]) -> Batch:
        """Append everything ``source()`` yields in one transaction, keeping one small result
        per item (a seq or the refusal), so memory stays flat however large the batch.

        Items that are already errors (an unparsable line) pass through as results. With
        more than one core, signatures are checked on the other cores while the rules run;
        if any fails, the transaction is rolled back and ``source()`` is read again with
        those envelopes refused.
        """
        if workers.cores() > 1:
            pool = workers.Verifier(workers.INLINE_BELOW)
            try:
                return self._run(source(), None, pool, None)
            except _SignaturesFailed as e:
                bad: dict[int, LedgerError] = {
                    i: BadSignature("signature does not verify with the issuer's key", field="signature.sig")
                    for i in e.failed
                }
                return self._run(source(), None, None, bad)
        return self._run(source(), None, None, None)

    def _run(
        self,
        items: Iterable[Envelope | LedgerError],
        preverified: Sequence[bytes | None] | None,
        pool: workers.Verifier | None,
        refused: dict[int, LedgerError] | None,
        kept: dict[int, Entry] | None = None,
    ) -> Batch:
        results: list[int | LedgerError] = []
        conn = self.conn
        checkpoint = None
        with store.write_transaction(conn):
            start, last_hash, last_time = store.head(conn)
            size = start
            frontier = self._frontier(size)
            self._check_head(start, frontier)
            prev = last_hash.hex() if last_hash else ZERO_HASH
            created: list[tuple[int, int, bytes]] = []
            issuers = rules.IssuerCache()
            for i, item in enumerate(items):
                if isinstance(item, LedgerError) or (refused and i in refused):
                    results.append(item if isinstance(item, LedgerError) else refused[i])  # type: ignore[index]  # refused is set when i is in it
                    continue
                envelope = item
                recorded_at = self._recorded_at(last_time)
                defer = None
                if pool is not None:

                    def defer(public: bytes, i: int = i, envelope: Envelope = envelope) -> None:
                        pool.add(i, public, envelope.statement.message, envelope.sig)

                try:
                    self._check_operator_rotation(envelope)
                    with store.savepoint(conn):
                        rules.apply(
                            conn,
                            size,
                            envelope,
                            recorded_at,
                            preverified[i] if preverified else None,
                            defer,
                            issuers,
                        )
                        entry = Entry.build(size, prev, recorded_at, envelope)
                        st = envelope.statement
                        store.insert_entry(
                            conn, size, entry.hash, entry.canonical, st.type, st.issuer, st.id, recorded_at
                        )
                except LedgerError as e:
                    results.append(e)
                    continue
                created.extend(frontier.append(entry.hash))
                if len(created) >= 8192:
                    store.insert_nodes(conn, created)
                    created = []
                results.append(size)
                if kept is not None:
                    kept[i] = entry
                size, prev, last_time = size + 1, entry.hash.hex(), recorded_at
            if pool is not None:
                failed = pool.failures()
                if failed:
                    raise _SignaturesFailed(failed)
            if size > start:
                store.insert_nodes(conn, created)
                checkpoint = SignedCheckpoint.sign(
                    Checkpoint(self.origin, size, frontier.root()), self.signer
                )
                store.insert_checkpoint(conn, size, checkpoint.checkpoint.root, checkpoint.note)
        return Batch(results, checkpoint)

    def _check_operator_rotation(self, envelope: Envelope) -> None:
        """The operator's rotation is appended only where one of its new keys is at hand:
        the batch's checkpoint is signed with it."""
        st = envelope.statement
        operator_rotation = st.type == "rotation" and st.body.get("party") == identity.OPERATOR
        if operator_rotation and not any(k in self._offered for k in st.body["keys"]):
            raise OperatorKeyUnavailable(
                "the operator's rotation is appended where its new key is:"
                " run provenance party rotate operator --key NEXTFILE in the ledger home",
                field="statement.body.keys",
            )

    def append_one(self, envelope: Envelope) -> Appended:
        """Append one envelope; raise its refusal."""
        (result,) = self.append([envelope])
        if isinstance(result, LedgerError):
            raise result
        return result

    def preverify(self, envelopes: Sequence[Envelope]) -> list[bytes | None]:
        """Check signatures against the keys registered now, outside the write lock.

        Returns per envelope the raw key it verified with, or ``None`` (unknown key, bad
        signature, or a key registered later in the batch): ``rules.apply`` then decides.
        """
        out: list[bytes | None] = []
        with store.read_transaction(self.conn):
            for envelope in envelopes:
                key = rules.verify_pending(self.conn, envelope)
                if key is not None:
                    try:
                        envelope.verify(PublicKey(key))
                    except LedgerError:
                        key = None
                out.append(key)
        return out

    def _check_head(self, size: int, frontier: Frontier) -> None:
        """Refuse to extend a log whose entries no longer match its latest checkpoint (entries
        removed or rewritten behind the ledger's back): signing on would sign a fork."""
        latest = store.latest_checkpoint(self.conn)
        if latest is None:
            if size:
                raise IntegrityError(f"the ledger has {size} entries but no checkpoint")
            return
        if latest[0] != size or latest[1] != frontier.root():
            raise IntegrityError(
                f"the entries ({size}) do not match the latest checkpoint ({latest[0]}):"
                " the ledger was changed behind its back; run provenance verify"
            )

    def _recorded_at(self, last: str | None) -> str:
        now = format_time(self.clock())
        return now if last is None or now > last else last

    def _frontier(self, size: int) -> Frontier:
        wanted = merkle.subtree_nodes(0, size)
        have = store.get_nodes(self.conn, wanted) if wanted else {}
        return Frontier(size, [have[n] for n in wanted])

    def sign_as_operator(self, statement: dict[str, Any]) -> Envelope:
        return sign(statement, self.operator_key)

    # -- reading ----------------------------------------------------------------------

    @property
    def size(self) -> int:
        return store.size(self.conn)

    def entry(self, seq: int) -> Entry:
        row = store.entry_row(self.conn, seq)
        if row is None:
            raise NotFound(f"entry {seq} does not exist (the ledger has {self.size})", field="seq")
        return Entry.from_canonical(row[0])

    def canonical(self, seq: int) -> bytes:
        row = store.entry_row(self.conn, seq)
        if row is None:
            raise NotFound(f"entry {seq} does not exist (the ledger has {self.size})", field="seq")
        return row[0]

    def latest_checkpoint(self) -> SignedCheckpoint:
        """The latest checkpoint as served: the operator's note with the witnesses'
        cosignatures collected so far (SPEC §8)."""
        row = store.latest_checkpoint(self.conn)
        if row is None:
            raise NotFound("the ledger has no checkpoint yet")
        return self._served(row)

    def checkpoint(self, size: int) -> SignedCheckpoint:
        row = store.checkpoint_at(self.conn, size)
        if row is None:
            raise NotFound(f"no checkpoint for tree size {size}", field="size")
        return self._served(row)

    def _served(self, row: tuple[int, bytes, str]) -> SignedCheckpoint:
        note = add_signatures(row[2], cosignatures.lines(self.conn, row[0]))
        return SignedCheckpoint(Checkpoint.from_text(_note_text(row[2])), note)

    def node_cache(self) -> NodeCache:
        """A node cache for a run of proofs, sharing this ledger's upper tree levels."""
        return NodeCache(self.conn, self._upper_nodes)

    def root(self, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        return merkle.resolve([(0, size)], self.node_cache())[0]

    def inclusion_proof(
        self, seq: int, size: int | None = None, nodes: NodeCache | None = None
    ) -> InclusionProof:
        """RFC 9162 inclusion proof of entry ``seq`` in the tree of ``size`` (default: latest
        checkpoint). O(log n) node reads. Raises ``ProofError``/``NotFound`` for bad ranges."""
        if size is None:
            size = self.latest_checkpoint().checkpoint.size
        self._check_size(size, "size")
        if not 0 <= seq < size:
            raise ProofError(f"seq {seq} >= tree size {size}", field="seq")
        ranges = merkle.inclusion_ranges(seq, size)
        hashes = merkle.resolve(ranges, nodes or self.node_cache())
        return InclusionProof(seq, size, tuple(hashes))

    def consistency_proof(self, old: int, new: int) -> ConsistencyProof:
        self._check_size(new, "new")
        if not 0 <= old <= new:
            raise ProofError(f"old size {old} > new size {new}", field="old")
        hashes = merkle.resolve(merkle.consistency_ranges(old, new), self.node_cache())
        return ConsistencyProof(old, new, tuple(hashes))

    def _check_size(self, size: int, field: str) -> None:
        have = self.size
        if not 0 < size <= have:
            raise ProofError(f"tree size {size} is outside 1..{have}", field=field)

    def entry_view(
        self, seq: int, checkpoint: SignedCheckpoint | None = None, nodes: NodeCache | None = None
    ) -> dict[str, Any]:
        """SPEC §10: ``{seq, entry_hash, entry, canonical, inclusion_proof, checkpoint}``, the
        proof against ``checkpoint`` (default: the latest)."""
        with store.read_transaction(self.conn):
            if checkpoint is None:
                checkpoint = self.latest_checkpoint()
            canonical = self.canonical(seq)
            proof = self.inclusion_proof(seq, checkpoint.checkpoint.size, nodes)
        try:
            entry = json.loads(canonical)
        except ValueError as e:
            raise IntegrityError(f"entry {seq} is damaged: its bytes are not JSON", field="seq") from e
        return {
            "seq": seq,
            "entry_hash": merkle.leaf_hash(canonical).hex(),
            "entry": entry,
            "canonical": b64(canonical),
            "inclusion_proof": proof.to_json(),
            "checkpoint": checkpoint.note,
        }

    def appended_views(self, results: Sequence[Appended | LedgerError]) -> list[dict[str, Any]]:
        """The API's answer for each result of ``append``: the entry view or the error body."""
        nodes = self.node_cache()
        out: list[dict[str, Any]] = []
        with store.read_transaction(self.conn):
            for r in results:
                if isinstance(r, LedgerError):
                    out.append(r.to_json())
                else:
                    out.append(self.entry_view(r.entry.seq, r.checkpoint, nodes))
        return out

    def batch_lines(self, batch: Batch) -> Iterator[str]:
        """What ``POST /api/v1/entries`` answers, for each item of ``batch``, as compact JSON
        text built straight from the stored bytes (they are JSON already), with inclusion
        proofs against the batch's checkpoint. Streams: the batch's seqs are consecutive."""
        nodes = self.node_cache()
        cp = batch.checkpoint
        seqs = [r for r in batch.results if isinstance(r, int)]
        stored = iter(()) if not seqs else store.iter_entries(self.conn, seqs[0], seqs[-1] + 1)
        note = json.dumps(cp.note, ensure_ascii=False) if cp else ""
        with store.read_transaction(self.conn):
            for r in batch.results:
                if isinstance(r, LedgerError):
                    yield json.dumps(r.to_json(), ensure_ascii=False, separators=(",", ":"))
                    continue
                assert cp is not None
                seq, canonical, h = next(stored)
                proof = self.inclusion_proof(seq, cp.checkpoint.size, nodes)
                hashes = ",".join(f'"{x.hex()}"' for x in proof.hashes)
                yield (
                    f'{{"seq":{seq},"entry_hash":"{h.hex()}",'
                    f'"entry":{canonical.decode()},"canonical":"{b64(canonical)}",'
                    f'"inclusion_proof":{{"leaf_index":{seq},"tree_size":{proof.tree_size},'
                    f'"hashes":[{hashes}]}},"checkpoint":{note}}}'
                )

    def info(self) -> dict[str, Any]:
        """SPEC §10 ``GET /api/v1/ledger``."""
        from ledger.witness.submitter import status  # the witness layer builds on this one

        with store.read_transaction(self.conn):
            cp = self.latest_checkpoint()
            witnessing = status(self)
        return {
            "origin": self.origin,
            "vkey": self.verifier.to_text(),
            "size": cp.checkpoint.size,
            "root": cp.checkpoint.root.hex(),
            "checkpoint": cp.note,
            **witnessing,
        }

    def entries(
        self,
        *,
        type: str | None = None,
        party: str | None = None,
        lot: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[int]:
        """Seqs of entries matching all given filters, oldest first, after ``after``."""
        where: list[str] = ["e.seq > ?"]
        params: list[Any] = [-1 if after is None else after]
        join = ""
        if type:
            where.append("e.type = ?")
            params.append(type)
        if party:
            join += " JOIN links lp ON lp.seq = e.seq AND lp.kind = 'party' AND lp.value = ?"
            params.insert(0, party)
        if lot:
            join += " JOIN links ll ON ll.seq = e.seq AND ll.kind = 'lot' AND ll.value = ?"
            params.insert(1 if party else 0, lot)
        sql = f"SELECT e.seq FROM entries e{join} WHERE {' AND '.join(where)} ORDER BY e.seq LIMIT ?"
        return [r[0] for r in self.conn.execute(sql, [*params, limit])]

    def iter_entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, bytes, bytes]]:
        return store.iter_entries(self.conn, start, end)


class OperatorKeyUnavailable(LedgerError):
    status, code = 403, "operator-key-unavailable"


class _SignaturesFailed(Exception):
    """Raised inside the append transaction to roll it back when a deferred check failed."""

    def __init__(self, failed: list[int]) -> None:
        super().__init__(f"{len(failed)} signatures failed")
        self.failed = failed


def _note_text(note: str) -> str:
    return note[: note.rfind("\n\n") + 1]
