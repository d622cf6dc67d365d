"""A gunicorn worker that serves with waitress: requests are buffered before the app sees them.

gunicorn's threaded worker hands a connection to a thread that then reads the request from
the network itself, with no read timeout: a handful of clients sending a byte every few
seconds held every thread (issue 9, item 2). Here gunicorn's arbiter still forks, watches
and restarts the worker processes (the operator key checked once before), and inside each
worker waitress's I/O loop reads every request whole (headers up to ``max_request_header_size``,
bodies up to ``max_request_body_size``, spilling to a temporary file) before one of its
``threads`` runs the app. A slow client costs a socket, not a thread.

Timeouts, checked about once a second: a request whose headers are not complete
``header_timeout`` seconds after its first byte, or whose body is not complete
``body_timeout`` seconds after its headers, is dropped; an idle keep-alive connection is
closed after ``keepalive`` seconds. After ``max_requests`` requests (with gunicorn's jitter)
the worker finishes what it has and exits, and the arbiter starts a fresh one: memory a
large trace left behind is given back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
TICK = 0.5  # seconds between heartbeats and timeout checks
DRAIN_GRACE = 1.0  # a retiring worker waits this long for a just-accepted connection's request
MAX_CONNECTIONS = 1000
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024  # the app refuses anything above its own 512 KiB limit with 413


class WaitressWorker(Worker):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn worker process running one waitress server on the arbiter's sockets."""

    alive: bool
    nr: int
    max_requests: int

    def run(self) -> None:
        env = os.environ
        self.header_timeout = float(env.get("PROVENANCE_HEADER_TIMEOUT", HEADER_TIMEOUT))
        self.body_timeout = float(env.get("PROVENANCE_BODY_TIMEOUT", BODY_TIMEOUT))
        self.server_map: dict[int, Any] = {}
        server = create_server(
            self.counting(self.wsgi),
            map=self.server_map,
            sockets=[s.sock for s in self.sockets],
            threads=self.cfg.threads,
            connection_limit=MAX_CONNECTIONS,
            channel_timeout=self.cfg.keepalive or 5,
            max_request_header_size=MAX_HEADER_BYTES,
            max_request_body_size=MAX_BODY_BYTES,
            asyncore_use_poll=True,
            ident="provenance",
            expose_tracebacks=False,
            url_scheme="http",
        )
        self.listeners = [d for d in self.server_map.values() if isinstance(d, BaseWSGIServer)]
        try:
            while self.alive:
                self.tick()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
            self.drain()
        finally:
            server.task_dispatcher.shutdown(cancel_pending=False, timeout=self.cfg.graceful_timeout)

    def tick(self) -> None:
        self.notify()
        wasyncore.loop(timeout=TICK, use_poll=True, map=self.server_map, count=1)
        self.enforce_timeouts(time.monotonic())

    def enforce_timeouts(self, now: float) -> None:
        """Drop connections whose request is arriving too slowly (header and body timeouts)."""
        for channel in list(self.server_map.values()):
            if not isinstance(channel, HTTPChannel):
                continue
            parser = channel.request
            if parser is None or parser.completed:
                continue
            started = parser.__dict__.setdefault("provenance_started", now)
            if not parser.headers_finished:
                late = now - started > self.header_timeout
            else:
                body_from = parser.__dict__.setdefault("provenance_body_from", now)
                late = now - body_from > self.body_timeout
            if late and not channel.will_close:
                self.log.info("closing a connection whose request arrives too slowly")
                channel.will_close = True

    def drain(self) -> None:
        """Stop listening; finish the requests under way, and any that a connection accepted
        just before is still sending (a short grace), within the graceful timeout; close
        idle connections."""
        for listener in self.listeners:  # unpolled, not closed: close() would also close the
            listener.del_channel()  # trigger by which app threads wake the loop to send answers
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            channels = [d for d in self.server_map.values() if isinstance(d, HTTPChannel)]
            if not channels:
                return
            now = time.time()  # waitress keeps last_activity in wall-clock time
            for channel in channels:
                quiet = not (channel.requests or channel.total_outbufs_len or channel.request)
                if quiet and now - channel.last_activity > DRAIN_GRACE:
                    channel.will_close = True
            self.notify()
            wasyncore.loop(timeout=0.1, use_poll=True, map=self.server_map, count=1)

    def counting(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """The app, counting requests: after ``max_requests`` the worker retires."""

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            self.nr += 1
            if self.nr >= self.max_requests and self.alive:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self.cfg.accesslog:
                return app(environ, start_response)

            def logged(status: str, headers: Any, *exc: Any) -> Any:
                self.log.access_log.info(
                    '%s "%s %s" %s',
                    environ.get("REMOTE_ADDR", "-"),
                    environ.get("REQUEST_METHOD"),
                    environ.get("PATH_INFO"),
                    status.split(" ", 1)[0],
                )
                return start_response(status, headers, *exc)

            return app(environ, logged)

        return wsgi
