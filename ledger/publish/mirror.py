"""``provenance mirror SOURCE --home DIR``: a fully verified copy of a ledger, from its tiles.

The source's checkpoint is read first; the tile reader checks the tiles against its root,
every entry against its leaf hash, and the entries are replayed (``audit.replay``: canonical
form, chain, signatures with the keys of the time, every rule) into the local ledger, whose
Merkle tree must then give the checkpoint's root, signed by the operator's key.

Resumable: entries are committed every few thousand, and a later run goes on from what the
mirror holds. Before it does, the source's tree must contain the mirror's: the root the
source's tiles give for the mirror's size must be the mirror's own. If not, the source was
rewritten or forked: the mirror stops, names the first seq where the two differ and shows
the consistency proof the source's tiles give, which does not lead to the mirror's root.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.replay import Replayer
from ledger.core.ledger import DB_NAME, MIRROR_OF
from ledger.errors import IntegrityError, LedgerError, Malformed
from ledger.publish.source import Source
from ledger.store import sqlite as store
from ledger.tlog.merkle import subtree_nodes
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Verifier
from ledger.tlog.tile_reader import TileReader
from ledger.tlog.tiles import TILE_WIDTH, tile_for

COMMIT_EVERY = 5000
Progress = Callable[[int, int], None]


class SourceForked(IntegrityError):
    """The source's tree does not contain the mirror's: it was rewritten, forked or rolled back."""

    code = "source-forked"


@dataclass
class Mirrored:
    size: int
    previous: int
    vkey: str
    checkpoint: str


def mirror(
    source: Source, home: Path, *, vkey: str | None = None, progress: Progress | None = None
) -> Mirrored:
    """Bring the ledger in ``home`` (created if absent) up to ``source``'s checkpoint.

    ``vkey``: the operator's verifier key in note form, if known: the source's checkpoint must
    be signed by it. Either way the checkpoint must be signed by the operator's key for its
    size, which the replay follows from the genesis key through the operator's rotations.
    Raises ``SourceForked`` (with ``seq`` and ``proof``),
    ``TileMismatch``/``RootMismatch``/``IntegrityError`` for a source whose bytes do not
    verify, naming the seq where it can; what was verified before stays committed.
    """
    note = _text(source.fetch("checkpoint"))
    claimed = _claimed(note)
    given = Verifier.from_text(vkey) if vkey else None
    fresh = not (home / DB_NAME).exists()
    home.mkdir(parents=True, exist_ok=True)
    conn = store.connect(home / DB_NAME)
    try:
        store.create_schema(conn)
        return _mirror(source, conn, Replayer.resume(conn), note, claimed, given, progress)
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        empty = store.size(conn) == 0
        conn.close()
        if fresh and empty:  # nothing was verified: leave no empty ledger behind
            for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
                (home / name).unlink(missing_ok=True)


def _mirror(
    source: Source,
    conn: Any,
    replay: Replayer,
    note: str,
    claimed: Checkpoint,
    given: Verifier | None,
    progress: Progress | None,
) -> Mirrored:
    if given is not None:
        _open(note, [given])  # the key the user trusts signed the source's checkpoint
    previous = replay.size
    if claimed.size < previous:
        raise SourceForked(
            f"the source's checkpoint has {claimed.size} entries, the mirror already holds"
            f" {previous}: the source was rolled back",
            seq=claimed.size,
        )
    if claimed.size == 0:
        raise Malformed("the source's checkpoint is of an empty log: nothing to mirror")
    reader = TileReader(source.fetch, claimed.size, claimed.root)
    if previous:
        _check_contains(conn, reader, replay)
    _replay(replay, reader, note, progress)
    if replay.verifier is None:
        raise Malformed("the source has no genesis entry")
    if store.checkpoint_at(conn, claimed.size) is None:
        replay.checkpoint(note, "the source's checkpoint")
    store.set_meta(conn, MIRROR_OF, source.where)
    replay.commit()
    current = replay.operator_verifiers(claimed.size)[-1]  # the key that signs its checkpoints now
    return Mirrored(claimed.size, previous, current.to_text(), note)


def _replay(replay: Replayer, reader: TileReader, note: str, progress: Progress | None) -> None:
    """Replay the source's entries from the mirror's size on, leaving the last ones uncommitted
    (the caller commits them with the checkpoint).

    Entries are committed every ``COMMIT_EVERY`` (so a later run resumes) once the source's
    checkpoint is known to be the operator's: signed by a key of the operator's as far as the
    replay has come. Until then (a first run before genesis, or a checkpoint signed by a key
    of a rotation still ahead) nothing is committed; ``Replayer.checkpoint`` at the end checks
    the signature with the key of the checkpoint's own size either way.
    """
    size = reader.size
    committed = replay.size
    signed = False
    replay.begin()
    for bundle in range(replay.size // TILE_WIDTH, -(-size // TILE_WIDTH)):
        path = tile_for(None, bundle * TILE_WIDTH, size).path
        for i, raw in enumerate(reader.entries(bundle)):
            seq = bundle * TILE_WIDTH + i
            if seq >= replay.size:
                replay.entry(raw, f"entry {seq} ({path})")
        if not signed and replay.verifier is not None:
            signed = _signed(note, replay.operator_verifiers(size))
        if signed and replay.size - committed >= COMMIT_EVERY:
            replay.commit()
            replay.begin()
            committed = replay.size
        if progress:
            progress(replay.size, size)


def _check_contains(conn: Any, reader: TileReader, replay: Replayer) -> None:
    """Raise ``SourceForked`` unless the source's tree at the mirror's size is the mirror's."""
    size = replay.size
    ours = replay.frontier.root()
    theirs = reader.root_at(size)
    if theirs == ours:
        return
    proof = reader.consistency_proof(size)
    seq = _first_difference(conn, reader, size)
    local_leaf = store.entry_row(conn, seq)
    raise SourceForked(
        f"the source was rewritten or forked at seq {seq}: the mirror holds entry hash"
        f" {local_leaf[1].hex() if local_leaf else '?'}, the source's tree"
        f" {reader.node(0, seq).hex()}; for size {size} the source's tiles give root {theirs.hex()},"
        f" the mirror's root is {ours.hex()}, and the source's consistency proof from {size} to"
        f" {reader.size} does not lead from the mirror's root to the source's checkpoint",
        seq=seq,
        proof=proof.to_json(),
        mirror_root=ours.hex(),
        source_root=theirs.hex(),
    )


