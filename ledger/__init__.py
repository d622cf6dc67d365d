"""provenance-ledger: a verifiable, append-only record of supply-chain attestations.

The modules follow the contract in SPEC.md:

- ``canonical``: RFC 8785 bytes and strict JSON parsing (SPEC §2)
- ``keys``: Ed25519 keys, key ids, statement signatures (SPEC §3-4)
- ``merkle``: RFC 9162 tree hashing and proofs, pure (SPEC §2, §9)
- ``note``: C2SP signed-note and tlog-checkpoint (SPEC §8)
- ``fields``, ``statements``: statement shapes and their validation (SPEC §4, §6)
- ``rules``: the ledger's refusals that depend on its state (SPEC §7)
- ``store``: the SQLite file; ``ledger``: the facade that appends and reads
- ``verify``: the full audit; ``trace``, ``compliance``, ``bundle``: the brand's report
"""

__version__ = "0.1.0"
