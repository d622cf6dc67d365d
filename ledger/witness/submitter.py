"""The log's side of witnessing (SPEC §14): send each new checkpoint to every witness of the
policy in ``<ledger home>/witnesses`` and keep what they cosign.

Per witness, as Tessera's witness client does: the size the witness last cosigned is kept
(in the ledger file), the request carries a consistency proof from it (each proof computed
once and shared by every witness at that size), a 409 tells the witness's size and the
request is sent once more from there, and each request has its own timeout. Every witness
has its own thread; the appends never wait for any of them.

A refusal for inconsistency (422, or a 409 naming the very size sent from that size: the
witness holds another root for it), or a witness that has cosigned a larger tree than the log
holds, is an alarm: logged, stored for good in the ledger file, and shown in
``GET /api/v1/ledger``. It is never cleared by a later success.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ledger.core.ledger import Ledger, format_time, utc_now
from ledger.crypto.keys import PublicKey
from ledger.errors import ConfigError, LedgerError
from ledger.store import cosignatures
from ledger.store import sqlite as store
from ledger.tlog.cosignature import VerifierKey, verify_cosignatures
from ledger.tlog.note import Verifier, add_signatures
from ledger.tlog.policy import Policy, Witness
from ledger.witness.client import Answer, Unreachable, WitnessClient

POLICY_NAME = "witnesses"
DEFAULT_TIMEOUT = 5.0
TIMEOUT_ENV = "PROVENANCE_WITNESS_TIMEOUT"
POLL_SECONDS = 0.2
MAX_BACKOFF = 30.0
log = logging.getLogger("provenance.witness")


def load_policy(home: Path) -> Policy | None:
    """The ledger's witness policy, or None when ``<home>/witnesses`` does not exist."""
    path = home / POLICY_NAME
    return Policy.load(path) if path.exists() else None


@dataclass
class WitnessState:
    vkey: str
    name: str
    url: str | None
    size: int | None = None  # the size the witness last cosigned, as far as the log knows
    cosigned_size: int | None = None  # the latest size whose cosignature the log holds
    status: str = "new"  # ok, new, unreachable, refused, unknown-log, bad-reply, alarm
    message: str = ""
    checked_at: str = ""


class ProofCache:
    """Consistency proofs by (old, new), computed once and shared across witnesses."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proofs: dict[tuple[int, int], tuple[bytes, ...]] = {}

    def get(self, ledger: Ledger, old: int, new: int) -> tuple[bytes, ...]:
        with self.lock:
            if (old, new) not in self.proofs:
                if len(self.proofs) > 1024:
                    self.proofs.clear()
                hashes = () if old in (0, new) else ledger.consistency_proof(old, new).hashes
                self.proofs[old, new] = hashes
            return self.proofs[old, new]


class WitnessWorker:
    """Everything the log does with one witness."""

    def __init__(self, home: Path, witness: Witness, proofs: ProofCache, timeout: float) -> None:
        self.home = home
        self.witness = witness
        self.proofs = proofs
        self.client = WitnessClient(witness.url or "", timeout)
        self.key = witness.vkey.to_text()
        self.ledger: Ledger | None = None
        self.state = WitnessState(self.key, witness.name, witness.url)
        self.failures = 0
        self.next_try = 0.0
        self.seen: int | None = None  # the last size sent in this process

    def open(self) -> Ledger:
        if self.ledger is None:
            self.ledger = Ledger.open(self.home)
            saved = cosignatures.states(self.ledger.conn).get(self.key)
            if saved:
                self.state = WitnessState(**{**saved, "name": self.witness.name, "url": self.witness.url})
        return self.ledger

    def close(self) -> None:
        self.client.close()
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None

    def due(self, size: int) -> bool:
        """Whether checkpoint ``size`` should go to this witness now: not if it is cosigned;
        after a refusal or an alarm only once per new size (never retried away); after a
        network failure, when its backoff has passed."""
        if self.state.cosigned_size == size:
            return False
        if self.state.status in ("refused", "unknown-log", "alarm", "bad-reply"):
            return self.seen != size
        return time.monotonic() >= self.next_try

    def submit(self, size: int, note: str) -> WitnessState:
        """Send the operator's checkpoint ``note`` of ``size``; record the outcome."""
        ledger = self.open()
        self.seen = size
        old = self.state.size if self.state.size is not None and self.state.size <= size else 0
        try:
            for _ in range(2):
                proof = self.proofs.get(ledger, old, size)
                answer = self.client.add_checkpoint(old, proof, note)
                stale = answer.conflict_size()
                if stale is None:
                    self._answered(ledger, answer, old, size, note)
                    break
                self.state.size = stale
                if stale == size and old == size:
                    # Asked from its own size, it still will not cosign this size: it holds
                    # another checkpoint of the same size (C2SP witnesses may say 409 here).
                    self._alarm(
                        ledger,
                        size,
                        409,
                        f"the witness has cosigned another checkpoint of size {size}: refused this"
                        f" one as inconsistent (409 at the same size)",
                    )
                    break
                if stale > size:
                    self._alarm(
                        ledger,
                        size,
                        409,
                        f"the witness has cosigned size {stale}, larger than this log's {size}",
                    )
                    break
                old = stale  # resync once from the witness's size
            else:
                self._set("bad-reply", "the witness answered 409 twice")
        except Unreachable as e:
            self._set("unreachable", str(e))
        except LedgerError as e:
            self._set("error", e.describe())
        self._save(ledger)
        return self.state

    def _answered(self, ledger: Ledger, answer: Answer, old: int, size: int, note: str) -> None:
        body = answer.body.strip()[:300]
        if answer.status == 200:
            try:
                found = verify_cosignatures(add_signatures(note, [answer.body]), [self.witness.vkey])
            except LedgerError as e:
                self._set("bad-reply", f"cosignature does not verify: {e.describe()}")
                return
            if not found:
                self._set("bad-reply", "no cosignature by the witness's key in its reply")
                return
            cosig = found[self.witness.vkey.name]
            with store.write_transaction(ledger.conn):
                cosignatures.add(ledger.conn, size, self.key, cosig.line, cosig.timestamp)
            self.state.size = self.state.cosigned_size = size
            self._set("ok", f"cosigned size {size}")
        elif answer.status == 422:
            self._alarm(ledger, size, 422, f"refused size {size} from old {old} as inconsistent: {body}")
        elif answer.status == 403:
            self._set("refused", f"403: the witness does not accept the operator's signature: {body}")
        elif answer.status == 404:
            self._set("unknown-log", f"404: the witness does not know this log: {body}")
        else:
            self._set("bad-reply", f"HTTP {answer.status}: {body}")

    def _set(self, status: str, message: str) -> None:
        self.state.status, self.state.message = status, message
        self.state.checked_at = format_time(utc_now())
        if status in ("ok", "new"):
            self.failures, self.next_try = 0, 0.0
        else:
            self.failures += 1
            self.next_try = time.monotonic() + min(MAX_BACKOFF, 0.5 * 2 ** min(self.failures, 8))

    def _alarm(self, ledger: Ledger, size: int, status: int, message: str) -> None:
        self._set("alarm", message)
        log.error("witness alarm: %s (%s): %s", self.witness.name, self.witness.url, message)
        print(f"witness alarm: {self.witness.name}: {message}", file=sys.stderr, flush=True)
        last = [a for a in cosignatures.alarms(ledger.conn) if a["vkey"] == self.key][-1:]
        if last and (last[0]["status"], last[0]["message"]) == (status, message):
            return  # the same alarm again: it stands already
        with store.write_transaction(ledger.conn):
            cosignatures.add_alarm(
                ledger.conn, self.key, self.witness.name, self.state.checked_at, size, status, message
            )

    def _save(self, ledger: Ledger) -> None:
        with store.write_transaction(ledger.conn):
            cosignatures.set_state(ledger.conn, asdict(self.state))


