"""``provenance receive`` and ``provenance transit``: a receiver accepts or refuses a shipment,
and anyone sees the goods still in transit to or from a party (SPEC §6 ``receipt``).

``receive`` signs the receipt with the receiver's key and appends it to a local ledger, or
posts it to a server with ``--server``; it prints what ``POST /api/v1/entries`` answers (or
the error body) as one JSON line, like ``submit``, and exits 1 if it was refused.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ledger.cli.commands import clean_errors, dumps, home_option, open_ledger
from ledger.core.ledger import format_time, new_id, utc_now
from ledger.crypto.keys import PrivateKey
from ledger.model import transit
from ledger.model.statements import sign


def receipt_statement(party: str, shipment: int, on: str, accepted: bool, note: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"shipment": shipment, "received_on": on, "accepted": accepted}
    if note:
        body["note"] = note
    return {
        "type": "receipt",
        "id": new_id(),
        "issuer": party,
        "issued_at": format_time(utc_now()),
        "body": body,
    }


@click.command("receive")
@click.argument("shipment", type=int)
@click.option("--accept/--refuse", "accepted", default=None, help="Take the goods, or send them back.")
@click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--as", "party", required=True, help="The receiving party's id (the shipment's `to`).")
@click.option("--on", "on", default=None, help="The day the goods arrived (default: today, UTC).")
@click.option("--note", default=None, help="Why, for a refusal; what was found, for an acceptance.")
@click.option("--server", default=None, help="Post to a running server instead of a local ledger.")
@home_option
@clean_errors
def receive(
    shipment: int,
    accepted: bool | None,
    key_file: Path,
    party: str,
    on: str | None,
    note: str | None,
    server: str | None,
    home: Path | None,
) -> None:
    """Sign PARTY's receipt of the shipment of entry SHIPMENT: --accept or --refuse."""
    if accepted is None:
        raise click.UsageError("say --accept or --refuse")
    day = on or utc_now().date().isoformat()
    envelope = sign(receipt_statement(party, shipment, day, accepted, note), PrivateKey.load(key_file))
    if server:
        from ledger.cli.client import post_envelopes

        (line,) = post_envelopes(server, [(1, envelope.to_json())])
        click.echo(dumps(line))
        sys.exit(1 if "error" in line else 0)
    with open_ledger(home) as ledger:
        batch = ledger.append_stream(lambda: [envelope])
        for text in ledger.batch_lines(batch):
            click.echo(text)
    sys.exit(1 if batch.refused else 0)


@click.command("transit")
@click.argument("party")
@click.option("--outgoing", is_flag=True, help="Goods the party sent that await their receiver.")
@home_option
@clean_errors
def transit_cmd(party: str, outgoing: bool, home: Path | None) -> None:
    """Print the shipments to PARTY (or, with --outgoing, from it) still in transit, one JSON
    line each: what ``GET /api/v1/parties/<id>/transit`` lists."""
    with open_ledger(home, readonly=True) as ledger:
        for s in transit.in_transit(ledger.conn, party, incoming=not outgoing):
            click.echo(dumps(s.to_json()))


def register(main: click.Group) -> None:
    main.add_command(receive)
    main.add_command(transit_cmd)
