"""The ``provenance`` command line: ``main`` is the entry point (see ``commands``)."""

from ledger.cli.commands import main

__all__ = ["main"]