def latest_operator_note(ledger: Ledger) -> tuple[int, str]:
    """The latest checkpoint exactly as the operator signed it."""
    row = store.latest_checkpoint(ledger.conn)
    if row is None:
        raise LedgerError("the ledger has no checkpoint yet")
    return row[0], row[2]


def workers_for(home: Path, policy: Policy, timeout: float) -> list[WitnessWorker]:
    proofs = ProofCache()
    return [WitnessWorker(home, w, proofs, timeout) for w in policy.witnesses.values() if w.url]


def sync(home: Path, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
    """Send the latest checkpoint to every witness of the policy at once; return their states."""
    policy = load_policy(home)
    if policy is None:
        return []
    with Ledger.open(home) as ledger:
        size, note = latest_operator_note(ledger)
    workers = workers_for(home, policy, timeout)
    threads = [threading.Thread(target=w.submit, args=(size, note)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workers:
        w.close()
    return [asdict(w.state) for w in workers]


def follow(
    home: Path,
    timeout: float = DEFAULT_TIMEOUT,
    stop: threading.Event | None = None,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Submit every new checkpoint until ``stop`` is set or ``alive()`` turns false: a thread
    per witness, each polling the ledger's latest size."""
    policy = load_policy(home)
    if policy is None:
        return
    stop = stop or threading.Event()

    def run(worker: WitnessWorker) -> None:
        try:
            ledger = worker.open()
            while not stop.is_set() and alive():
                try:
                    size, note = latest_operator_note(ledger)
                    if worker.due(size):
                        worker.submit(size, note)
                except LedgerError as e:
                    log.warning("witness %s: %s", worker.witness.name, e.describe())
                stop.wait(POLL_SECONDS)
        finally:
            worker.close()

    threads = [
        threading.Thread(target=run, args=(w,), daemon=True) for w in workers_for(home, policy, timeout)
    ]
    for t in threads:
        t.start()
    while not stop.is_set() and alive():
        stop.wait(POLL_SECONDS)
    stop.set()
    for t in threads:
        t.join(timeout + 1)


def status(ledger: Ledger) -> dict[str, Any]:
    """What ``GET /api/v1/ledger`` shows of witnessing: each policy witness's state and
    alarms, and whether the latest checkpoint meets the quorum."""
    try:
        policy = load_policy(ledger.home)
    except LedgerError as e:  # a broken policy file must not break the ledger's front page
        return {"witnesses": [], "quorum": {"rule": None, "met": False, "error": e.describe()}}
    if policy is None:
        return {"witnesses": [], "quorum": None}
    states = cosignatures.states(ledger.conn)
    alarms = cosignatures.alarms(ledger.conn)
    cp = ledger.latest_checkpoint()
    cosigned = policy.cosigned_by(cp.note)
    out = []
    for name, w in policy.witnesses.items():
        key = w.vkey.to_text()
        st = states.get(key, {})
        out.append(
            {
                "name": name,
                "vkey": key,
                "url": w.url,
                "size": st.get("size"),
                "cosigned_size": st.get("cosigned_size"),
                "status": st.get("status", "new"),
                "message": st.get("message", ""),
                "checked_at": st.get("checked_at"),
                "cosigned_latest": name in cosigned,
                "alarms": [
                    {k: a[k] for k in ("at", "size", "status", "message")} for a in alarms if a["vkey"] == key
                ],
            }
        )
    return {
        "witnesses": out,
        "quorum": {
            "rule": policy.describe_quorum(),
            "met": policy.satisfied(set(cosigned)),
            "size": cp.checkpoint.size,
        },
    }


def check_witnessed(conn: sqlite3.Connection, policy: Policy, note: str | None) -> list[str]:
    """``provenance verify --policy``: whether ``note`` (default: the ledger's latest served
    checkpoint) is signed by the ledger's genesis key and cosigned by the policy's quorum.
    Returns the problem as one line, or nothing."""
    try:
        row = store.entry_row(conn, 0)
        origin = store.get_meta(conn, "origin")
        if row is None or origin is None:
            raise LedgerError("the ledger has no genesis")
        verifier = Verifier(origin, PublicKey.from_b64(json.loads(row[0])["statement"]["body"]["key"]))
        if note is None:
            latest = store.latest_checkpoint(conn)
            if latest is None:
                raise LedgerError("the ledger has no checkpoint")
            note = add_signatures(latest[2], cosignatures.lines(conn, latest[0]))
        policy.check(note, verifier)
    except LedgerError as e:
        return [f"checkpoint: {e.code}: {e.describe()}"]
    except (ValueError, KeyError, TypeError) as e:
        return [f"checkpoint: the genesis entry is unreadable: {e}"]
    return []


def audit_cosignatures(conn: sqlite3.Connection) -> list[str]:
    """``provenance verify``: every stored cosignature must verify, with the witness key it is
    filed under, on the operator's checkpoint of its size. One line per problem."""
    problems: list[str] = []
    try:
        stored = cosignatures.all_lines(conn)
    except sqlite3.DatabaseError as e:
        return [f"cosignatures: the table cannot be read: {e}"]
    for size, vkey_text, line in stored:
        where = f"checkpoint {size}: cosignature of {vkey_text.split('+', 1)[0]}"
        try:
            vkey = VerifierKey.from_text(vkey_text)
            row = store.checkpoint_at(conn, size)
            if row is None:
                raise LedgerError("there is no checkpoint of that size")
            if not verify_cosignatures(add_signatures(row[2], [line]), [vkey]):
                raise LedgerError("its line is not by that key")
        except LedgerError as e:
            problems.append(f"{where}: {e.describe()}")
    return problems


def witnessed_by(home: Path, note: str) -> list[dict[str, Any]] | None:
    """The witnesses of the ledger's policy whose cosignature on ``note`` verifies: their
    policy name, key name and cosigning time (for the shopper's page); None without a policy."""
    try:
        policy = load_policy(home)
        if policy is None:
            return None
        found = policy.cosigned_by(note)
    except LedgerError:
        return []
    return [
        {
            "name": n,
            "key": c.name,
            "at": dt.datetime.fromtimestamp(c.timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        for n, c in sorted(found.items())
    ]


@contextlib.contextmanager
def background(home: Path) -> Iterator[subprocess.Popen[bytes] | None]:
    """Run the submitter as its own process while the body runs (``provenance serve``); none
    without a policy. A broken policy stops here, with one clear line, before serving. The
    per-request timeout is ``$PROVENANCE_WITNESS_TIMEOUT`` seconds (default 5)."""
    if load_policy(home) is None:
        yield None
        return
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)
    except ValueError as e:
        raise ConfigError(f"{TIMEOUT_ENV} must be a number of seconds") from e
    proc = subprocess.Popen([sys.executable, "-m", "ledger.witness.submitter", str(home), str(timeout)])
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def main() -> None:
    """``python -m ledger.witness.submitter HOME``: follow until the parent process exits
    (``provenance serve`` starts it beside the web server)."""
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    home = Path(sys.argv[1])
    parent = os.getppid()
    try:
        follow(
            home,
            float(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_TIMEOUT,
            alive=lambda: os.getppid() == parent,
        )
    except LedgerError as e:
        print(f"witness submitter: {e.describe()}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
