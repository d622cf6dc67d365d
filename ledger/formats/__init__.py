"""The standards brands and regulators speak: GS1 EPCIS 2.0 out and in, UNTP 0.6 credentials.

``epcis_export`` writes a product batch's trace as an EPCIS 2.0 JSON-LD document,
``epcis_import`` turns a supplier's EPCIS document into statements it signs, ``untp`` issues
W3C VC 2.0 credentials (product passport, traceability events, conformity credentials)
secured as ``vc+jwt`` by the operator. ``ids`` names parties, lots and entries as URIs
(GS1 keys where a party carries a GLN); ``numbers`` writes decimal strings as exact JSON
numbers. See docs/formats.md.
"""
