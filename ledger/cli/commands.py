"""The ``provenance`` command line (SPEC §11).

Every command that reads or writes a ledger takes ``--home DIR`` after its name (or
``PROVENANCE_HOME``). A ``LedgerError`` becomes one clear line on stderr and exit 1, never
a traceback; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from ledger.audit.verify import terminal_progress, verify_ledger
from ledger.cli.documents import CHUNK, read_documents
from ledger.core.ledger import NEXT_KEY_NAME, Ledger, default_home, format_time, new_id, utc_now
from ledger.crypto.keys import PrivateKey
from ledger.errors import LedgerError
from ledger.model.statements import Envelope, sign
from ledger.store import database

F = TypeVar("F", bound=Callable[..., Any])


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def home_option(f: F) -> F:
    return db_option(
        click.option(
            "--home",
            "home",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Ledger home folder (default: $PROVENANCE_HOME or ./provenance-home).",
        )(f)
    )


def db_option(f: F) -> F:
    """``--db URL``: the ledger's database, when it is not the home's own (see ``chosen_db``)."""

    def remember(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
        if value:
            ctx.meta[DB_CHOSEN] = value
        return value

    return click.option(
        "--db",
        expose_value=False,
        callback=remember,
        default=None,
        help="The ledger's database: a postgresql:// URL or a SQLite file (default: $PROVENANCE_DB,"
        " else the URL recorded by init in --home, else --home's ledger.db).",
    )(f)


DB_CHOSEN = "provenance.db"


def chosen_db() -> str | None:
    """The ``--db`` given to the running command, if any."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(DB_CHOSEN) if ctx is not None else None


