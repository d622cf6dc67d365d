"""The witness's HTTP server: ``POST /add-checkpoint`` and ``GET /<origin hash>/checkpoint``.

A threaded server from the standard library speaking HTTP/1.1 with keep-alive. Each thread
has its own SQLite connection; SQLite's write lock serialises check-and-update per request,
across threads and processes. SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import re
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger.witness.protocol import MAX_BODY, Reply, add_checkpoint, monitor_checkpoint
from ledger.witness.state import WitnessHome

_MONITOR = re.compile(r"/([0-9a-f]{64})/checkpoint")


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: the standard library's 5 makes the kernel reset connections when
    # a few dozen logs or clients connect at once; each accepted one gets its own thread.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], home: WitnessHome, quiet: bool = False) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.home = home
        self.quiet = quiet
        self.local = threading.local()

    def state(self) -> WitnessHome:
        home = getattr(self.local, "home", None)
        if home is None:
            home = self.local.home = self.home.reopen()
        return home


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle or trickle a request
    server: WitnessServer

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path.split("?")[0] != "/add-checkpoint":
            self._send(Reply(404, "not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(Reply(411, "a Content-Length is required\n"))
            return
        if not 0 <= length <= MAX_BODY:
            self._send(Reply(400, f"request body over {MAX_BODY} bytes\n"))
            self.close_connection = True
            return
        body = self.rfile.read(length)
        self._send(add_checkpoint(self.server.state(), body))

    def do_GET(self) -> None:  # noqa: N802
        match = _MONITOR.fullmatch(self.path.split("?")[0])
        if match is None:
            self._send(Reply(404, "not found\n"))
            return
        self._send(monitor_checkpoint(self.server.state(), match.group(1)))

    def _send(self, reply: Reply) -> None:
        data = reply.body.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            sys.stderr.write(f"witness: {self.address_string()} {format % args}\n")


def serve(home: WitnessHome, host: str, port: int, quiet: bool = False) -> None:
    """Serve until SIGTERM or SIGINT."""
    server = WitnessServer((host, port), home, quiet)

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host_shown, port_shown = str(server.server_address[0]), server.server_address[1]
    host_shown = f"[{host_shown}]" if ":" in host_shown else host_shown
    print(f"witness {home.cosigner.name} listening on http://{host_shown}:{port_shown}/", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        print("witness: shutting down", file=sys.stderr, flush=True)
