"""``provenance witness``: run a witness (init, add-log, serve, logs) and, on the log's side,
send checkpoints to the witnesses of a ledger's policy (sync)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.cli.commands import clean_errors, dumps, home_option
from ledger.errors import ConfigError

witness_home = click.option(
    "--home",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The witness's home folder (its key and state).",
)


@click.group()
def witness() -> None:
    """A witness (C2SP tlog-witness v1), and the ledger's side of witnessing."""


@witness.command("init")
@witness_home
@click.option("--name", required=True, help="The witness's key name, e.g. witness.example.org/w1.")
@clean_errors
def init_cmd(home: Path, name: str) -> None:
    """Create a witness: its Ed25519 key (mode 0600) and its state; prints its verifier key."""
    from ledger.witness.state import WitnessHome

    w = WitnessHome.init(home, name)
    click.echo(w.cosigner.vkey.to_text())
    w.close()


@witness.command("add-log")
@witness_home
@click.option("--vkey", required=True, help="The log's verifier key (note form, type 0x01).")
@click.option("--origin", default=None, help="The log's origin (default: the key's name).")
@clean_errors
def add_log_cmd(home: Path, vkey: str, origin: str | None) -> None:
    """Trust a log's key: the witness cosigns that log's checkpoints from now on."""
    from ledger.witness.state import WitnessHome

    w = WitnessHome.open(home)
    try:
        click.echo(f"witnessing {w.add_log(vkey, origin)}")
    finally:
        w.close()


@witness.command("logs")
@witness_home
@clean_errors
def logs_cmd(home: Path) -> None:
    """One JSON line per log: origin, keys and the size last cosigned."""
    from ledger.witness.state import WitnessHome

    w = WitnessHome.open(home)
    try:
        for log in w.logs():
            click.echo(dumps(log))
    finally:
        w.close()


@witness.command("vkey")
@witness_home
@clean_errors
def vkey_cmd(home: Path) -> None:
    """Print the witness's verifier key."""
    from ledger.witness.state import WitnessHome

    w = WitnessHome.open(home)
    click.echo(w.cosigner.vkey.to_text())
    w.close()


@witness.command("serve")
@witness_home
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7380, show_default=True, type=int)
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@clean_errors
def serve_cmd(home: Path, host: str, port: int, quiet: bool) -> None:
    """Serve POST /add-checkpoint and GET /<sha256(origin)>/checkpoint until stopped."""
    from ledger.witness.server import serve
    from ledger.witness.state import WitnessHome

    serve(WitnessHome.open(home), host, port, quiet)


@witness.command("sync")
@home_option
@click.option(
    "--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 600), help="Seconds per witness."
)
@click.option("--follow", is_flag=True, help="Keep submitting each new checkpoint until stopped.")
@clean_errors
def sync_cmd(home: Path | None, timeout: float, follow: bool) -> None:
    """The ledger's side: send the latest checkpoint to every witness of <home>/witnesses and
    keep their cosignatures; one JSON line per witness. Exit 1 if any raised an alarm."""
    from ledger.core.ledger import default_home
    from ledger.witness import submitter

    home = home or default_home()
    if submitter.load_policy(home) is None:
        raise ConfigError(f"no witness policy at {home / submitter.POLICY_NAME}")
    if follow:
        submitter.follow(home, timeout)
        return
    states = submitter.sync(home, timeout)
    for state in states:
        click.echo(dumps(state))
    sys.exit(1 if any(s["status"] == "alarm" for s in states) else 0)


def register(main: click.Group) -> None:
    main.add_command(witness)
