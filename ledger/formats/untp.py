"""UN Transparency Protocol 0.6 credentials for a product batch (W3C VC 2.0, UNTP DPP, DTE, DCC).

``issue`` turns a trace snapshot into credentials the operator signs (``jws``):

- one Digital Traceability Event per step of the trace (an origin is an ObjectEvent, a
  transformation a TransformationEvent, a shipment a TransactionEvent between its parties,
  the receiver's accepting receipt an ObjectEvent at the receiver);
- one Digital Conformity Credential per standing labour attestation of the facilities on
  the route, with one assessment per ILO forced-labour indicator (``conformance`` true only
  where the indicator was assessed absent);
- one Digital Product Passport for the batch, linking the others by URL and SHA-256 of
  their JWS, with the material origins and their shares.

The operator is the issuer (``did:web`` of the ledger's base URL): it vouches that the
ledger holds these signed statements, not for the statements themselves. Each credential's
``evidence`` is its ledger entry: URL, hash, canonical bytes, inclusion proof and the
checkpoint it verifies against, so a holder can check it against the log without us.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from ledger.crypto.keys import b64
from ledger.formats.ids import GS1_RESOLVER, UNIT_CODES
from ledger.formats.jws import MEDIA_TYPE, sign_credential
from ledger.formats.numbers import Number
from ledger.formats.snapshot import Snapshot
from ledger.model.fields import ILO_INDICATORS
from ledger.model.statements import Entry

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
UNTP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/{kind}/0.6.0/"
CBV = "https://ref.gs1.org/cbv/"
ILO_INDICATORS_URL = "https://www.ilo.org/publications/ilo-indicators-forced-labour"
MASS_UNITS = ("kg", "g", "t", "lb")

# Who owns the social-audit standards the ledger sees most, for a scheme's issuingParty.
SCHEME_OWNERS = {
    "sa8000": ("https://sa-intl.org/programs/sa8000/", "Social Accountability International"),
    "amforibsci": ("https://www.amfori.org/en/solutions/social/about-amfori-bsci", "amfori"),
    "smeta": ("https://www.sedex.com/solutions/smeta-audit/", "Sedex"),
    "rba": ("https://www.responsiblebusiness.org/code-of-conduct/", "Responsible Business Alliance"),
    "fla": ("https://www.fairlabor.org/", "Fair Labor Association"),
}


@dataclass(frozen=True)
class Credential:
    """One issued credential: its file name, URL, type, the unsecured JSON and the JWS."""

    name: str
    id: str
    type: str
    credential: dict[str, Any]
    jwt: str

    def listing(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.id,
            "type": self.type,
            "media_type": MEDIA_TYPE,
            "jwt": self.jwt,
        }


def did_web(base: str) -> str:
    """The ``did:web`` of a base URL: host (port as %3A) and path segments joined by ':'."""
    parts = urlsplit(base)
    host = (parts.hostname or "localhost") + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(s, safe="") for s in parts.path.split("/") if s]
    return ":".join(["did:web", host, *path])


def day_start(date: str) -> str:
    return f"{date}T00:00:00Z"


def day_end(date: str) -> str:
    return f"{date}T23:59:59Z"


class Issuer:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.did = did_web(snap.names.base)
        key = snap.ledger.operator_key
        self.key, self.kid = key, f"{self.did}#{key.public.key_id}"
        self.issuer = {"type": ["CredentialIssuer"], "id": self.did, "name": snap.operator_name}
        self.materials = {row["lot"]: row.get("material", row["lot"]) for row in snap.report.lots}

    def url(self, name: str) -> str:
        s = self.snap
        return s.dated(f"{s.names.base}/api/v1/untp/{s.gtin}/{quote(s.batch, safe='')}/{name}")

    def party(self, pid: str) -> dict[str, Any]:
        return {"id": self.snap.names.party(pid), "name": self.snap.party_name(pid)}

    def evidence(self, entry: Entry) -> list[dict[str, Any]]:
        s = self.snap
        return [
            {
                "id": s.names.entry(entry.seq),
                "type": ["LedgerEntryEvidence"],
                "name": f"Entry {entry.seq} of the ledger {s.origin}",
                "entrySeq": entry.seq,
                "entryHash": entry.hash.hex(),
                "entryCanonical": b64(entry.canonical),
                "inclusionProof": s.proof(entry.seq).to_json(),
                "checkpoint": s.checkpoint.note,
                "verifierKey": s.vkey,
            }
        ]

    def as_of_words(self, vc_type: str) -> dict[str, str]:
        """An as-of credential says so in words (its id carries ``?at=`` too): it shows the
        ledger as it stood on that day, and must not pass for the current one."""
        day = self.snap.as_of
        if not day:
            return {}
        return {
            "name": f"{vc_type} as of {day}",
            "description": f"The ledger as it stood on {day} (entries recorded on or before that day); "
            "not the current credential.",
        }

    def secure(self, name: str, kind: str, vc_type: str, body: dict[str, Any], entry: Entry) -> Credential:
        cred_id = self.url(name)
        credential = {
            "type": [vc_type, "VerifiableCredential"],
            "@context": [VC_CONTEXT, UNTP_CONTEXT.format(kind=kind)],
            "id": cred_id,
            "issuer": self.issuer,
            **body,
            **self.as_of_words(vc_type),
            "evidence": self.evidence(entry),
        }
        return Credential(name, cred_id, vc_type, credential, sign_credential(credential, self.key, self.kid))

    # -- traceability events --------------------------------------------------------------

    def quantity(self, lot: str, amount: str, unit: str, material: str | None = None) -> dict[str, Any]:
        return {
            "type": ["QuantityElement"],
            "productId": self.snap.names.lot(lot),
            "productName": material or self.materials.get(lot, lot),
            "quantity": Number(amount),
            "uom": UNIT_CODES.get(unit, unit),
        }

    def dte(self, step: dict[str, Any]) -> Credential:
        s = self.snap
        entry = s.entries[step["seq"]]
        b, party = entry.statement.body, entry.statement.issuer
        event: dict[str, Any] = {"id": f"{s.names.entry(entry.seq)}#{entry.hash.hex()}"}
        if step["kind"] == "origin":
            event.update(
                type=["ObjectEvent", "Event"],
                processType="origin",
                eventTime=day_start(b["produced_on"]),
                action="add",
                disposition=CBV + "Disp-active",
                bizStep=CBV + "BizStep-commissioning",
                bizLocation=s.names.location(party),
                quantityList=[
                    self.quantity(b["lot"], b["quantity"]["amount"], b["quantity"]["unit"], b["material"])
                ],
            )
        elif step["kind"] == "transformation":
            event.update(
                type=["TransformationEvent", "Event"],
                processType=b["process"],
                eventTime=day_start(b["date"]),
                action="add",
                disposition=CBV + "Disp-active",
                bizStep=CBV + "BizStep-commissioning",
                bizLocation=s.names.location(party),
                inputQuantityList=[self.quantity(i["lot"], i["amount"], i["unit"]) for i in b["inputs"]],
                outputQuantityList=[
                    self.quantity(o["lot"], o["amount"], o["unit"], o["material"]) for o in b["outputs"]
                ],
            )
        else:
            event.update(
                type=["TransactionEvent", "Event"],
                processType="shipment",
                eventTime=day_start(b["shipped_on"]),
                action="observe",
                disposition=CBV + "Disp-in_transit",
                bizStep=CBV + "BizStep-shipping",
                bizLocation=s.names.location(party),
                sourceParty=s.names.party(party),
                destinationParty=s.names.party(b["to"]),
                quantityList=[self.quantity(b["lot"], b["amount"], b["unit"])],
            )
        body = {"validFrom": entry.recorded_at, "credentialSubject": [event]}
        return self.secure(f"dte-{entry.seq}", "dte", "DigitalTraceabilityEvent", body, entry)

    def receipt_dte(self, shipment: Entry, receipt: Entry) -> Credential:
        """The receiver's accepting receipt of ``shipment``: an ObjectEvent at the receiver."""
        s = self.snap
        b, r = shipment.statement.body, receipt.statement.body
        event = {
            "id": f"{s.names.entry(receipt.seq)}#{receipt.hash.hex()}",
            "type": ["ObjectEvent", "Event"],
            "processType": "receipt",
            "eventTime": day_start(r["received_on"]),
            "action": "observe",
            "disposition": CBV + "Disp-in_progress",
            "bizStep": CBV + "BizStep-receiving",
            "bizLocation": s.names.location(receipt.statement.issuer),
            "quantityList": [self.quantity(b["lot"], b["amount"], b["unit"])],
        }
        body = {"validFrom": receipt.recorded_at, "credentialSubject": [event]}
        return self.secure(f"dte-{receipt.seq}", "dte", "DigitalTraceabilityEvent", body, receipt)

    # -- conformity credentials -----------------------------------------------------------

    def dcc(self, entry: Entry) -> Credential:
        s = self.snap
        st, b = entry.statement, entry.statement.body
        facility, auditor = b["facility"], st.issuer
        plain = "".join(c for c in b["standard"].casefold() if c.isalnum())
        own = auditor == facility or plain in ("selfassessment", "selfassessed")
        owner_id, owner_name = SCHEME_OWNERS.get(plain, (s.names.party(auditor), s.party_name(auditor)))
        if own:
            owner_id, owner_name = s.names.party(facility), s.party_name(facility)
        standard = {
            "type": ["Standard"],
            "name": b["standard"],
            "issuingParty": {"id": owner_id, "name": owner_name},
        }
        facility_ref = {"id": s.names.location(facility), "name": s.party_name(facility)}
        assessments = []
        for key in ILO_INDICATORS:
            value = b["indicators"][key]
            words = key.replace("_", " ")
            assessments.append(
                {
                    "type": ["ConformityAssessment", "Declaration"],
                    "id": f"{s.names.entry(entry.seq)}#{key}",
                    "name": f"ILO forced-labour indicator: {words}",
                    "description": {
                        "absent": f"The indicator '{words}' was assessed and found absent.",
                        "present": f"The indicator '{words}' was found present.",
                        "not-assessed": f"The indicator '{words}' was not assessed: no conformance claimed.",
                    }[value],
                    "assessmentDate": b["audit_date"],
                    "referenceStandard": standard,
                    "assessmentCriteria": [
                        {
                            "type": ["Criterion"],
                            "id": f"{ILO_INDICATORS_URL}#{key}",
                            "name": words,
                            "description": f"ILO indicator of forced labour: {words}",
                            "conformityTopic": "social.labour",
                            "status": "active",
                        }
                    ],
                    "conformance": value == "absent",
                    "conformityTopic": "social.labour",
                    "assessedFacility": [
                        {
                            "type": ["FacilityVerification"],
                            "facility": facility_ref,
                            "IDverifiedByCAB": not own,
                        }
                    ],
                    "auditor": self.party(auditor),
                    "indicator": key,
                    "indicatorValue": value,
                }
            )
        findings = "; ".join(b["findings"])
        subject: dict[str, Any] = {
            "type": ["ConformityAttestation", "Attestation"],
            "id": s.names.entry(entry.seq),
            "name": f"{b['standard']} labour audit of {s.party_name(facility)}",
            "assessorLevel": "Self" if own else "3rdParty",
            "assessmentLevel": "Unspecified",
            "attestationType": "declaration" if own else "inspection",
            "description": f"Outcome: {b['outcome']}." + (f" Findings: {findings}." if findings else ""),
            "issuedToParty": self.party(facility),
            "scope": {
                "type": ["ConformityAssessmentScheme", "Standard"],
                "name": b["standard"],
                "issuingParty": {"id": owner_id, "name": owner_name},
            },
            "assessment": assessments,
            "outcome": b["outcome"],
        }
        if "workers" in b:
            subject["workers"] = b["workers"]
        body = {
            "validFrom": day_start(b["audit_date"]),
            "validUntil": day_end(b["valid_until"]),
            "credentialSubject": subject,
        }
        return self.secure(f"dcc-{entry.seq}", "dcc", "DigitalConformityCredential", body, entry)

    # -- the passport ---------------------------------------------------------------------

    def dpp(self, dtes: list[Credential], dccs: list[Credential], conforms: dict[str, bool]) -> Credential:
        s = self.snap
        product = s.entries[s.report.product["seq"]]
        b = product.statement.body
        item: dict[str, Any] = {
            "type": ["Product"],
            "id": f"{GS1_RESOLVER}/01/{s.gtin}/10/{quote(s.batch, safe='')}",
            "name": b["name"],
            "registeredId": s.gtin,
            "idScheme": {"type": ["IdentifierScheme"], "id": f"{GS1_RESOLVER}/01/", "name": "GS1 GTIN"},
            "batchNumber": s.batch,
        }
        if "description" in b:
            item["description"] = b["description"]
        item.update(
            producedByParty=self.party(product.statement.issuer),
            furtherInformation=[
                {
                    "type": ["Link"],
                    "linkURL": s.product_url,
                    "linkName": "Trace and compliance report",
                    "linkType": "text/html",
                }
            ],
        )
        claims = [
            {
                "type": ["Claim", "Declaration"],
                "id": c.id,
                "description": c.credential["credentialSubject"]["name"],
                "assessmentDate": c.credential["validFrom"][:10],
                "conformance": conforms[c.name],
                "conformityTopic": "social.labour",
                "conformityEvidence": link(c),
            }
            for c in dccs
        ]
        processes: dict[str, list[Credential]] = {}
        for c in dtes:
            processes.setdefault(c.credential["credentialSubject"][0]["processType"], []).append(c)
        materials = []
        for row in s.report.origins:
            m: dict[str, Any] = {
                "type": ["Material"],
                "name": row["material"],
                "originCountry": row["country"],
            }
            if row["unit"] in MASS_UNITS:
                m["mass"] = {
                    "type": ["Measure"],
                    "value": Number(row["amount"]),
                    "unit": UNIT_CODES[row["unit"]],
                }
                m["massFraction"] = Number(row["share"])
            materials.append(m)
        subject = {
            "type": ["ProductPassport"],
            "id": s.product_url,
            "product": item,
            "granularityLevel": "batch",
            "conformityClaim": claims,
            "traceabilityInformation": [
                {
                    "type": ["TraceabilityPerformance"],
                    "valueChainProcess": process,
                    "traceabilityEvent": [link(c) for c in creds],
                }
                for process, creds in processes.items()
            ],
            "materialsProvenance": materials,
            "verdict": s.report.verdict,
        }
        body = {"validFrom": product.recorded_at, "credentialSubject": subject}
        return self.secure("dpp", "dpp", "DigitalProductPassport", body, product)


