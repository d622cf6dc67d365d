"""The web app on gunicorn, in-process (a ``BaseApplication``), so ``provenance serve`` is
one process tree: an arbiter and its workers, each opening its own ledger connections.
The operator key is checked before any worker starts, and never leaves the server.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from ledger.cli.serve import bind_address
from ledger.core.ledger import Ledger
from ledger.errors import ReadOnlyMirror
from web import create_app

MAX_REQUESTS = 2000  # a worker retires after this many requests (memory a big trace left)


class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn serving ``create_app(config)``; each worker builds its own app."""

    def __init__(self, config: dict[str, Any], options: dict[str, Any]) -> None:
        self.app_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    @staticmethod
    def settings_names() -> set[str]:
        from gunicorn.config import KNOWN_SETTINGS

        return {s.name for s in KNOWN_SETTINGS}

    def load(self) -> Any:
        return create_app(self.app_config)


def check_home(home: Path) -> None:
    """Open the ledger and load the operator key now, so a missing ledger or a key file
    others can read stops the server with one clear line before any worker forks."""
    with Ledger.open(home) as ledger, contextlib.suppress(ReadOnlyMirror):  # a mirror: reads only
        ledger.signer  # noqa: B018  (raises ConfigError)


def serve(
    home: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    base_url: str | None,
    access_log: bool,
    max_requests: int | None = None,
) -> None:
    check_home(home)
    if max_requests is None:
        max_requests = int(os.environ.get("PROVENANCE_MAX_REQUESTS") or MAX_REQUESTS)
    config = {"PROVENANCE_HOME": str(home.resolve()), "PROVENANCE_BASE_URL": base_url}
    options = {
        "bind": bind_address(host, port),
        "workers": workers,
        # waitress inside gunicorn's workers: requests are read whole before a thread runs
        # the app (web/worker.py), with header and body timeouts.
        "worker_class": "web.worker.WaitressWorker",
        "threads": threads,
        "timeout": 60,
        "keepalive": 5,
        "max_requests": max_requests,
        "max_requests_jitter": max(1, max_requests // 10),
        "graceful_timeout": 10,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "provenance",
        "limit_request_line": 8190,
    }
    if "control_socket_disable" in Server.settings_names():
        options["control_socket_disable"] = True  # gunicorn >= 24: no shared ~/.gunicorn socket
    Server(config, options).run()
