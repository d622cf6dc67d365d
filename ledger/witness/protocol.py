"""C2SP tlog-witness v1 ``add-checkpoint`` and the monitoring ``checkpoint`` read, as
functions from a request body to a ``Reply`` (the HTTP server only moves bytes).

Checks run in the order the protocol gives them: a body that does not parse is 400; an
origin the witness does not know, 404; no valid signature from the log's keys (or a bad
one), 403; ``old`` above the checkpoint size, 400; ``old`` not the size last cosigned, 409
with that size as ``text/x.tlog.size``; a non-empty root for size 0, a proof from size 0, a
proof that does not verify, or another root at the same size, 422. Otherwise the new state
and the cosignature are committed to disk, then returned.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ledger.crypto.keys import verify_raw
from ledger.errors import BadSignature, LedgerError
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, SignatureLine, split_note
from ledger.witness.state import LogState, WitnessHome

MAX_BODY = 1 << 16
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"
TEXT_TYPE = "text/plain; charset=utf-8"
_OLD = re.compile(r"old (0|[1-9][0-9]{0,17})")


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = TEXT_TYPE


@dataclass(frozen=True)
class Request:
    old: int
    proof: tuple[bytes, ...]
    note: str
    checkpoint: Checkpoint
    text: str  # the checkpoint body exactly as sent: what the log signed and we cosign


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.reply = Reply(status, message + "\n")


def parse_request(body: bytes) -> Request:
    """Split an add-checkpoint body into old size, proof and checkpoint. Raises ``Refused``
    (400) naming what is wrong."""
    if len(body) > MAX_BODY:
        raise Refused(400, f"request body is {len(body)} bytes, over {MAX_BODY}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Refused(400, f"request body is not UTF-8: {e}") from e
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Refused(400, "request body has no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if match is None:
        raise Refused(400, f"first line {lines[0][:40]!r} is not 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Refused(400, f"{len(lines) - 1} consistency proof lines, at most {MAX_PROOF_LINES}")
    proof: list[bytes] = []
    for i, line in enumerate(lines[1:], 2):
        try:
            h = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError) as e:
            raise Refused(400, f"line {i}: consistency proof hash is not base64") from e
        if len(h) != 32:
            raise Refused(400, f"line {i}: consistency proof hash is {len(h)} bytes, want 32")
        proof.append(h)
    try:
        checkpoint_text, _ = split_note(note)
        checkpoint = Checkpoint.from_text(checkpoint_text)
    except LedgerError as e:
        raise Refused(400, f"checkpoint: {e.describe()}") from e
    if checkpoint.to_text() != checkpoint_text:
        # e.g. a root in base64 with non-zero padding bits: it decodes to the same hash, but
        # a cosignature covers the text, so two spellings of one tree must not both pass.
        raise Refused(400, "checkpoint: the root hash is not in canonical base64")
    return Request(int(match.group(1)), tuple(proof), note, checkpoint, checkpoint_text)


def add_checkpoint(home: WitnessHome, body: bytes, clock: Callable[[], float] = time.time) -> Reply:
    """POST <submission prefix>/add-checkpoint. Never raises for bad input: every refusal is a
    ``Reply`` with its status."""
    try:
        request = parse_request(body)
        origin = request.checkpoint.origin
        log = home.log(origin)
        if log is None or not log.verifiers:
            raise Refused(404, f"unknown log: {origin!r}")
        log_lines = _check_signature(request.note, log)
        cp = request.checkpoint
        if request.old > cp.size:
            raise Refused(400, f"old size {request.old} is above the checkpoint size {cp.size}")
        try:
            with home.locked(origin) as current:
                assert current is not None
                _check_consistency(request, current)
                line = home.cosigner.cosign(request.text, int(clock()))
                home.save(origin, cp.size, cp.root, _monitor_note(request, log_lines, line))
        except Refused as e:
            if e.reply.status == 422:  # signed by the log and inconsistent: evidence to keep
                home.record_refusal(origin, 422, str(e), body.decode())
            raise
        return Reply(200, line)
    except Refused as e:
        return e.reply


def _check_signature(note: str, log: LogState) -> list[SignatureLine]:
    """The log's signature lines in ``note``; 403 if there is none or one does not verify."""
    text, lines = split_note(note)
    keys = {(v.name, v.hash): v for v in log.verifiers}
    ours = [ln for ln in lines if (ln.name, ln.key_hash) in keys]
    for ln in ours:
        try:
            verify_raw(keys[ln.name, ln.key_hash].public.raw, ln.signature, text.encode())
        except BadSignature:
            raise Refused(403, f"invalid signature by the log key {ln.name}") from None
    if not ours:
        raise Refused(403, "invalid signature: no signature by a known key of the log")
    return ours


def _check_consistency(request: Request, current: LogState) -> None:
    cp = request.checkpoint
    if request.old != current.size:
        raise _Stale(current.size)
    if cp.size == 0 and cp.root != merkle.EMPTY_ROOT:
        raise Refused(422, "a checkpoint of size 0 must have the empty tree's root")
    if request.old == 0 and request.proof:
        raise Refused(422, "consistency proof from size 0 must be empty")
    old_root = current.root if current.root is not None else merkle.EMPTY_ROOT
    try:
        merkle.verify_consistency(request.old, cp.size, old_root, cp.root, request.proof)
    except LedgerError as e:
        if request.old == cp.size:
            raise Refused(422, f"same size {cp.size} as cosigned before but another root hash") from e
        why = f"consistency proof from size {request.old} does not verify: {e.describe()}"
        raise Refused(422, why) from e


class _Stale(Refused):
    def __init__(self, size: int) -> None:
        super().__init__(409, f"old size is stale: the last cosigned size is {size}")
        self.reply = Reply(409, f"{size}\n", SIZE_TYPE)


def _monitor_note(request: Request, log_lines: list[SignatureLine], line: str) -> str:
    """The checkpoint as monitors read it: the log's signatures the witness verified, then its
    own cosignature (other witnesses' lines are left out)."""
    return request.text + "\n" + "".join(ln.to_text() for ln in log_lines) + line


def monitor_checkpoint(home: WitnessHome, origin_hash: str) -> Reply:
    """GET <monitoring prefix>/<hex SHA-256(origin)>/checkpoint."""
    for row in home.conn.execute("SELECT origin, note FROM logs WHERE note IS NOT NULL"):
        if hashlib.sha256(row[0].encode()).hexdigest() == origin_hash:
            return Reply(200, row[1])
    return Reply(404, "no checkpoint cosigned for that log\n")
