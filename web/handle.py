"""Ledger handles for requests, and one group committer per worker process.

Reads: each request thread keeps one read-only-in-practice ``Ledger`` (its SQLite
connection is in autocommit mode, so every read sees the latest commit) and reuses it
across requests, instead of opening the file and reading genesis every time.

Appends: every POST of a worker process goes through one ``GroupCommitter``, whose thread
owns the process's only writing ``Ledger``: the operator key is loaded once, and requests
that arrive together commit together (one transaction, one fsync, one checkpoint). Several
worker processes are still serialised by the store's ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from ledger.core.group import GroupCommitter
from ledger.core.ledger import Ledger
from ledger.model.statements import Envelope

_local = threading.local()
_lock = threading.Lock()


def _home() -> Path:
    return Path(current_app.config["PROVENANCE_HOME"])


def get_ledger() -> Ledger:
    """This thread's ledger for reads (opened on first use, kept across requests)."""
    home = _home()
    cached: tuple[int, dict[Path, Ledger]] | None = getattr(_local, "ledgers", None)
    if cached is None or cached[0] != os.getpid():  # none yet, or inherited across a fork
        cached = _local.ledgers = (os.getpid(), {})
    ledger = cached[1].get(home)
    if ledger is None:
        ledger = cached[1][home] = Ledger.open(home)
    return ledger


def append(envelope: Envelope) -> dict[str, Any]:
    """Append ``envelope``; return its entry view (SPEC §10 201 body) or raise its refusal."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy's, untyped
    if not app.config.get("PROVENANCE_GROUP_COMMIT", True):
        ledger = get_ledger()
        (result,) = ledger.append([envelope])
        if isinstance(result, Exception):
            raise result
        return ledger.appended_views([result])[0]
    return _committer(app).append(envelope)


def _committer(app: Flask) -> GroupCommitter:
    state = app.extensions.get("provenance.committer")
    if state is None or state[0] != os.getpid():  # none yet, or inherited across a fork
        with _lock:
            state = app.extensions.get("provenance.committer")
            if state is None or state[0] != os.getpid():
                home = Path(app.config["PROVENANCE_HOME"])
                state = (os.getpid(), GroupCommitter(lambda: Ledger.open(home)))
                app.extensions["provenance.committer"] = state
    committer: GroupCommitter = state[1]
    return committer


def register(app: Flask) -> None:
    """Nothing to close per request: handles live as long as their thread or process."""