def link(c: Credential) -> dict[str, Any]:
    """A UNTP SecureLink to a credential: its URL and the SHA-256 of its JWS."""
    return {
        "type": ["SecureLink", "Link"],
        "linkURL": c.id,
        "linkName": c.credential["type"][0],
        "linkType": MEDIA_TYPE,
        "hashDigest": hashlib.sha256(c.jwt.encode("ascii")).hexdigest(),
        "hashMethod": "SHA-256",
    }


def issue(snap: Snapshot) -> list[Credential]:
    """Every credential of the batch (module docstring): the DPP first, then the DTEs and
    DCCs in ledger order. Revoked steps and attestations get none."""
    issuer = Issuer(snap)
    dtes = []
    for step in snap.standing(("origin", "transformation", "shipment")):
        if step["revoked"]:
            continue
        dtes.append(issuer.dte(step))
        receipt = step.get("receipt")
        if step["kind"] == "shipment" and isinstance(receipt, int) and receipt in snap.entries:
            dtes.append(issuer.receipt_dte(snap.entries[step["seq"]], snap.entries[receipt]))
    dtes.sort(key=lambda c: int(c.name.split("-")[1]))
    revoked = {c["revoked"] for c in snap.report.corrections}
    atts = sorted(
        seq
        for seq, e in snap.entries.items()
        if e.statement.type == "labor-attestation" and seq not in revoked
    )
    dccs, conforms = [], {}
    for seq in atts:
        c = issuer.dcc(snap.entries[seq])
        body = snap.entries[seq].statement.body
        conforms[c.name] = body["outcome"] == "pass" and "present" not in body["indicators"].values()
        dccs.append(c)
    return [issuer.dpp(dtes, dccs, conforms), *dtes, *dccs]
