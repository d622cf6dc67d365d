"""Slow clients cannot stall `provenance serve` (issue 9, item 2): requests are read whole by
waitress's I/O loop before a thread runs the app, and a request that arrives too slowly is
dropped after the header or body timeout. Loopback only; counts and waits are bounded."""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from test_serve import Server

from ledger.core.ledger import Ledger

pytestmark = pytest.mark.slow

SLOW = 64
PROBES = 12


def slow_sockets(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, half dribbling headers, half a POST body, none ever finishing."""
    out = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2:
            s.sendall(b"GET /api/v1/ledger HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        else:
            s.sendall(
                b"POST /api/v1/entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
        out.append(s)
    return out


def dribble(sockets: list[socket.socket], stop: threading.Event, every: float = 0.5) -> None:
    """One byte on every connection each ``every`` seconds until ``stop``: a slowloris."""
    while not stop.wait(every):
        for s in sockets:
            with contextlib.suppress(OSError):
                s.sendall(b"X")


@pytest.fixture
def quiet_server(ledger: Ledger) -> Iterator[Server]:
    s = Server(ledger.home, workers=1)
    try:
        yield s
    finally:
        s.stop()


def test_a_probe_is_served_while_64_slow_clients_hold_connections(quiet_server: Server) -> None:
    sockets = slow_sockets(quiet_server.port, SLOW)
    stop = threading.Event()
    t = threading.Thread(target=dribble, args=(sockets, stop))
    t.start()
    try:
        statuses = []
        for _ in range(PROBES):
            # Every thread of the single worker would be stuck reading a slow request if the
            # server handed connections to threads before the request was complete.
            with urllib.request.urlopen(quiet_server.url + "/api/v1/ledger", timeout=10) as r:
                statuses.append(r.status)
    finally:
        stop.set()
        t.join()
        for s in sockets:
            s.close()
    assert statuses == [200] * PROBES


def closed_by_server(s: socket.socket, payload: bytes, rounds: int) -> bool:
    """Send ``payload`` a byte at a time (0.2 s apart) for up to ``rounds`` bytes; True if the
    server closed the connection before we were done."""
    s.settimeout(0.2)
    for i in range(rounds):
        try:
            s.sendall(payload[i % len(payload) : i % len(payload) + 1])
            if s.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_request_arriving_too_slowly_is_dropped(ledger: Ledger, part: str) -> None:
    server = Server(
        ledger.home, workers=1, extra_env={"PROVENANCE_HEADER_TIMEOUT": "1", "PROVENANCE_BODY_TIMEOUT": "1"}
    )
    try:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        if part == "headers":
            s.sendall(b"GET /api/v1/ledger HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            payload = b"X-Slow: abcdefghijklmnopqrstuvwxyz\r\n"
        else:
            s.sendall(b"POST /api/v1/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
            payload = b"{" + b" " * 50
        # 150 bytes at 0.2 s apart is 30 s: far beyond the 1 s timeout, never reached.
        assert closed_by_server(s, payload, 150)
        s.close()
        with urllib.request.urlopen(server.url + "/api/v1/ledger", timeout=10) as r:
            assert r.status == 200
    finally:
        server.stop()
    assert "Traceback" not in server.output


def test_the_worker_is_recycled_after_max_requests(ledger: Ledger) -> None:
    server = Server(ledger.home, workers=1, extra_env={"PROVENANCE_MAX_REQUESTS": "5"})
    try:
        for _ in range(20):  # across at least three workers' lifetimes, every request answered
            with urllib.request.urlopen(server.url + "/api/v1/ledger", timeout=10) as r:
                assert r.status == 200
    finally:
        server.stop()
    assert server.output.count("Autorestarting worker") >= 2
    assert "Traceback" not in server.output
