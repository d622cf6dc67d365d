"""The verifiable trace bundle: the whole answer, checkable offline (SPEC §2-§5, §8-§10).

A bundle is the trace JSON plus the operator's verifier key, one signed checkpoint, every
entry the trace involved (its exact canonical bytes and an RFC 9162 inclusion proof against
that checkpoint), the policy applied, and the operator's signature over all of it::

    operator_signature = Ed25519(operator key,
                                 BUNDLE_PREFIX ‖ JCS(bundle without "operator_signature"))

The signature is what stops a holder from dropping an inconvenient audit entry and
re-deriving a clean verdict: the proofs show each entry is in the log, the operator vouches
that the set is the one its ledger answered with.

``verify_bundle`` trusts nothing the bundle claims. It checks every entry's hash and proof,
replays the key event logs of every issuer from the bundle (SPEC v2 §12: inceptions,
rotations, admissions, suspensions, and the operator's own from genesis) and checks each
entry's signature with the key its issuer had at that entry, then the checkpoint and the
operator's signature with the operator key its key events give for the checkpoint's size,
and finally re-derives the trace from the entries with the same ``trace.derive`` the live
ledger uses and compares every claimed field with the derived one.
"""

from __future__ import annotations

from typing import Any

from ledger.crypto import canonical
from ledger.crypto.keys import b64, unb64, verify_raw
from ledger.errors import BadSignature, LedgerError, Malformed, NotFound, ProofError
from ledger.model.keylog import KeyLog
from ledger.model.statements import Entry
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Verifier
from ledger.tlog.policy import Policy as WitnessPolicy
from ledger.trace.entries import EntrySet
from ledger.trace.policy import Policy
from ledger.trace.walk import TRACE_KEYS, TraceReport, collect, derive

FORMAT = "provenance-trace/v2"
BUNDLE_PREFIX = b"provenance-ledger/v2 bundle\n"
BUNDLE_KEYS = ("format", "origin", "vkey", "checkpoint", "entries", "policy")
SIGNATURE_KEY = "operator_signature"


class BundleMismatch(LedgerError):
    """The bundle's claims do not follow from its entries."""

    status, code = 400, "bundle-mismatch"


def bundle_message(bundle: dict[str, Any]) -> bytes:
    """The bytes the operator signs: the prefix and JCS of the bundle without its signature."""
    unsigned = {k: v for k, v in bundle.items() if k != SIGNATURE_KEY}
    return BUNDLE_PREFIX + canonical.jcs(unsigned)