def _first_difference(conn: Any, reader: TileReader, size: int) -> int:
    """The first seq whose leaf differs, found by descending the two trees: O(log n) reads."""
    for level, index in subtree_nodes(0, size):
        if store.get_nodes(conn, [(level, index)])[(level, index)] == reader.node(level, index):
            continue
        while level > 0:
            level, index = level - 1, 2 * index
            if store.get_nodes(conn, [(level, index)])[(level, index)] == reader.node(level, index):
                index += 1
        return index
    raise IntegrityError("the roots differ but every subtree is equal")  # cannot happen


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Malformed(f"the source's checkpoint is not UTF-8: {e}") from e


def _claimed(note: str) -> Checkpoint:
    """The checkpoint's body, not yet verified (its size says which tiles to read)."""
    at = note.find("\n\n")
    if at < 0:
        raise Malformed("the source's checkpoint is not a signed note")
    return Checkpoint.from_text(note[: at + 1])


def _open(note: str, verifiers: list[Verifier]) -> Checkpoint:
    """The checkpoint in ``note`` if one of ``verifiers`` signed it; else ``IntegrityError``."""
    why: LedgerError | None = None
    for verifier in verifiers:
        try:
            return SignedCheckpoint.open(note, verifier).checkpoint
        except LedgerError as e:
            why = e
    raise IntegrityError(f"the source's checkpoint is not signed by the operator's key: {why}")


def _signed(note: str, verifiers: list[Verifier]) -> bool:
    try:
        _open(note, verifiers)
    except IntegrityError:
        return False
    return True


def describe_fork(e: SourceForked) -> str:
    """The evidence of a fork as one JSON line: seq, both roots and the proof."""
    return json.dumps({"seq": e.extra.get("seq"), **{k: v for k, v in e.extra.items() if k != "seq"}})
