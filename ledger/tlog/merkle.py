"""RFC 9162 Merkle tree hashing and proofs, free of any storage.

Proofs are first computed as lists of leaf ranges ``[start, end)`` whose Merkle Tree
Hashes (MTH) form the proof; a caller then resolves the ranges with whatever holds the
tree. The store resolves them from stored complete subtrees (O(log n) reads), the
reference ``mth`` from a list of leaf hashes. Verification computes roots and compares.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import ProofError, RootMismatch

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
Node = tuple[int, int]  # (level, index): the complete subtree over leaves [index·2^level, (index+1)·2^level)


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 ‖ data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def mth(leaves: Sequence[bytes]) -> bytes:
    """Reference Merkle Tree Hash over leaf hashes, straight from RFC 9162 §2.1.1."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def subtree_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees, largest first, whose right fold is MTH of leaves [start, end).

    Precondition: the range is one that RFC 9162's recursion produces from [0, n), so each
    left part is aligned to its size.
    """
    nodes: list[Node] = []
    while start < end:
        size = end - start
        k = size if size & (size - 1) == 0 else split_point(size)  # whole, or its left part
        level = k.bit_length() - 1
        if start % k:
            raise ValueError(f"range [{start}, {end}) is not aligned")
        nodes.append((level, start >> level))
        start += k
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine complete-subtree hashes (largest first) into the MTH of their range."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as leaf ranges, leaf-side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} >= tree size {size}", field="seq")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old: int, new: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new]) as leaf ranges."""
    if not 0 <= old <= new:
        raise ProofError(f"old size {old} > new size {new}", field="old")
    if old == 0 or old == new:
        return []
    proof: list[Range] = []
    start, end, m, complete = 0, new, old, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            start += k
            m -= k
            complete = False
    proof.reverse()
    return proof


def resolve(ranges: Iterable[Range], nodes: Callable[[list[Node]], dict[Node, bytes]]) -> list[bytes]:
    """Hash each range from complete subtrees fetched in one call of ``nodes``."""
    ranges = list(ranges)
    wanted = [subtree_nodes(a, b) for a, b in ranges]
    have = nodes(sorted({n for ns in wanted for n in ns}))
    return [fold([have[n] for n in ns]) for ns in wanted]


def resolve_from_leaves(ranges: Iterable[Range], leaves: Sequence[bytes]) -> list[bytes]:
    """Reference resolution straight from the leaf hashes."""
    return [mth(leaves[a:b]) for a, b in ranges]


@dataclass(frozen=True)
class InclusionProof:
    """SPEC §9: ``{"leaf_index", "tree_size", "hashes"}``."""

    leaf_index: int
    tree_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "hashes": [h.hex() for h in self.hashes],
        }

    @classmethod
    def from_json(cls, obj: Any) -> InclusionProof:
        try:
            return cls(
                _int(obj["leaf_index"], "leaf_index"),
                _int(obj["tree_size"], "tree_size"),
                tuple(_hex32(h, "hashes") for h in _list(obj["hashes"])),
            )
        except (KeyError, TypeError) as e:
            raise ProofError(f"not an inclusion proof: {e!r}") from e


@dataclass(frozen=True)
class ConsistencyProof:
    """SPEC §9: ``{"old_size", "new_size", "hashes"}``."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "hashes": [h.hex() for h in self.hashes],
        }

    @classmethod
    def from_json(cls, obj: Any) -> ConsistencyProof:
        try:
            return cls(
                _int(obj["old_size"], "old_size"),
                _int(obj["new_size"], "new_size"),
                tuple(_hex32(h, "hashes") for h in _list(obj["hashes"])),
            )
        except (KeyError, TypeError) as e:
            raise ProofError(f"not a consistency proof: {e!r}") from e


def _int(v: Any, field: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise ProofError("must be a non-negative integer", field=field)
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ProofError("must be a list", field="hashes")
    return v


def _hex32(v: Any, field: str) -> bytes:
    if not isinstance(v, str) or len(v) != 64 or v != v.lower():
        raise ProofError("must be 64 lowercase hex characters", field=field)
    try:
        return bytes.fromhex(v)
    except ValueError as e:
        raise ProofError("must be 64 lowercase hex characters", field=field) from e


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``proof`` implies for ``leaf`` at ``index``.

    Raises ``ProofError`` for a proof of the wrong length or an index outside the tree.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside the tree of size {size}")
    if len(leaf) != 32 or any(len(p) != 32 for p in proof):
        raise ProofError("hashes must be 32 bytes")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(proof)} hashes: too many")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(proof)} hashes: too few")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Return if ``leaf`` is at ``index`` in the tree of ``size`` with ``root``; else raise."""
    calculated = root_from_inclusion_proof(index, size, leaf, proof)
    if calculated != root:
        raise RootMismatch(root, calculated)


def roots_from_consistency_proof(
    old: int, new: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2: the (old, new) roots that ``proof`` implies. Raises ``ProofError``."""
    if not 0 <= old <= new:
        raise ProofError(f"old size {old} > new size {new}")
    if len(old_root) != 32 or any(len(p) != 32 for p in proof):
        raise ProofError("hashes must be 32 bytes")
    if old == new or old == 0:
        if proof:
            raise ProofError("consistency proof must be empty for these sizes")
        return old_root, old_root if old == new else EMPTY_ROOT
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof has too few hashes")
    return fr, sr


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Return if the tree of ``new`` with ``new_root`` extends the one of ``old``; else raise."""
    if old == new:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise RootMismatch(old_root, new_root)
        return
    if old == 0:
        if proof:
            raise ProofError("consistency proof from size 0 must be empty")
        return
    fr, sr = roots_from_consistency_proof(old, new, old_root, proof)
    if fr != old_root:
        raise RootMismatch(
            old_root, fr, f"old root mismatch: expected {old_root.hex()}, calculated {fr.hex()}"
        )
    if sr != new_root:
        raise RootMismatch(
            new_root, sr, f"new root mismatch: expected {new_root.hex()}, calculated {sr.hex()}"
        )


class Frontier:
    """The complete subtrees at the right edge of a growing tree (a compact range).

    ``append`` returns the stored nodes the new leaf completes, so a store can keep every
    complete subtree hash as the tree grows; ``root`` is the MTH of the current size.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        nodes = subtree_nodes(0, size)
        if len(nodes) != len(hashes):
            raise ValueError(f"frontier of size {size} needs {len(nodes)} hashes, got {len(hashes)}")
        self.size = size
        self._stack: list[tuple[Node, bytes]] = list(zip(nodes, hashes, strict=True))

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        created = [(0, self.size, leaf)]
        self._stack.append(((0, self.size), leaf))
        while len(self._stack) >= 2 and self._stack[-1][0][0] == self._stack[-2][0][0]:
            (level, _), right = self._stack.pop()
            (_, index), left = self._stack.pop()
            parent = ((level + 1, index >> 1), node_hash(left, right))
            self._stack.append(parent)
            created.append((parent[0][0], parent[0][1], parent[1]))
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold([h for _, h in self._stack])
