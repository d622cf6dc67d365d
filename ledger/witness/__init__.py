"""Witnesses (SPEC §14, C2SP tlog-witness v1).

``state``, ``protocol`` and ``server`` are a witness: a service with its own key that cosigns a
log's checkpoint only if it is consistent with every checkpoint of that log it cosigned before.
``client`` and ``submitter`` are the log's side: they send each new checkpoint to the witnesses
of ``<ledger home>/witnesses`` and keep the cosignatures; ``cli`` is ``provenance witness``.
"""
