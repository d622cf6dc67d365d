"""The ledger handle: one ``Ledger`` per request on ``flask.g``, closed on teardown.

Each gunicorn worker opens its own connections; appends from many workers are
serialised by the store's ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g

from ledger.ledger import Ledger


def get_ledger() -> Ledger:
    if "ledger" not in g:
        g.ledger = Ledger.open(Path(current_app.config["PROVENANCE_HOME"]))
    ledger: Ledger = g.ledger
    return ledger


def close_ledger(exc: BaseException | None = None) -> None:
    ledger = g.pop("ledger", None)
    if ledger is not None:
        ledger.close()


def register(app: Flask) -> None:
    app.teardown_appcontext(close_ledger)
