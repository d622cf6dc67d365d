"""Record the demo's chains as they would have happened: each step on its own date.

The demo describes its three supply chains one after another, but their steps overlap in
time, and a step recorded months after its date is a late record (docs/claims.md) and a
step recorded before its date is refused. ``Schedule`` stands in for a ``Builder`` while the
chains are described: it notes each call with its event date, then ``run`` replays the
calls in date order on a ``DemoClock`` set to each date, so every entry is recorded on the
day it happened. Calls without a date (registrations) come first; a product is declared on
the date of the step described just before it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from ledger.demo.builder import Builder

# Where each dated call carries its event date: (keyword, position among the arguments).
DATED: dict[str, tuple[str, int]] = {
    "origin": ("produced_on", -1),
    "transform": ("on", 2),
    "ship": ("on", 5),
    "audit": ("audit_date", -1),
    "receive": ("on", 2),
}
CARRIED = ("product", "revoke")  # dated by the call described before them
REGISTERING = ("party", "incept")


class DemoClock:
    """A ledger clock that stands at noon (UTC) of the day it was last set to, never going back."""

    def __init__(self, day: str = "2025-01-01") -> None:
        self.now = dt.datetime.fromisoformat(f"{day}T12:00:00+00:00")

    def set(self, day: str) -> None:
        self.now = max(self.now, dt.datetime.fromisoformat(f"{day}T12:00:00+00:00"))

    def __call__(self) -> dt.datetime:
        return self.now


class Schedule:
    """A ``Builder`` stand-in that notes calls (``origin``, ``ship``, …) to replay them by date."""

    def __init__(self, builder: Builder) -> None:
        self.builder = builder
        self.calls: list[tuple[str, int, str, tuple[Any, ...], dict[str, Any]]] = []
        self.last = ""

    @property
    def keys(self) -> dict[str, Any]:
        """The builder's keys, and the parties noted for registration (a chain asks whether a
        party is registered already, before the replay registers it)."""
        noted = {c[3][0]: None for c in self.calls if c[2] in REGISTERING and c[3]}
        return {**noted, **self.builder.keys}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        yield  # replayed one statement at a time, each on its date

    def __getattr__(self, name: str) -> Callable[..., None]:
        def note(*args: Any, **kw: Any) -> None:
            if name in DATED:
                key, pos = DATED[name]
                day = kw[key] if key in kw else args[pos]
                self.last = day
            elif name in CARRIED:
                day = self.last
            else:
                day = ""
            self.calls.append((day, len(self.calls), name, args, kw))

        return note

    def run(self, clock: DemoClock) -> None:
        """Make every noted call on the builder, in date order (stable), on ``clock``."""
        for day, _, name, args, kw in sorted(self.calls, key=lambda c: (c[0], c[1])):
            if day:
                clock.set(day)
            getattr(self.builder, name)(*args, **kw)