def clean_errors(f: F) -> F:
    """Turn a LedgerError into one line on stderr and exit 1."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except LedgerError as e:
            click.echo(f"error: {e.code}: {e.describe()}", err=True)
            sys.exit(1)
        except sqlite3.DatabaseError as e:
            click.echo(
                f"error: database: the ledger file cannot be read: {e}; run provenance verify", err=True
            )
            sys.exit(1)
        except OSError as e:  # a missing or unreadable file named on the command line
            where = f" {e.filename}" if e.filename else ""
            click.echo(f"error: io:{where}: {e.strerror or e}", err=True)
            sys.exit(1)

    return cast(F, wrapper)


def open_ledger(home: Path | None, readonly: bool = False) -> Ledger:
    return Ledger.open(home or default_home(), readonly=readonly, db=chosen_db())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provenance-ledger")
def main() -> None:
    """provenance: a verifiable, append-only ledger of supply-chain attestations."""


@main.command()
@home_option
@click.option(
    "--origin",
    default="provenance.localhost/ledger",
    show_default=True,
    help="The ledger's origin: its checkpoint and note key name.",
)
@click.option("--name", default=None, help="The operator's display name.")
@clean_errors
def init(home: Path | None, origin: str, name: str | None) -> None:
    """Create a new ledger, the operator key and its next key; print the verifier key."""
    home = home or default_home()
    with Ledger.init(home, origin, name=name, db=chosen_db()) as ledger:
        click.echo(ledger.verifier.to_text())
    click.echo(
        f"the operator's next key is {home / NEXT_KEY_NAME}: move it offline; it is the only way to"
        " rotate the operator key (provenance party rotate operator --key FILE --next-key NEW)",
        err=True,
    )


@main.command("sign")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.argument("statement_file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@clean_errors
def sign_cmd(key_file: Path, statement_file: Path) -> None:
    """Sign statements offline; print the envelopes (one JSON line each).

    The file holds one statement (JSON) or many (JSON Lines). A statement without ``id`` or
    ``issued_at`` gets a fresh UUID and the current time.
    """
    key = PrivateKey.load(key_file, strict_mode=True)
    for _, item in read_documents(statement_file):
        if isinstance(item, LedgerError):
            raise item
        if isinstance(item, dict):
            item.setdefault("id", new_id())
            item.setdefault("issued_at", format_time(utc_now()))
        click.echo(dumps(sign(item, key).to_json()))


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path, allow_dash=True)
)
@click.option("--server", default=None, help="Post to a running server instead of a local ledger.")
@home_option
@clean_errors
def submit(files: tuple[Path, ...], server: str | None, home: Path | None) -> None:
    """Append envelopes (one per file, or JSON Lines); print one JSON line per envelope.

    Each file is one batch: one transaction, one checkpoint. Exit 0 if all were appended,
    1 if any was refused.
    """
    refused = False
    if server:
        from ledger.cli.client import post_envelopes

        for path in files:
            for line in post_envelopes(server, read_documents(path)):
                refused |= "error" in line
                click.echo(dumps(line))
        sys.exit(1 if refused else 0)
    with open_ledger(home) as ledger, tempfile.TemporaryDirectory() as tmp:
        for path in files:
            if str(path) == "-":  # a batch may be read twice (see Ledger.append_stream)
                path = Path(tmp) / "stdin.jsonl"
                with path.open("wb") as copy:
                    shutil.copyfileobj(sys.stdin.buffer, copy, CHUNK)

            def envelopes(path: Path = path) -> Iterator[Envelope | LedgerError]:
                for _, doc in read_documents(path):
                    if isinstance(doc, LedgerError):
                        yield doc
                        continue
                    try:
                        yield Envelope.from_json(doc)
                    except LedgerError as e:
                        yield e

            batch = ledger.append_stream(envelopes)
            refused |= batch.refused > 0
            out = sys.stdout
            for text in ledger.batch_lines(batch):
                out.write(text + "\n")
            out.flush()
    sys.exit(1 if refused else 0)


@main.command()
@home_option
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint kept elsewhere: prove the ledger still extends it.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A witness policy (C2SP tlog-policy): the checkpoint (kept, or else the latest) must be"
    " cosigned by its quorum.",
)
@clean_errors
def verify(home: Path | None, checkpoint_file: Path | None, policy_file: Path | None) -> None:
    """Audit everything from the raw bytes; one line per problem, exit 1 if any."""
    from ledger.tlog.policy import Policy
    from ledger.witness.submitter import audit_cosignatures, check_witnessed

    external = checkpoint_file.read_text() if checkpoint_file else None
    witnesses = Policy.load(policy_file) if policy_file is not None else None
    where = database.existing(home or default_home(), chosen_db())
    # Not Ledger.open: the audit trusts nothing, genesis included, and reports what is broken.
    try:
        conn = database.connect(where, readonly=True)
    except sqlite3.DatabaseError as e:
        click.echo(f"the ledger file cannot be read as a ledger: {e}")
        sys.exit(1)
    try:
        report = verify_ledger(conn, external=external, progress=terminal_progress())
        problems = audit_cosignatures(conn)  # the witnesses' lines it keeps (SPEC §14)
        if witnesses is not None:
            problems += check_witnessed(conn, witnesses, external)
    finally:
        conn.close()
    for problem in report.problems:
        click.echo(str(problem))
    for line in problems:
        click.echo(line)
    if report.ok and not problems:
        click.echo(f"ok: {report.size} entries, {report.checkpoints} checkpoints verified", err=True)
    sys.exit(0 if report.ok and not problems else 1)


@main.group()
def prove() -> None:
    """Inclusion and consistency proofs (RFC 9162) as JSON."""


@prove.command("inclusion")
@click.argument("seq", type=int)
@click.option("--size", type=int, default=None, help="Tree size (default: the latest checkpoint).")
@home_option
@clean_errors
def prove_inclusion(seq: int, size: int | None, home: Path | None) -> None:
    with open_ledger(home, readonly=True) as ledger:
        click.echo(dumps(ledger.inclusion_proof(seq, size).to_json()))


@prove.command("consistency")
@click.argument("old", type=int)
@click.argument("new", type=int)
@home_option
@clean_errors
def prove_consistency(old: int, new: int, home: Path | None) -> None:
    with open_ledger(home, readonly=True) as ledger:
        click.echo(dumps(ledger.consistency_proof(old, new).to_json()))


@main.command()
@home_option
@clean_errors
def checkpoint(home: Path | None) -> None:
    """Print the latest signed checkpoint."""
    with open_ledger(home, readonly=True) as ledger:
        click.echo(ledger.latest_checkpoint().note, nl=False)


@main.command()
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print what GET /api/v1/ledger returns.")
@clean_errors
def info(home: Path | None, as_json: bool) -> None:
    """The ledger's origin, verifier key, size, root and checkpoint."""
    with open_ledger(home, readonly=True) as ledger:
        data = ledger.info()
    if as_json:
        click.echo(dumps(data))
        return
    click.echo(
        f"origin:  {data['origin']}\nvkey:    {data['vkey']}\nsize:    {data['size']}\n"
        f"root:    {data['root']}\n\n{data['checkpoint']}",
        nl=False,
    )
    for w in data.get("witnesses", []):
        click.echo(f"witness {w['name']}: {w['status']}: {w['message'] or 'not contacted yet'}")
        for alarm in w["alarms"]:
            click.echo(f"  ALARM {alarm['at']} at size {alarm['size']}: {alarm['message']}")
    if data.get("quorum"):
        q = data["quorum"]
        met = "met" if q.get("met") else "NOT met"
        click.echo(f"quorum: {q.get('rule')}: {met}" + (f" ({q['error']})" if q.get("error") else ""))


@main.command()
@click.argument("seq", type=int)
@home_option
@clean_errors
def show(seq: int, home: Path | None) -> None:
    """Print what GET /api/v1/entries/<seq> returns."""
    with open_ledger(home, readonly=True) as ledger:
        click.echo(dumps(ledger.entry_view(seq)))


def _register_more() -> None:
    """Commands of the modules that build on the core: trace and bundles, backups, the web
    app (whose heavy imports wait until serve or demo runs)."""
    from ledger.cli import formats as cli_formats
    from ledger.cli import identity as cli_identity
    from ledger.cli import ops as cli_ops
    from ledger.cli import receive as cli_receive
    from ledger.cli import serve as web_cli
    from ledger.cli import tiles as cli_tiles
    from ledger.cli import trace as cli_trace
    from ledger.cli import verifier as cli_verifier
    from ledger.witness import cli as witness_cli

    for module in (
        cli_identity,
        cli_trace,
        cli_ops,
        web_cli,
        witness_cli,
        cli_tiles,
        cli_formats,
        cli_verifier,
        cli_receive,
    ):
        module.register(main)


_register_more()

if __name__ == "__main__":
    main()
