"""``provenance serve`` and ``provenance demo``: the web app on gunicorn (SPEC §11).

Gunicorn runs in-process (a ``BaseApplication``), so ``provenance serve`` is one process
tree: an arbiter and its workers, each opening its own ledger connections. The operator
key is checked before any worker starts, and never leaves the server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ledger.cli import clean_errors, home_option
from ledger.errors import ConfigError
from ledger.ledger import Ledger, default_home

from . import create_app, digital_link

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class Server(BaseApplication):  # type: ignore[misc]
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


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_home(home: Path) -> None:
    """Open the ledger and load the operator key now, so a missing ledger or a key file
    others can read stops the server with one clear line before any worker forks."""
    with Ledger.open(home) as ledger:
        ledger.signer  # noqa: B018  (raises ConfigError)


def serve(
    home: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    base_url: str | None,
    access_log: bool,
) -> None:
    check_home(home)
    config = {"PROVENANCE_HOME": str(home.resolve()), "PROVENANCE_BASE_URL": base_url}
    options = {
        "bind": bind_address(host, port),
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
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


def serve_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--host", default=DEFAULT_HOST, show_default=True, help="Address to bind."
            ),
            click.option("--port", default=DEFAULT_PORT, show_default=True, type=int),
            click.option(
                "--workers",
                default=2,
                show_default=True,
                type=click.IntRange(1, 64),
                help="Worker processes; appends from all of them are serialised.",
            ),
            click.option(
                "--threads",
                default=4,
                show_default=True,
                type=click.IntRange(1, 64),
                help="Threads per worker.",
            ),
            click.option(
                "--base-url",
                default=None,
                help="Public URL put in QR codes (default: $PROVENANCE_BASE_URL, else the "
                "request's host).",
            ),
            click.option("--access-log/--no-access-log", default=False, help="Log each request."),
        ]
    ):
        f = option(f)
    return f


def register(main: click.Group) -> None:
    @main.command("serve")
    @home_option
    @serve_options
    @clean_errors
    def serve_cmd(
        home: Path | None,
        host: str,
        port: int,
        workers: int,
        threads: int,
        base_url: str | None,
        access_log: bool,
    ) -> None:
        """Serve the web app and API on gunicorn (a production WSGI server)."""
        base = base_url or os.environ.get("PROVENANCE_BASE_URL") or None
        serve(home or default_home(), host, port, workers, threads, base, access_log)

    @main.command("demo")
    @home_option
    @serve_options
    @click.option("--no-serve", is_flag=True, help="Build the demo ledger and stop.")
    @clean_errors
    def demo_cmd(
        home: Path | None,
        host: str,
        port: int,
        workers: int,
        threads: int,
        base_url: str | None,
        access_log: bool,
        no_serve: bool,
    ) -> None:
        """Rebuild a demo ledger of realistic supply chains, print its products' page and QR
        URLs, and serve it."""
        from ledger.demo import ORIGIN, build_demo

        home = home or default_home()
        if (home / "ledger.db").exists():
            try:
                with Ledger.open(home) as existing:
                    origin = existing.origin
            except ConfigError:
                origin = None
            if origin != ORIGIN:
                raise ConfigError(
                    f"{home} holds a ledger that is not a demo ({origin}); "
                    "refusing to replace it: pick another --home"
                )
        shown_host = "localhost" if host in ("0.0.0.0", "::") else host
        base = (
            base_url
            or os.environ.get("PROVENANCE_BASE_URL")
            or f"http://{bind_address(shown_host, port)}"
        ).rstrip("/")
        products = build_demo(home, base)
        click.echo(f"Demo ledger built in {home}")
        for p in products:
            page = base + digital_link.path(p["gtin"], p["batch"])
            click.echo(
                f"\n{p['name']} ({p['brand']})\n  page: {page}\n  QR:   {page}/qr.png"
                f"\n  label: {page}/label"
            )
        if no_serve:
            return
        click.echo(f"\nServing on http://{bind_address(host, port)}/ (Ctrl-C to stop)")
        serve(home, host, port, workers, threads, base, access_log)
