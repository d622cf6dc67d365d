"""Identity commands: ``keygen`` and ``party incept/admit/suspend/reinstate/rotate/profile``
(SPEC §6, §11).

A party's own acts (``incept``, ``rotate``, ``profile``) are signed offline with the party's
key files and print the envelope it submits (``provenance submit``); nothing here holds a
party's key for it. The operator's acts (``admit``, ``suspend``, ``reinstate``, and its own
``rotate operator``) are signed with the operator key of the ledger home and appended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ledger.core.ledger import Ledger, format_time, new_id, utc_now
from ledger.crypto.keys import PrivateKey
from ledger.errors import NotFound
from ledger.model.identity import OPERATOR, digest
from ledger.model.statements import Envelope, sign

KEEP_OFFLINE = (
    "keep the next key files offline (not on the machine that signs day to day): they are"
    " the only way to recover this identity if the current key is lost or stolen"
)

key_path = click.Path(dir_okay=False, path_type=Path)


def _load_or_create(path: Path) -> PrivateKey:
    """The key in ``path``; a new one (mode 0600) if there is no such file yet."""
    if path.exists():
        return PrivateKey.load(path)
    key = PrivateKey.generate()
    key.save(path)
    click.echo(f"created key {key.public.key_id} in {path}", err=True)
    return key


def _statement(kind: str, issuer: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "id": new_id(), "issuer": issuer, "issued_at": format_time(utc_now()), "body": body}


def _identifiers(os_id: str | None, gln: str | None, domain: str | None) -> dict[str, str]:
    return {k: v for k, v in (("os_id", os_id), ("gln", gln), ("domain", domain)) if v}


def _emit(envelope: Envelope, out: Path | None) -> None:
    from ledger.cli.commands import dumps

    text = dumps(envelope.to_json())
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote the envelope to {out}; submit it with: provenance submit {out}", err=True)


def _operator_act(ledger: Ledger, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    result = ledger.append_one(ledger.sign_as_operator(_statement(kind, OPERATOR, body)))
    return ledger.appended_views([result])[0]


def register(main: click.Group) -> None:
    from ledger.cli.commands import clean_errors, dumps, home_option, open_ledger

    @main.command()
    @click.option("--out", "out", type=key_path, required=True, help="The new key's file.")
    @click.option("--next", "next_out", type=key_path, default=None, help="Also make its next key here.")
    @clean_errors
    def keygen(out: Path, next_out: Path | None) -> None:
        """Create a party key (PEM PKCS#8, mode 0600), and with --next its next key; print the
        public key, key_id and, for the next key, the digest an inception commits to."""
        for path in (out, next_out):
            if path is not None and path.exists():
                raise click.UsageError(f"{path} exists already; refusing to overwrite a key")
        key = PrivateKey.generate()
        key.save(out)
        shown: dict[str, Any] = {"public_key": key.public.b64, "key_id": key.public.key_id}
        if next_out is not None:
            nxt = PrivateKey.generate()
            nxt.save(next_out)
            shown["next"] = {
                "file": str(next_out),
                "key_id": nxt.public.key_id,
                "digest": digest(nxt.public.raw),
            }
            click.echo(KEEP_OFFLINE, err=True)
        click.echo(dumps(shown))

    @main.group()
    def party() -> None:
        """A party's key event log: it incepts, rotates and keeps its profile itself; the
        operator admits, suspends and reinstates it."""

    @party.command("incept")
    @click.argument("party_id")
    @click.option("--name", required=True)
    @click.option("--role", required=True, help="The role the party asks to be admitted with.")
    @click.option("--country", required=True, help="ISO 3166-1 alpha-2.")
    @click.option("--os-id", default=None, help="Open Supply Hub facility id.")
    @click.option("--gln", default=None, help="GS1 Global Location Number.")
    @click.option("--domain", default=None, help="The party's web domain.")
    @click.option(
        "--key", "key_files", type=key_path, multiple=True, required=True, help="Current key file(s)."
    )
    @click.option(
        "--next-key", "next_files", type=key_path, multiple=True, required=True, help="Next key file(s)."
    )
    @click.option("--out", type=key_path, default=None, help="Write the envelope here instead of stdout.")
    @clean_errors
    def party_incept(
        party_id: str,
        name: str,
        role: str,
        country: str,
        os_id: str | None,
        gln: str | None,
        domain: str | None,
        key_files: tuple[Path, ...],
        next_files: tuple[Path, ...],
        out: Path | None,
    ) -> None:
        """Sign the party's own inception (key files are created if missing); print the envelope
        it submits. The operator then admits it (party admit)."""
        keys = [_load_or_create(p) for p in key_files]
        nexts = [_load_or_create(p) for p in next_files]
        body = {
            "party": party_id,
            "name": name,
            "role": role,
            "country": country,
            "identifiers": _identifiers(os_id, gln, domain),
            "keys": [k.public.b64 for k in keys],
            "next": [digest(k.public.raw) for k in nexts],
        }
        _emit(sign(_statement("inception", party_id, body), keys[0]), out)
        click.echo(KEEP_OFFLINE, err=True)

    @party.command("rotate")
    @click.argument("party_id")
    @click.option(
        "--key",
        "key_files",
        type=key_path,
        multiple=True,
        required=True,
        help="The committed next key file(s).",
    )
    @click.option(
        "--next-key", "next_files", type=key_path, multiple=True, required=True, help="New next key file(s)."
    )
    @click.option("--reason", type=click.Choice(["scheduled", "lost", "compromised"]), default="scheduled")
    @click.option(
        "--compromised-since", type=int, default=None, help="First seq the old key may have been misused."
    )
    @click.option("--out", type=key_path, default=None, help="Write the envelope here instead of stdout.")
    @home_option
    @clean_errors
    def party_rotate(
        party_id: str,
        key_files: tuple[Path, ...],
        next_files: tuple[Path, ...],
        reason: str,
        compromised_since: int | None,
        out: Path | None,
        home: Path | None,
    ) -> None:
        """Rotate to the committed next key(s), committing to new next keys (created if missing).
        For a party: print the envelope it submits. For 'operator': append it in the home,
        which keeps the new key as its operator key (checkpoints from now on are signed with it)."""
        for path in key_files:
            if not path.exists():
                raise click.UsageError(f"{path} does not exist: --key is the next key committed before")
        keys = [PrivateKey.load(p) for p in key_files]
        nexts = [_load_or_create(p) for p in next_files]
        body: dict[str, Any] = {
            "party": party_id,
            "keys": [k.public.b64 for k in keys],
            "next": [digest(k.public.raw) for k in nexts],
            "reason": reason,
        }
        if compromised_since is not None:
            body["compromised_since"] = compromised_since
        envelope = sign(_statement("rotation", party_id, body), keys[0])
        if party_id != OPERATOR:
            _emit(envelope, out)
        else:
            with open_ledger(home) as ledger:
                result = ledger.rotate_operator(envelope, keys[0])
                click.echo(dumps(ledger.appended_views([result])[0]))
                click.echo(
                    f"the operator's key is now {keys[0].public.key_id}; {ledger.verifier.to_text()}",
                    err=True,
                )
        click.echo(KEEP_OFFLINE, err=True)

    @party.command("profile")
    @click.argument("party_id")
    @click.option("--name", required=True)
    @click.option("--country", required=True)
    @click.option("--os-id", default=None)
    @click.option("--gln", default=None)
    @click.option("--domain", default=None)
    @click.option("--key", "key_file", type=key_path, required=True, help="The party's current key file.")
    @click.option("--out", type=key_path, default=None, help="Write the envelope here instead of stdout.")
    @clean_errors
    def party_profile(
        party_id: str,
        name: str,
        country: str,
        os_id: str | None,
        gln: str | None,
        domain: str | None,
        key_file: Path,
        out: Path | None,
    ) -> None:
        """Sign a profile update (name, country, identifiers); print the envelope."""
        body = {
            "party": party_id,
            "name": name,
            "country": country,
            "identifiers": _identifiers(os_id, gln, domain),
        }
        _emit(sign(_statement("profile", party_id, body), PrivateKey.load(key_file)), out)

    @party.command("admit")
    @click.argument("party_id")
    @click.option("--role", required=True)
    @home_option
    @clean_errors
    def party_admit(party_id: str, role: str, home: Path | None) -> None:
        """Admit an incepted party with a role (the operator has checked who it is)."""
        with open_ledger(home) as ledger:
            row = ledger.conn.execute("SELECT first_seq FROM parties WHERE id = ?", (party_id,)).fetchone()
            if row is None:
                raise NotFound(
                    f"{party_id!r} has no inception in this ledger: it incepts first", field="party"
                )
            click.echo(
                dumps(
                    _operator_act(ledger, "admission", {"party": party_id, "inception": row[0], "role": role})
                )
            )

    @party.command("suspend")
    @click.argument("party_id")
    @click.option("--reason", required=True)
    @home_option
    @clean_errors
    def party_suspend(party_id: str, reason: str, home: Path | None) -> None:
        """Suspend a party: from now on only its key events and profile are accepted."""
        with open_ledger(home) as ledger:
            click.echo(dumps(_operator_act(ledger, "suspension", {"party": party_id, "reason": reason})))

    @party.command("reinstate")
    @click.argument("party_id")
    @click.option("--reason", default="reinstated")
    @home_option
    @clean_errors
    def party_reinstate(party_id: str, reason: str, home: Path | None) -> None:
        """Lift a party's suspension."""
        with open_ledger(home) as ledger:
            click.echo(dumps(_operator_act(ledger, "reinstatement", {"party": party_id, "reason": reason})))

    @main.command()
    @click.option("--party", "party_id", required=True, help="The party watching its own name.")
    @click.option(
        "--keys",
        "keys_dir",
        type=click.Path(file_okay=False, path_type=Path),
        required=True,
        help="Folder of the party's key files (current and next).",
    )
    @click.option("--server", default=None, help="Watch a ledger server (default: the ledger home).")
    @click.option(
        "--state",
        "state_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Where the last checkpoint seen is kept (default: watch-<party>.json).",
    )
    @home_option
    @clean_errors
    def watch(
        party_id: str, keys_dir: Path, server: str | None, state_file: Path | None, home: Path | None
    ) -> None:
        """Check the log still extends the last checkpoint seen, list every entry since then that
        concerns the party (one JSON line each) and exit 1 with an alarm for any statement or
        key event in its name not signed by one of its keys."""
        from ledger.audit import watch as monitor

        keys = monitor.own_keys(keys_dir)
        state_path = state_file or Path(f"watch-{party_id}.json")
        state = monitor.load_state(state_path)
        if server is not None:
            report = monitor.watch(monitor.HttpSource(server), party_id, keys, state)
        else:
            with open_ledger(home, readonly=True) as ledger:
                report = monitor.watch(monitor.LocalSource(ledger), party_id, keys, state)
        for seen in report.seen:
            click.echo(dumps(seen.to_json()))
        if report.alarms:
            for alarm in report.alarms:
                click.echo(f"ALARM: {alarm}", err=True)
            if report.state:  # what was seen is recorded; the alarm is not forgotten by the log
                monitor.save_state(state_path, report.state)
            raise SystemExit(1)
        monitor.save_state(state_path, report.state)
        click.echo(
            f"ok: {len(report.seen)} entries concern {party_id} up to size {report.state['size']}", err=True
        )
