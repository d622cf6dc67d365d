"""Findings of the review of our witnesses: a same-size fork answered 409 is an alarm, the
witness serves a hundred clients at once, and it cosigns only the exact checkpoint text."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from witnesses import ToyLog, WitnessProcess, init_witness, post, run

from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.tlog import cosignature, note
from ledger.tlog.cosignature import Cosigner
from ledger.witness import submitter
from ledger.witness.protocol import add_checkpoint
from ledger.witness.state import WitnessHome

ORIGIN = "example.com/toy-log"
NAME = "witness.example/w1"


class C2SPWitness:
    """A witness written from the tlog-witness text, holding one cosigned (size, root) for
    the log: 409 with its size when ``old`` is not that size; at the same size with another
    root, ``same_size`` (409, as some witnesses answer, or 422); otherwise it cosigns the
    exact text it was sent. It checks no signature: the test only needs its answers."""

    def __init__(self, size: int, root: bytes, same_size: int) -> None:
        self.size, self.root, self.same_size = size, root, same_size
        self.cosigner = Cosigner("c2sp.example/witness", PrivateKey.from_seed(b"\x42" * 32))
        self.requests: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                status, ctype, text = outer.answer(body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, body: str) -> tuple[int, str, str]:
        head, _, signed = body.partition("\n\n")
        old = int(head.split("\n")[0].removeprefix("old "))
        text = signed[: signed.index("\n\n") + 1]
        _, size, root = text.split("\n")[:3]
        self.requests.append(old)
        if old != self.size:
            return 409, "text/x.tlog.size", f"{self.size}\n"
        if int(size) == self.size and base64.b64decode(root) != self.root:
            return (
                self.same_size,
                "text/x.tlog.size" if self.same_size == 409 else "text/plain",
                f"{self.size}\n",
            )
        self.size, self.root = int(size), base64.b64decode(root)
        return 200, "text/plain", self.cosigner.cosign(text, int(time.time()))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def c2sp_witness(ledger: Ledger) -> Iterator[Any]:
    made: list[C2SPWitness] = []

    def make(root: bytes | None, same_size: int = 409) -> C2SPWitness:
        size, note_text = submitter.latest_operator_note(ledger)
        w = C2SPWitness(
            size, root or note.Checkpoint.from_text(note.split_note(note_text)[0]).root, same_size
        )
        policy = (
            f"log {ledger.verifier.to_text()}\nwitness w1 {w.cosigner.vkey.to_text()} {w.url}\nquorum w1\n"
        )
        (ledger.home / "witnesses").write_text(policy)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.mark.parametrize("same_size", [409, 422])
def test_a_same_size_fork_is_an_alarm_whether_the_witness_says_409_or_422(
    ledger: Ledger, c2sp_witness: Any, same_size: int
) -> None:
    w = c2sp_witness(b"\x07" * 32, same_size)  # it cosigned another tree of our latest size
    synced = run("witness", "sync", "--home", str(ledger.home))
    assert synced.returncode == 1, synced.stdout + synced.stderr
    (state,) = map(json.loads, synced.stdout.splitlines())
    assert state["status"] == "alarm" and f"size {w.size}" in state["message"]
    assert "witness alarm: w1" in synced.stderr and "Traceback" not in synced.stderr
    assert w.requests == [0, w.size]  # resynced once from the witness's size, then stopped
    info = json.loads(run("info", "--json", "--home", str(ledger.home)).stdout)
    (shown,) = info["witnesses"]
    assert shown["status"] == "alarm" and [a["status"] for a in shown["alarms"]] == [same_size]


def test_a_409_at_the_same_size_with_our_root_is_no_alarm(ledger: Ledger, c2sp_witness: Any) -> None:
    """The witness cosigned our very checkpoint and the log lost its reply: resync and get it."""
    w = c2sp_witness(None)
    (state,) = submitter.sync(ledger.home)
    assert state["status"] == "ok" and state["cosigned_size"] == w.size
    assert w.requests == [0, w.size]


def test_a_hundred_clients_at_once_all_get_answers(tmp_path: Path) -> None:
    """The listen backlog holds a burst: no connection is reset."""
    init_witness(tmp_path / "w", NAME)
    w = WitnessProcess(tmp_path / "w")
    answers: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(100)

    def client() -> None:
        barrier.wait()
        try:
            answers.append(post(w.url + "/add-checkpoint", "old 0\n\nnot a checkpoint\n", timeout=60)[0])
        except OSError as e:
            errors.append(repr(e))

    try:
        threads = [threading.Thread(target=client) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        w.stop()
    assert errors == []
    assert answers == [400] * 100


@pytest.fixture
def home(tmp_path: Path) -> Iterator[WitnessHome]:
    w = WitnessHome.init(tmp_path / "w", NAME)
    yield w
    w.close()


def test_a_root_in_non_canonical_base64_is_refused(home: WitnessHome) -> None:
    """Padding bits set in the root's base64: the same hash, another text. A cosignature of the
    re-serialised text would not verify on the note the log sent, so the witness refuses it."""
    log = ToyLog.make(ORIGIN).grow(5)
    home.add_log(log.vkey)
    canonical = note.Checkpoint(ORIGIN, 5, b"\x00" * 31 + b"\x10").to_text()
    b64_root = canonical.split("\n")[2]
    assert b64_root.endswith("BA=")
    odd = canonical.replace(b64_root, b64_root[:-2] + "B=")  # 'A' -> 'B': a padding bit set
    assert base64.b64decode(odd.split("\n")[2]) == b"\x00" * 31 + b"\x10"
    r = add_checkpoint(home, f"old 0\n\n{log.signer.sign_note(odd)}".encode())
    assert (r.status, r.body) == (400, "checkpoint: the root hash is not in canonical base64\n")
    assert home.log(ORIGIN).size == 0  # type: ignore[union-attr]


def test_the_witness_cosigns_and_keeps_the_exact_text_it_verified(home: WitnessHome) -> None:
    log = ToyLog.make(ORIGIN).grow(5)
    home.add_log(log.vkey)
    sent = log.checkpoint()
    r = add_checkpoint(home, log.request(0).encode())
    assert r.status == 200
    assert list(cosignature.verify_cosignatures(note.add_signatures(sent, [r.body]), [home.cosigner.vkey]))
    stored = home.log(ORIGIN).note  # type: ignore[union-attr]
    assert stored is not None and stored.startswith(note.split_note(sent)[0] + "\n")
