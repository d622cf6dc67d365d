"""Operations commands: ``export``, ``import``, ``backup``, ``copy``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.audit import backup as backups


def register(main: click.Group) -> None:
    from ledger.cli.commands import clean_errors, home_option, open_ledger
    from ledger.store import database

    @main.command("export")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @home_option
    @clean_errors
    def export_cmd(file: Path, home: Path | None) -> None:
        """Write every entry and checkpoint as JSON Lines ('-' for stdout)."""
        with open_ledger(home, readonly=True) as ledger:
            if str(file) == "-":
                n = backups.export(ledger, sys.stdout.buffer)
            else:
                with file.open("wb") as out:
                    n = backups.export(ledger, out)
        click.echo(f"exported {n} entries", err=True)

    @main.command("import")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option(
        "--operator-key",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The original operator key, so the new home can go on appending.",
    )
    @home_option
    @clean_errors
    def import_cmd(file: Path, operator_key: Path | None, home: Path | None) -> None:
        """Rebuild a ledger in a new --home from an export; print its verifier key and root."""
        if home is None:
            raise click.UsageError("import needs --home NEW (a folder without a ledger)")
        with file.open("rb") as stream:
            ledger = backups.import_ledger(backups.read_lines(stream), home, operator_key)
        with ledger:
            info = ledger.info()
        click.echo(f"imported {info['size']} entries; root {info['root']}")
        click.echo(info["vkey"])

    @main.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @home_option
    @clean_errors
    def backup_cmd(file: Path, home: Path | None) -> None:
        """Copy the live database with SQLite's online backup API (appends may go on)."""
        with open_ledger(home) as ledger:
            size, _ = backups.backup(ledger, file)
        click.echo(f"backed up {size} entries to {file}")

    @main.command("copy")
    @click.option(
        "--to",
        "dest",
        required=True,
        help="The empty database to fill: a postgresql:// URL or a new SQLite file.",
    )
    @home_option
    @clean_errors
    def copy_cmd(dest: str, home: Path | None) -> None:
        """Copy the ledger to another database (SQLite or PostgreSQL, either way) with
        identical entries, roots and checkpoints; both sides are compared and the copy
        audited. Use it with the same --home (the operator key) and --db DEST."""
        from ledger.audit.copy import copy_ledger

        with open_ledger(home, readonly=True) as ledger:
            copied = copy_ledger(ledger, database.target(Path("."), dest))
        click.echo(f"copied {copied.size} entries and {copied.checkpoints} checkpoints; root {copied.root}")
