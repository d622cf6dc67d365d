"""Helpers for witness tests: a witness as a real process, a bare HTTP client, and a toy log
(leaves in memory, checkpoints signed with a note key) to feed it."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from test_serve import PROVENANCE, environment, free_port

from ledger.crypto.keys import PrivateKey
from ledger.tlog import merkle, note


def post(url: str, body: bytes | str, timeout: float = 10) -> tuple[int, str, str]:
    """POST ``body`` to ``url``: (status, Content-Type, body text)."""
    data = body.encode() if isinstance(body, str) else body
    host, _, path = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.request("POST", "/" + path, body=data)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read().decode()
    finally:
        conn.close()


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    host, _, path = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.request("GET", "/" + path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PROVENANCE, *args], capture_output=True, text=True, env=environment(), timeout=60, check=False
    )


class WitnessProcess:
    """``provenance witness serve`` on a free loopback port, as its own process."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = home
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PROVENANCE, "witness", "serve", "--home", str(self.home), "--port", str(self.port), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment(),
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                out = self.stop()
                raise AssertionError(f"witness did not start: {out}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()

    def stop(self) -> str:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        out = self.proc.stdout.read().decode("utf-8", "replace") if self.proc.stdout else ""
        if self.proc.stdout:
            self.proc.stdout.close()
        return out

    def add_checkpoint(self, body: str) -> tuple[int, str, str]:
        return post(self.url + "/add-checkpoint", body)


def init_witness(home: Path, name: str) -> str:
    """``provenance witness init``; returns the printed vkey."""
    proc = run("witness", "init", "--home", str(home), "--name", name)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@dataclass
class ToyLog:
    """A log in memory: leaf hashes, checkpoints signed by ``signer``."""

    signer: note.Signer
    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def make(cls, origin: str, seed: bytes = b"\x11" * 32) -> ToyLog:
        return cls(note.Signer(origin, PrivateKey.from_seed(seed)))

    def grow(self, n: int, tag: bytes = b"") -> ToyLog:
        start = len(self.leaves)
        self.leaves += [merkle.leaf_hash(tag + str(start + i).encode()) for i in range(n)]
        return self

    def fork(self) -> ToyLog:
        return ToyLog(self.signer, list(self.leaves))

    @property
    def vkey(self) -> str:
        return self.signer.verifier.to_text()

    def checkpoint(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        cp = note.Checkpoint(self.signer.name, size, merkle.mth(self.leaves[:size]))
        return note.SignedCheckpoint.sign(cp, self.signer).note

    def proof(self, old: int, new: int | None = None) -> list[str]:
        new = len(self.leaves) if new is None else new
        hashes = merkle.resolve_from_leaves(merkle.consistency_ranges(old, new), self.leaves[:new])
        return [base64.b64encode(h).decode() for h in hashes]

    def request(self, old: int, size: int | None = None) -> str:
        """An add-checkpoint body from ``old`` to ``size`` (default: all leaves)."""
        lines = [f"old {old}", *self.proof(old, size)]
        return "\n".join(lines) + "\n\n" + self.checkpoint(size)
