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
from ledger.store.database import READ_DB_ENV

_local = threading.local()
_lock = threading.Lock()


def _home() -> Path:
    return Path(current_app.config["PROVENANCE_HOME"])


def get_ledger(*, write: bool = False) -> Ledger:
    """This thread's ledger for reads (opened on first use, kept across requests): on the
    read replica if the server has one (``$PROVENANCE_READ_DB``), unless ``write``."""
    home = _home()
    read_db = None if write else os.environ.get(READ_DB_ENV) or None
    cached: tuple[int, dict[tuple[Path, str | None], Ledger]] | None = getattr(_local, "ledgers", None)
    if cached is None or cached[0] != os.getpid():  # none yet, or inherited across a fork
        cached = _local.ledgers = (os.getpid(), {})
    ledger = cached[1].get((home, read_db))
    if ledger is None:
        ledger = cached[1][(home, read_db)] = Ledger.open(home, db=read_db, readonly=read_db is not None)
    return ledger


def append(envelope: Envelope) -> dict[str, Any]:
    """Append ``envelope``; return its entry view (SPEC §10 201 body) or raise its refusal."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy's, untyped
    if not app.config.get("PROVENANCE_GROUP_COMMIT", True):
        ledger = get_ledger(write=True)
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
    """Handles live as long as their thread or process; after each request, a handle on a
    pooled database (PostgreSQL) gives its connection back to the process's pool."""

    @app.teardown_appcontext
    def give_back(_: BaseException | None) -> None:
        cached = getattr(_local, "ledgers", None)
        if cached is not None and cached[0] == os.getpid():
            for ledger in cached[1].values():
                release = getattr(ledger.conn, "release_idle", None)
                if release is not None:
                    release()
