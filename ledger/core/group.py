"""Group commit: many concurrent appenders, one transaction per group.

Each caller hands its envelope to ``GroupCommitter.append`` and blocks; one committer
thread drains everything queued so far and appends it as one batch, so a burst of N
requests costs one fsync instead of N. A caller is answered only after its group's
transaction has committed, so an acknowledgement always means durable.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from ledger.core.ledger import Appended, Ledger
from ledger.errors import Busy, LedgerError
from ledger.model.statements import Envelope

MAX_GROUP = 256


class GroupCommitter:
    def __init__(self, open_ledger: Callable[[], Ledger], max_group: int = MAX_GROUP) -> None:
        self._open = open_ledger
        self._queue: queue.Queue[tuple[Envelope, Future[dict[str, Any]]] | None] = queue.Queue()
        self._max = max_group
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def append(self, envelope: Envelope) -> dict[str, Any]:
        """Append ``envelope`` with whatever else is queued; return its entry view, or raise
        its refusal.

        Waits as long as the commit takes: answering earlier (a timeout) could tell a client
        "failed" about an envelope that then commits. A write lock held past the store's busy
        timeout ends the wait with ``Busy``, and nothing of that group was written.
        """
        future: Future[dict[str, Any]] = Future()
        self._queue.put((envelope, future))
        return future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        ledger: Ledger | None = None
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                group = [item]
                while len(group) < self._max:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)
                        break
                    group.append(more)
                try:
                    if ledger is None:
                        ledger = self._open()
                except BaseException as e:  # cannot open: answer this group, try again later
                    for _, future in group:
                        future.set_exception(e)
                    continue
                self._commit(ledger, group)
        finally:
            if ledger is not None:
                ledger.close()

    @staticmethod
    def _commit(ledger: Ledger, group: list[tuple[Envelope, Future[dict[str, Any]]]]) -> None:
        try:
            try:
                results = ledger.append([e for e, _ in group])
            except sqlite3.OperationalError as e:
                if "unreachable" in str(e):  # a database server restarting or failing over
                    raise Busy(
                        "the database is unreachable; try again (an envelope that did land is"
                        " refused as a replay, never appended twice)"
                    ) from e
                if "locked" not in str(e) and "busy" not in str(e):
                    raise
                raise Busy("another writer held the ledger past the busy timeout; try again") from e
            views = ledger.appended_views(results)
        except BaseException as e:  # the whole group failed: tell every caller
            for _, future in group:
                future.set_exception(e)
            return
        for (_, future), result, view in zip(group, results, views, strict=True):
            if isinstance(result, LedgerError):
                future.set_exception(result)
            else:
                assert isinstance(result, Appended)
                future.set_result(view)
