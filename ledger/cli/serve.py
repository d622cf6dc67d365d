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

from ledger.cli.commands import chosen_db, clean_errors, home_option
from ledger.core.ledger import Ledger, default_home
from ledger.store.database import DB_ENV, READ_DB_ENV

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def serve(*args: Any) -> None:
    """Imported when used: every other command starts without Flask, gunicorn and biip."""
    from ledger.witness.submitter import background
    from web.server import serve as run

    with background(args[0]):  # checkpoints go to the witnesses from a process of their own
        run(*args)


def serve_options(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to bind."),
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
                help="Public URL put in QR codes (default: $PROVENANCE_BASE_URL, else the request's host).",
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
    @click.option(
        "--read-db",
        default=None,
        help="A read replica of the database (postgresql:// URL) for the pages and API reads;"
        " appends still go to the ledger's own database.",
    )
    @clean_errors
    def serve_cmd(
        home: Path | None,
        host: str,
        port: int,
        workers: int,
        threads: int,
        base_url: str | None,
        access_log: bool,
        read_db: str | None,
    ) -> None:
        """Serve the web app and API on gunicorn (a production WSGI server)."""
        base = base_url or os.environ.get("PROVENANCE_BASE_URL") or None
        db = chosen_db()
        if db:  # the workers open their ledgers from the environment they inherit
            os.environ[DB_ENV] = db
        if read_db:
            Ledger.open(home or default_home(), db=read_db, readonly=True).close()  # fail now, clearly
            os.environ[READ_DB_ENV] = read_db
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
        from ledger.demo.chains import build_demo  # refuses a --home that is not its own
        from web import digital_link

        home = home or default_home()
        shown_host = "localhost" if host in ("0.0.0.0", "::") else host
        base = (
            base_url or os.environ.get("PROVENANCE_BASE_URL") or f"http://{bind_address(shown_host, port)}"
        ).rstrip("/")
        from ledger.witness.demo import demo_witnesses

        products = build_demo(home, base)
        click.echo(f"Demo ledger built in {home}")
        for p in products:
            page = base + digital_link.path(p["gtin"], p["batch"])
            click.echo(
                f"\n{p['name']} ({p['brand']})\n  page: {page}\n  QR:   {page}/qr.png\n  label: {page}/label"
            )
        with demo_witnesses(home) as witnesses:  # their processes stop with the demo
            click.echo("\nWitnesses (2 of 3 must cosign; policy in witnesses):")
            for w in witnesses:
                click.echo(f"  {w['name']} at {w['url']}")
            if no_serve:
                return
            click.echo(f"\nServing on http://{bind_address(host, port)}/ (Ctrl-C to stop)")
            serve(home, host, port, workers, threads, base, access_log)
