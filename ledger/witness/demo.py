"""Witnesses for ``provenance demo``: three witness processes beside the demo ledger, a 2-of-3
policy at ``<home>/witnesses``, and the demo's checkpoint cosigned before anything is served."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ledger.core.ledger import Ledger
from ledger.errors import ConfigError
from ledger.witness import submitter
from ledger.witness.state import WitnessHome

FOLDER = "demo-witnesses"
NAMES = (
    "witness.alpine-ledger-watch.example",
    "witness.baltic-notaries.example",
    "witness.cape-audit.example",
)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _wait(host: str, port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ConfigError(f"demo witness on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise ConfigError(f"demo witness on port {port} did not start")


@contextlib.contextmanager
def demo_witnesses(home: Path, host: str = "127.0.0.1") -> Iterator[list[dict[str, str]]]:
    """Start the demo's witnesses (fresh keys each run), write the policy, cosign the latest
    checkpoint; stop the witnesses when the body ends. Yields their names, URLs and vkeys."""
    with Ledger.open(home) as ledger:
        log_vkey = ledger.verifier.to_text()
    procs: list[subprocess.Popen[bytes]] = []
    shown: list[dict[str, str]] = []
    policy = [f"log {log_vkey}"]
    try:
        for i, name in enumerate(NAMES, 1):
            w = WitnessHome.init(home / FOLDER / f"w{i}", name)
            w.add_log(log_vkey)
            vkey = w.cosigner.vkey.to_text()
            w.close()
            port = _free_port(host)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ledger.witness",
                    "serve",
                    "--home",
                    str(home / FOLDER / f"w{i}"),
                    "--host",
                    host,
                    "--port",
                    str(port),
                    "--quiet",
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            procs.append(proc)
            _wait(host, port, proc)
            url = f"http://{host}:{port}"
            policy.append(f"witness w{i} {vkey} {url}")
            shown.append({"name": name, "url": url, "vkey": vkey})
        policy += ["group demo 2 w1 w2 w3", "quorum demo"]
        (home / submitter.POLICY_NAME).write_text("\n".join(policy) + "\n")
        submitter.sync(home)
        yield shown
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
