"""Operations commands: ``export``, ``import``, ``backup``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.audit import backup as backups


def register(main: click.Group) -> None:
    from ledger.cli.commands import clean_errors, home_option, open_ledger

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
