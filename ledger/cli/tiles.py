"""``provenance tiles DIR`` and ``provenance mirror SOURCE`` (SPEC §13, issue 12)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ledger.publish import export as tiles_export
from ledger.publish import mirror as mirrors
from ledger.publish.source import Source


def register(main: click.Group) -> None:
    from ledger.cli.commands import clean_errors, home_option, open_ledger

    @main.command("tiles")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @home_option
    @clean_errors
    def tiles_cmd(directory: Path, home: Path | None) -> None:
        """Write the log as C2SP tlog-tiles into DIRECTORY for a static host (incremental)."""
        with open_ledger(home, readonly=True) as ledger:
            done = tiles_export.export_tiles(ledger, directory)
        click.echo(
            f"tiles for size {done.size} (was {done.previous}): {done.written} files written,"
            f" {done.skipped} already there"
        )

    @main.command("mirror")
    @click.argument("source")
    @click.option("--vkey", default=None, help="The operator's verifier key (note form), if known.")
    @home_option
    @clean_errors
    def mirror_cmd(source: str, vkey: str | None, home: Path | None) -> None:
        """Fetch, verify and keep a copy of the ledger whose tiles are at SOURCE (URL or folder)."""
        if home is None:
            raise click.UsageError("mirror needs --home DIR (the mirror's ledger home)")
        try:
            done = mirrors.mirror(Source(source), home, vkey=vkey, progress=_progress())
        except mirrors.SourceForked as e:
            click.echo(mirrors.describe_fork(e))
            raise
        click.echo(f"mirrored {done.size} entries (had {done.previous}), every one verified")
        click.echo(done.vkey)


def _progress() -> mirrors.Progress | None:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        sys.stderr.write(f"\rmirroring {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show
