"""``provenance epcis export|import`` and ``provenance untp export`` (docs/formats.md).

Errors are one line on stderr and exit 1, never a traceback. ``epcis import`` prints one
JSON line per event: ``{"event": i, ...}`` with what the ledger answered, ``"skipped"``, or
an ``error``; it appends nothing when any event cannot be mapped or signed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from ledger.cli.commands import chosen_db, clean_errors, dumps, home_option, open_ledger
from ledger.core.ledger import Ledger, default_home, format_time, utc_now
from ledger.errors import ConfigError, LedgerError
from ledger.model.statements import Envelope, sign
from ledger.store import database

BASE_URL_HELP = "Base URL of the ledger's URIs (default: $PROVENANCE_BASE_URL or https://<origin>)."


def register(main: click.Group) -> None:
    main.add_command(epcis)
    main.add_command(untp)


@click.group()
def epcis() -> None:
    """GS1 EPCIS 2.0: a batch's trace out, a supplier's events in."""


@epcis.command("export")
@click.argument("gtin")
@click.argument("batch")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the document to FILE instead of standard output.",
)
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@click.option("--at", "at", default=None, metavar="DATE", help="As of DATE (YYYY-MM-DD), as for 'trace'.")
@home_option
@clean_errors
def epcis_export(
    gtin: str, batch: str, out: Path | None, base_url: str | None, at: str | None, home: Path | None
) -> None:
    """The EPCIS 2.0 JSON-LD document of product GTIN, batch BATCH's trace."""
    from ledger.formats.epcis_export import export
    from ledger.formats.numbers import dumps as exact_dumps
    from ledger.formats.snapshot import take

    with open_ledger(home, readonly=True) as ledger:
        text = exact_dumps(export(take(ledger, gtin, batch, base=base_url, at=at))) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@epcis.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path, allow_dash=True))
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The importing party's private key (PEM).",
)
@click.option("--as", "party", required=True, help="The importing party's id: every statement is its own.")
@click.option("--server", default=None, help="Post to a running server instead of a local ledger.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signed envelopes (JSON Lines) to FILE for 'provenance submit'.",
)
@home_option
@clean_errors
def epcis_import(
    file: Path, key_file: Path, party: str, server: str | None, out: Path | None, home: Path | None
) -> None:
    """Sign a supplier's EPCIS 2.0 events as its own statements and append them.

    Exit 0 if every event was appended (or skipped), 1 otherwise.
    """
    from ledger.crypto.keys import PrivateKey
    from ledger.formats.epcis_import import Directory, Refused, Unmappable, awaiting_receipt, plan
    from ledger.formats.numbers import parse

    if server and out:
        raise click.UsageError("--server and --out exclude each other")
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    key = PrivateKey.load(key_file, strict_mode=True)  # a party key others can read is refused
    document = parse(data)
    with _source(server, home, out) as source:
        directory = Directory.from_parties(source.parties(), awaiting_receipt(source.entries))
        try:
            planned, refused = plan(document, party, directory, format_time(utc_now()))
        except Unmappable as e:
            raise ConfigError(f"{file}: {e}") from e
        envelopes: list[tuple[int, Envelope]] = []
        for p in planned:
            if p.statement is None:
                continue
            try:
                envelopes.append((p.index, sign(p.statement, key)))
            except LedgerError as e:
                refused.append(Refused(p.index, f"event {p.index}: {e.describe()}"))
        if refused:
            for r in sorted(refused, key=lambda r: r.index):
                click.echo(dumps(r.to_json()))
                click.echo(f"error: {r.reason}", err=True)
            click.echo(f"error: {len(refused)} event(s) cannot be imported; nothing was appended", err=True)
            sys.exit(1)
        for p in planned:
            if p.statement is None:
                click.echo(dumps({"event": p.index, "skipped": p.note}))
        if out is not None:
            out.write_text("".join(dumps(e.to_json()) + "\n" for _, e in envelopes), encoding="utf-8")
            click.echo(
                f"{len(envelopes)} envelope(s) written to {out}: append them with 'provenance submit {out}'",
                err=True,
            )
            return
        answers = source.append([e for _, e in envelopes])
    failed = False
    for (index, _), answer in zip(envelopes, answers, strict=True):
        failed |= "error" in answer
        click.echo(dumps({"event": index, **answer}))
    sys.exit(1 if failed else 0)


Found = list[tuple[int, str, dict[str, Any]]]


