"""`provenance verifier DIR --policy FILE`: export the static browser verifier (SPEC §15)."""

from __future__ import annotations

from pathlib import Path

import click

from ledger.cli.commands import clean_errors, home_option, open_ledger
from ledger.errors import ConfigError


def register(main: click.Group) -> None:
    @main.command("verifier")
    @click.argument("out", type=click.Path(file_okay=False, path_type=Path))
    @click.option(
        "--policy",
        "policy_file",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The witness policy to pin (C2SP tlog-policy; 'quorum none' requires no witness).",
    )
    @click.option(
        "--vkey", default=None, help="The operator's verifier key (note form); default: the ledger's."
    )
    @home_option
    @clean_errors
    def verifier_cmd(out: Path, policy_file: Path, vkey: str | None, home: Path | None) -> None:
        """Write a self-contained static verifier site into OUT, pinning the operator's key and
        the witness policy. Host it anywhere; open it with ?bundle=<product or bundle URL>."""
        from web.verifier_export import export_site

        try:
            policy = policy_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the policy file {policy_file}: {e}") from e
        if vkey is None:
            with open_ledger(home, readonly=True) as ledger:
                vkey = ledger.verifier.to_text()
        written = export_site(out, vkey, policy)
        click.echo(f"verifier written to {out} ({len(written)} files); pinned key {vkey.strip()}")
        click.echo(f"open {out / 'index.html'} from a web server, with ?bundle=<product URL>")
