"""``python -m ledger.witness …`` is ``provenance witness …`` (how the demo starts witnesses)."""

import sys

from ledger.cli.commands import main

main(["witness", *sys.argv[1:]], prog_name="provenance")