class Source:
    """The ledger an import reads (parties, entries) and appends to: none, by default."""

    def parties(self) -> list[dict[str, Any]]:
        return []

    def entries(self, type_: str, party: str, lot: str | None) -> Found:
        return []

    def append(self, envelopes: list[Envelope]) -> list[dict[str, Any]]:
        raise ConfigError("no ledger to append to")

    def close(self) -> None:
        pass


class LocalSource(Source):
    PAGE = 1000

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def parties(self) -> list[dict[str, Any]]:
        rows = self.ledger.conn.execute("SELECT id, country, identifiers FROM parties").fetchall()
        return [{"id": pid, "country": c, "identifiers": json.loads(i)} for pid, c, i in rows]

    def entries(self, type_: str, party: str, lot: str | None) -> Found:
        out: Found = []
        after = None
        while True:
            seqs = self.ledger.entries(type=type_, party=party, lot=lot, after=after, limit=self.PAGE)
            for seq in seqs:
                st = self.ledger.entry(seq).statement
                out.append((seq, st.issuer, st.body))
            if len(seqs) < self.PAGE:
                return out
            after = seqs[-1]

    def append(self, envelopes: list[Envelope]) -> list[dict[str, Any]]:
        return self.ledger.appended_views(self.ledger.append(envelopes))

    def close(self) -> None:
        self.ledger.close()


class RemoteSource(Source):
    def __init__(self, server: str) -> None:
        from ledger.cli.client import Connection

        self.server, self.conn = server, Connection(server)

    def _get(self, path: str) -> Any:
        status, body = self.conn.request("GET", path)
        if status != 200:
            raise ConfigError(f"{self.server} answered {status} for {path}")
        return json.loads(body)

    def parties(self) -> list[dict[str, Any]]:
        parties: list[dict[str, Any]] = self._get("/api/v1/parties")["parties"]
        return parties

    def entries(self, type_: str, party: str, lot: str | None) -> Found:
        out: Found = []
        query = {"type": type_, "party": party, "limit": "1000"} | ({"lot": lot} if lot else {})
        after = None
        while True:
            page = self._get("/api/v1/entries?" + urlencode(query | ({"after": str(after)} if after else {})))
            for item in page["entries"]:
                st = item["entry"]["statement"]
                out.append((item["seq"], st["issuer"], st["body"]))
            after = page.get("next_after")
            if after is None:
                return out

    def append(self, envelopes: list[Envelope]) -> list[dict[str, Any]]:
        from ledger.cli.client import post_envelopes

        self.conn.close()
        return list(post_envelopes(self.server, ((i, e.to_json()) for i, e in enumerate(envelopes))))

    def close(self) -> None:
        self.conn.close()


@contextmanager
def _source(server: str | None, home: Path | None, out: Path | None) -> Iterator[Source]:
    """The server, else the local ledger (read-only when writing to ``--out``; none at all
    when there is no ledger there and the envelopes go to a file)."""
    if server:
        source: Source = RemoteSource(server)
    elif out is not None and not database.holds_ledger(database.target(home or default_home(), chosen_db())):
        source = Source()
    else:
        source = LocalSource(open_ledger(home, readonly=out is not None))
    try:
        yield source
    finally:
        source.close()


@click.group()
def untp() -> None:
    """UN Transparency Protocol 0.6 credentials (W3C VC 2.0, vc+jwt)."""


@untp.command("export")
@click.argument("gtin")
@click.argument("batch")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@click.option("--at", "at", default=None, metavar="DATE", help="As of DATE (YYYY-MM-DD), as for 'trace'.")
@home_option
@clean_errors
def untp_export(
    gtin: str, batch: str, directory: Path, base_url: str | None, at: str | None, home: Path | None
) -> None:
    """Write the batch's product passport, traceability events and conformity credentials
    to DIRECTORY, one JWS (vc+jwt) file per credential; print one line per file."""
    from ledger.formats.snapshot import take
    from ledger.formats.untp import issue

    with open_ledger(home, readonly=True) as ledger:
        credentials = issue(take(ledger, gtin, batch, base=base_url, at=at))
    directory.mkdir(parents=True, exist_ok=True)
    for c in credentials:
        path = directory / f"{c.name}.jwt"
        path.write_text(c.jwt + "\n", encoding="ascii")
        click.echo(dumps({"file": str(path), "id": c.id, "type": c.type}))