def build_bundle(
    ledger: Any,
    gtin: str,
    batch: str,
    *,
    at: str | None = None,
    policy: Policy | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The signed bundle of the trace of ``(gtin, batch)`` (module docstring).

    Raises what ``trace.collect`` raises (``TraceTooLarge`` over ``limit`` entries), and
    ``ConfigError`` if the operator key is unusable.
    """
    if policy is None:
        policy = Policy.load(ledger.home)
    report, source, checkpoint = collect(ledger, gtin, batch, at=at, policy=policy, limit=limit)
    # Signatures are checked against key event logs: the bundle carries every issuer's
    # (with its admissions and suspensions), the operator's from genesis.
    issuers = {e.statement.issuer for e in source.entries.values()} | {"operator"}
    for issuer in sorted(issuers):
        source.registrations(issuer)
    size = checkpoint.checkpoint.size
    # As of a day, the checkpoint's last entry shows a verifier whether the checkpoint is of
    # that time (ledger/trace/asof.py).
    wanted = [s for s in ((0, size - 1) if at is not None else (0,)) if s not in source.entries]
    if wanted:
        source.add(ledger_entries(ledger, wanted))
    nodes = ledger.node_cache()
    entries = []
    for seq in sorted(source.entries):
        e = source.entries[seq]
        proof = ledger.inclusion_proof(seq, size, nodes)
        entries.append(
            {
                "seq": seq,
                "entry_hash": e.hash.hex(),
                "canonical": b64(e.canonical),
                "inclusion_proof": proof.to_json(),
            }
        )
    bundle: dict[str, Any] = {
        **report.to_json(),
        "format": FORMAT,
        "origin": ledger.origin,
        "vkey": ledger.verifier_at(size).to_text(),
        "checkpoint": checkpoint.note,
        "entries": entries,
        "policy": policy.to_json(),
    }
    # The same derivation over exactly the bundled entries must give the same answer.
    offline = derive(
        EntrySet(size, at, source.entries.values()), report.product["gtin"], report.product["batch"], policy
    )
    if offline.to_json() != report.to_json():
        raise BundleMismatch("internal error: the bundled entries do not reproduce the trace")
    bundle[SIGNATURE_KEY] = b64(ledger.operator_key.sign(bundle_message(bundle)))
    return bundle


def ledger_entries(ledger: Any, seqs: list[int]) -> list[Entry]:
    return [ledger.entry(s) for s in seqs]


def verify_bundle(
    bundle: Any, *, vkey: str | None = None, witnesses: WitnessPolicy | None = None
) -> TraceReport:
    """Check ``bundle`` offline and return the trace re-derived from its entries.

    ``vkey``: the operator's verifier key as published (note form), its genesis key or any
    later one: the bundle's operator key must be it or follow from it by the operator's
    rotations in the bundle. Without it, the bundle's own key is used, which proves only
    that whoever holds that key vouches for the bundle.
    ``witnesses``: a witness policy (C2SP tlog-policy) whose quorum must have cosigned the
    checkpoint, and whose ``log`` lines, if any, must hold the operator's key.
    Raises ``Malformed``, ``BadSignature``, ``ProofError``/``RootMismatch`` or
    ``BundleMismatch`` naming what failed; returns only if everything checks.
    """
    if not isinstance(bundle, dict):
        raise Malformed("a bundle must be a JSON object")
    keys = set(TRACE_KEYS) | set(BUNDLE_KEYS) | {SIGNATURE_KEY}
    missing, unknown = sorted(keys - set(bundle)), sorted(set(bundle) - keys)
    if missing:
        raise Malformed(f"bundle lacks {', '.join(missing)}")
    if unknown:
        raise Malformed(f"bundle has unknown field {unknown[0]!r}")
    if bundle["format"] != FORMAT:
        raise Malformed(f"bundle format {bundle['format']!r} is not {FORMAT!r}", field="format")
    canonical.check_value(bundle)
    verifier = _verifier(bundle)
    checkpoint = _checkpoint(bundle, verifier, witnesses)
    if checkpoint.origin != bundle["origin"]:
        raise Malformed(
            f"checkpoint origin {checkpoint.origin!r} is not the bundle's {bundle['origin']!r}",
            field="origin",
        )
    sig = unb64(_text(bundle, SIGNATURE_KEY), field=SIGNATURE_KEY, size=64)
    try:
        verify_raw(verifier.public.raw, sig, bundle_message(bundle))
    except BadSignature as e:
        raise BadSignature(
            "the bundle is not signed by the operator's key: it was altered after the operator issued it",
            field=SIGNATURE_KEY,
        ) from e
    entries = _entries(bundle["entries"], checkpoint.size, checkpoint.root)
    operator = _check_signatures(entries).parties["operator"]
    if verifier.public not in operator.keys.values():
        raise BadSignature(
            "the bundle's verifier key is not the operator's key at its checkpoint, by the operator's"
            " key events in the bundle",
            field="vkey",
        )
    if vkey is not None:
        pinned = Verifier.from_text(vkey)
        if pinned.name != verifier.name or pinned.public.raw not in operator.ever:
            raise BadSignature(
                f"the bundle's verifier key {bundle['vkey']} is not the operator's key {vkey.strip()}"
                " nor one that key's rotations lead to",
                field="vkey",
            )
    policy = Policy.from_json(bundle["policy"], "bundle policy")
    as_of = bundle["as_of"]
    if as_of is not None:
        from ledger.model.fields import date

        date(as_of, "as_of")
    if bundle["size"] != checkpoint.size:
        raise BundleMismatch(
            f"the bundle says size {bundle['size']!r}, its checkpoint {checkpoint.size}", field="size"
        )
    product = bundle["product"]
    if (
        not isinstance(product, dict)
        or not isinstance(product.get("gtin"), str)
        or not isinstance(product.get("batch"), str)
    ):
        raise Malformed("bundle product needs a gtin and a batch", field="product")
    try:
        report = derive(
            EntrySet(checkpoint.size, as_of, entries.values()), product["gtin"], product["batch"], policy
        )
    except NotFound as e:
        raise BundleMismatch(
            f"the bundle's entries hold no such product: {e.message}", field="product"
        ) from e
    derived = report.to_json()
    for key in TRACE_KEYS:
        if bundle[key] != derived[key]:
            why = _difference(bundle[key], derived[key])
            raise BundleMismatch(f"the bundle's {key!r} does not follow from its entries: {why}", field=key)
    return report


def _text(bundle: dict[str, Any], key: str) -> str:
    value = bundle[key]
    if not isinstance(value, str):
        raise Malformed("must be a string", field=key)
    return value


def _checkpoint(bundle: dict[str, Any], verifier: Verifier, witnesses: WitnessPolicy | None) -> Checkpoint:
    """The bundle's checkpoint: signed by the operator, and cosigned as ``witnesses`` require.
    The one place a bundle's checkpoint is judged."""
    note = _text(bundle, "checkpoint")
    if witnesses is None:
        return SignedCheckpoint.open(note, verifier).checkpoint
    return witnesses.check(note, verifier).checkpoint


def _verifier(bundle: dict[str, Any]) -> Verifier:
    verifier = Verifier.from_text(_text(bundle, "vkey"))
    if verifier.name != bundle["origin"]:
        raise Malformed(
            f"verifier key name {verifier.name!r} is not the origin {bundle['origin']!r}", field="vkey"
        )
    return verifier


def _entries(items: Any, size: int, root: bytes) -> dict[int, Entry]:
    """Each entry: canonical bytes, hash and inclusion proof against the checkpoint."""
    if not isinstance(items, list):
        raise Malformed("must be a list", field="entries")
    out: dict[int, Entry] = {}
    for i, item in enumerate(items):
        where = f"entries[{i}]"
        if not isinstance(item, dict) or set(item) != {"seq", "entry_hash", "canonical", "inclusion_proof"}:
            raise Malformed("must hold exactly seq, entry_hash, canonical, inclusion_proof", field=where)
        data = (
            unb64(item["canonical"], field=f"{where}.canonical")
            if isinstance(item["canonical"], str)
            else b""
        )
        entry = Entry.from_canonical(data)
        seq = entry.seq
        if item["seq"] != seq or seq in out:
            raise Malformed(
                f"holds entry {seq}, which is not its seq {item['seq']!r} or appears twice",
                field=f"{where}.seq",
            )
        leaf = merkle.leaf_hash(data)
        if item["entry_hash"] != leaf.hex():
            raise ProofError(
                f"entry {seq}: entry_hash is not the hash of its canonical bytes", field=f"{where}.entry_hash"
            )
        proof = merkle.InclusionProof.from_json(item["inclusion_proof"])
        if proof.leaf_index != seq or proof.tree_size != size:
            raise ProofError(
                f"entry {seq}: the proof is for leaf {proof.leaf_index} of "
                f"{proof.tree_size}, not {seq} of {size}",
                field=f"{where}.inclusion_proof",
            )
        try:
            merkle.verify_inclusion(seq, size, leaf, proof.hashes, root)
        except LedgerError as e:
            raise ProofError(
                f"entry {seq} is not in the checkpointed log: {e.message}", field=f"{where}.inclusion_proof"
            ) from e
        out[seq] = entry
    return out


def _check_signatures(entries: dict[int, Entry]) -> KeyLog:
    """Each entry is signed by its issuer with a key it had at its seq, by the key event logs
    in the bundle replayed from genesis (SPEC §6, §12). Returns the replayed logs."""
    genesis = entries.get(0)
    if genesis is None or genesis.statement.type != "genesis":
        raise Malformed("the bundle lacks the genesis entry (seq 0)", field="entries")
    keylog = KeyLog()
    for seq in sorted(entries):
        try:
            keylog.verify(entries[seq])
        except BadSignature:
            raise
        except LedgerError as e:
            raise Malformed(e.message.replace(" here", " in the bundle"), field="entries") from e
    return keylog


def _difference(claimed: Any, derived: Any, path: str = "") -> str:
    """Where two JSON values first differ, in words."""
    if isinstance(claimed, dict) and isinstance(derived, dict):
        for k in sorted(set(claimed) | set(derived)):
            if claimed.get(k, ...) != derived.get(k, ...):
                return _difference(claimed.get(k), derived.get(k), f"{path}.{k}" if path else k)
    if isinstance(claimed, list) and isinstance(derived, list):
        if len(claimed) != len(derived):
            return f"{path or 'it'} has {len(claimed)} items, the entries give {len(derived)}"
        for i, (a, b) in enumerate(zip(claimed, derived, strict=True)):
            if a != b:
                return _difference(a, b, f"{path}[{i}]")
    return f"{path or 'it'} is {_short(claimed)}, the entries give {_short(derived)}"


def _short(value: Any) -> str:
    text = canonical.jcs(value).decode()
    return text if len(text) <= 120 else text[:117] + "..."
