"""The JSON API of SPEC §10 through Flask's test client: every route, every refusal with its
status and error body, CORS and security headers, and the OpenAPI document checked against
real responses."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from conftest import origin_envelope
from jsonschema import Draft202012Validator

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.model.statements import Entry
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint, Verifier
from ledger.trace.bundle import verify_bundle
from web import MAX_CONTENT_LENGTH
from web.api.openapi import document

# -- helpers ------------------------------------------------------------------------------


def schema(name: str) -> Draft202012Validator:
    doc = document()
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def conforms(data: Any, name: str) -> None:
    errors = sorted(schema(name).iter_errors(data), key=str)
    assert not errors, f"{name}: {errors[0]}"


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The SPEC §10 error body, with this status, code and field."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    conforms(body, "Error")
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


def post(client: Any, envelope: Any) -> Any:
    data = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
    return client.post("/api/v1/entries", data=data, content_type="application/json")


def check_view(view: dict[str, Any], verifier: Verifier) -> None:
    """An entry view proves itself: canonical bytes -> hash -> proof -> signed checkpoint."""
    conforms(view, "EntryView")
    canonical = base64.b64decode(view["canonical"])
    assert json.loads(canonical) == view["entry"]
    assert Entry.from_canonical(canonical).seq == view["seq"]
    leaf = merkle.leaf_hash(canonical)
    assert leaf.hex() == view["entry_hash"]
    cp = SignedCheckpoint.open(view["checkpoint"], verifier).checkpoint
    proof = view["inclusion_proof"]
    assert proof["tree_size"] == cp.size
    merkle.verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        leaf,
        [bytes.fromhex(h) for h in proof["hashes"]],
        cp.root,
    )


# -- reads --------------------------------------------------------------------------------


def test_ledger_info(client: Any, ledger: Ledger, cast: Builder) -> None:
    r = client.get("/api/v1/ledger")
    assert r.status_code == 200
    info = r.get_json()
    conforms(info, "LedgerInfo")
    assert info["origin"] == ledger.origin and info["size"] == ledger.size == 17
    assert info["vkey"] == ledger.verifier.to_text()
    cp = SignedCheckpoint.open(info["checkpoint"], Verifier.from_text(info["vkey"])).checkpoint
    assert (cp.size, cp.root.hex()) == (info["size"], info["root"])


def test_checkpoint_is_plain_text(client: Any, ledger: Ledger, cast: Builder) -> None:
    r = client.get("/checkpoint")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert r.get_data(as_text=True) == ledger.latest_checkpoint().note
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_entry_view_verifies(client: Any, ledger: Ledger, stocked: dict[str, int]) -> None:
    seq = stocked["spin"]
    r = client.get(f"/api/v1/entries/{seq}")
    assert r.status_code == 200
    view = r.get_json()
    check_view(view, ledger.verifier)
    assert view == ledger.entry_view(seq)


def test_entries_pages_cover_the_log_once(client: Any, ledger: Ledger, stocked: dict[str, int]) -> None:
    seen: list[int] = []
    after: int | None = None
    pages = 0
    while True:
        url = "/api/v1/entries?limit=4" + ("" if after is None else f"&after={after}")
        r = client.get(url)
        assert r.status_code == 200
        page = r.get_json()
        conforms(page, "EntryPage")
        for view in page["entries"]:
            check_view(view, ledger.verifier)
        seen += [v["seq"] for v in page["entries"]]
        pages += 1
        after = page["next_after"]
        if after is None:
            break
    assert seen == list(range(ledger.size))
    assert pages == -(-ledger.size // 4)


@pytest.mark.parametrize(
    "query, expect",
    [
        ("type=shipment", ["ship_cotton", "ship_yarn", "ship_tees", "ship_trader"]),
        # a shipment's receipt (right after it: "+1") names its lot and both parties
        ("lot=yarn-1", ["spin", "ship_yarn", "ship_yarn+1", "sew"]),
        ("party=proc-a&type=transformation", ["spin"]),
        ("party=trade-a", ["ship_trader", "ship_trader+1"]),
        ("type=receipt&party=trade-a", ["ship_trader+1"]),
    ],
)
def test_entries_filters(client: Any, stocked: dict[str, int], query: str, expect: list[str]) -> None:
    page = client.get(f"/api/v1/entries?{query}").get_json()
    want = [stocked[k.removesuffix("+1")] + k.endswith("+1") for k in expect]
    assert [v["seq"] for v in page["entries"] if v["seq"] > 16] == want
    assert page["next_after"] is None


def test_inclusion_and_consistency_proofs(client: Any, ledger: Ledger, stocked: dict[str, int]) -> None:
    size = ledger.size
    old = ledger.checkpoint(17)
    new = ledger.latest_checkpoint()
    for seq in (0, 5, size - 1):
        r = client.get(f"/api/v1/proofs/inclusion?seq={seq}")
        assert r.status_code == 200
        proof = r.get_json()
        conforms(proof, "InclusionProof")
        assert proof["tree_size"] == size
        merkle.verify_inclusion(
            seq,
            size,
            merkle.leaf_hash(ledger.canonical(seq)),
            [bytes.fromhex(h) for h in proof["hashes"]],
            new.checkpoint.root,
        )
    proof = client.get("/api/v1/proofs/inclusion?seq=3&size=17").get_json()
    merkle.verify_inclusion(
        3,
        17,
        merkle.leaf_hash(ledger.canonical(3)),
        [bytes.fromhex(h) for h in proof["hashes"]],
        old.checkpoint.root,
    )
    for url in ("/api/v1/proofs/consistency?old=17", f"/api/v1/proofs/consistency?old=17&new={size}"):
        r = client.get(url)
        assert r.status_code == 200
        proof = r.get_json()
        conforms(proof, "ConsistencyProof")
        assert (proof["old_size"], proof["new_size"]) == (17, size)
        merkle.verify_consistency(
            17,
            size,
            old.checkpoint.root,
            new.checkpoint.root,
            [bytes.fromhex(h) for h in proof["hashes"]],
        )


def test_parties(client: Any, stocked: dict[str, int], cast: Builder) -> None:
    r = client.get("/api/v1/parties")
    assert r.status_code == 200
    data = r.get_json()
    conforms(data, "PartyList")
    ids = [p["id"] for p in data["parties"]]
    assert ids[0] == "operator" and {"farm-a", "proc-a", "audit-a"} <= set(ids)
    proc = client.get("/api/v1/parties/proc-a").get_json()
    conforms(proc, "Party")
    assert (proc["name"], proc["role"], proc["country"]) == (
        "Coimbatore Spinning",
        "processor",
        "IN",
    )
    assert proc["keys"] == [
        {
            "key_id": cast.keys["proc-a"].public.key_id,
            "public_key": cast.keys["proc-a"].public.b64,
            "from_seq": proc["first_seq"],
            "until_seq": None,
        }
    ]
    (att,) = proc["attestations"]
    assert (att["seq"], att["issuer"], att["standard"], att["outcome"]) == (
        stocked["audit"],
        "audit-a",
        "SA8000",
        "pass",
    )
    auditor = client.get("/api/v1/parties/audit-a").get_json()
    assert [a["facility"] for a in auditor["attestations"]] == ["proc-a"]


def test_trace_bundle_verifies_offline(client: Any, ledger: Ledger, product: dict[str, Any]) -> None:
    from urllib.parse import quote

    url = f"/api/v1/trace/{product['gtin']}/{quote(product['batch'], safe='')}"
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)
    bundle = r.get_json()
    conforms(bundle, "Bundle")
    assert bundle["product"]["batch"] == product["batch"]
    assert bundle["verdict"] == "compliant"
    verify_bundle(bundle, vkey=ledger.verifier.to_text())
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    # the GTIN-13 form answers for the same product
    assert client.get(url.replace(product["gtin"], product["gtin"][1:])).get_json() == bundle


# -- appends ------------------------------------------------------------------------------


def test_append_returns_the_entry_with_its_proof(client: Any, ledger: Ledger, cast: Builder) -> None:
    envelope = origin_envelope(cast)
    r = post(client, envelope)
    assert r.status_code == 201, r.get_data(as_text=True)
    view = r.get_json()
    check_view(view, ledger.verifier)
    assert view["seq"] == 17 and view["entry"]["statement"] == envelope["statement"]
    assert view["inclusion_proof"]["tree_size"] == 18
    assert "Access-Control-Allow-Origin" not in r.headers
    assert client.get("/api/v1/entries/17").get_json() == view


def test_replay_is_409_with_the_existing_seq(client: Any, cast: Builder) -> None:
    envelope = origin_envelope(cast)
    assert post(client, envelope).status_code == 201
    error = assert_error(post(client, envelope), 409, "replay", "statement.id")
    assert error["seq"] == 17


def refusals(b: Builder, sign_raw: Any) -> list[tuple[str, bytes, int, str, str | None]]:
    """(name, body, status, code, field) for each way a POST is refused."""
    good = origin_envelope(b)
    bad_sig = json.loads(json.dumps(good))
    bad_sig["signature"]["sig"] = base64.b64encode(b"\x01" * 64).decode()
    extra = {**good, "note": "hi"}
    no_sig = {"statement": good["statement"]}
    stranger = json.loads(json.dumps(good))
    stranger["statement"]["issuer"] = "nobody-here"
    other_key = sign_raw(good["statement"], b.key_for("proc-a"))
    role = b.envelope(
        "product",
        "farm-a",
        {
            "gtin": "09506000134352",
            "batch": "X1",
            "name": "Nope",
            "lots": [{"lot": "cot-1", "amount": "1", "unit": "kg"}],
        },
    ).to_json()
    no_lot = b.envelope(
        "shipment",
        "farm-a",
        {"lot": "ghost", "amount": "1", "unit": "kg", "to": "proc-a", "shipped_on": "2025-05-02"},
    ).to_json()
    big = b.envelope(
        "material-origin",
        "farm-a",
        {
            "lot": "big-lot",
            "material": "cotton",
            "quantity": {"amount": "10", "unit": "kg"},
            "origin": {"country": "IN"},
            "produced_on": "2025-05-01",
            "certifications": ["x" * 200] * 20,
        },
    ).to_json()
    from ledger.model.fields import ILO_INDICATORS

    huge_statement = {
        "statement": b.statement(
            "labor-attestation",
            "audit-a",
            {
                "facility": "farm-a",
                "standard": "SA8000",
                "audit_date": "2025-01-01",
                "valid_until": "2026-01-01",
                "outcome": "pass",
                "indicators": {k: "absent" for k in ILO_INDICATORS},
                "findings": ["f" * 2000] * 35,
                "evidence": [],
            },
        ),
        "signature": good["signature"],
    }

    def enc(v: Any) -> bytes:
        return json.dumps(v).encode()

    return [
        ("not json", b"{not json", 400, "malformed", None),
        ("empty", b"", 400, "malformed", None),
        ("array", b"[]", 400, "malformed", None),
        (
            "float",
            enc(good).replace(b'"seq"', b'"seq"').replace(b"}}", b',"n":1.5}}', 1),
            400,
            None,
            None,
        ),
        ("unknown field", enc(extra), 400, "unknown-field", "note"),
        ("no signature", enc(no_sig), 400, "missing-field", "signature"),
        ("bad signature", enc(bad_sig), 403, "bad-signature", "signature.sig"),
        ("unknown issuer", enc(stranger), 403, "unknown-issuer", "statement.issuer"),
        ("someone else's key", enc(other_key), 403, "unknown-key", "signature.key_id"),
        ("role", enc(role), 403, "role-not-allowed", "statement.issuer"),
        ("unknown lot", enc(no_lot), 422, "unknown-lot", "statement.body.lot"),
        ("too large body", b'{"x":"' + b"z" * MAX_CONTENT_LENGTH + b'"}', 413, "too-large", None),
        ("statement over 64 KiB", enc(huge_statement), 413, "too-large", "statement"),
        ("fine", enc(big), 201, "", None),
    ]


def test_every_refusal_has_its_status_and_error_body(
    client: Any, cast: Builder, sign_raw: Any, ledger: Ledger
) -> None:
    for name, body, status, code, field in refusals(cast, sign_raw):
        before = ledger.size
        r = post(client, body)
        if status == 201:
            assert r.status_code == 201, (name, r.get_data(as_text=True))
            continue
        if code is None:  # any 400 code will do
            assert r.status_code == 400, name
            assert_error(r, 400, r.get_json()["error"]["code"])
        else:
            assert_error(r, status, code, field)
        assert ledger.size == before, name


def test_business_rules_are_422(client: Any, stocked: dict[str, int], cast: Builder) -> None:
    over = cast.envelope(
        "shipment",
        "farm-a",
        {
            "lot": "cot-1",
            "amount": "5000",
            "unit": "kg",
            "to": "proc-a",
            "shipped_on": "2025-05-09",
        },
    ).to_json()
    assert_error(post(client, over), 422, "insufficient-balance", "statement.body.amount")
    again = origin_envelope(cast, lot="cot-1")
    assert_error(post(client, again), 422, "lot-exists", "statement.body.lot")
    custody = cast.envelope(
        "shipment",
        "trade-a",
        {"lot": "yarn-1", "amount": "1", "unit": "kg", "to": "proc-a", "shipped_on": "2025-05-09"},
    ).to_json()
    assert_error(post(client, custody), 422, "no-custody")


@pytest.mark.parametrize(
    "method, url, status, code, field",
    [
        ("GET", "/api/v1/entries/abc", 400, "invalid-field", "seq"),
        ("GET", "/api/v1/entries/-1", 400, "invalid-field", "seq"),
        ("GET", "/api/v1/entries/123456789012345678901234567890", 400, "invalid-field", "seq"),
        ("GET", "/api/v1/entries/500", 404, "not-found", "seq"),
        ("GET", "/api/v1/entries?limit=0", 400, "invalid-field", "limit"),
        ("GET", "/api/v1/entries?limit=1001", 400, "invalid-field", "limit"),
        ("GET", "/api/v1/entries?limit=ten", 400, "invalid-field", "limit"),
        ("GET", "/api/v1/entries?after=x", 400, "invalid-field", "after"),
        ("GET", "/api/v1/entries?after=-2", 400, "invalid-field", "after"),
        ("GET", "/api/v1/entries?type=gossip", 400, "unknown-type", "type"),
        ("GET", "/api/v1/proofs/inclusion", 400, "missing-field", "seq"),
        ("GET", "/api/v1/proofs/inclusion?seq=x", 400, "invalid-field", "seq"),
        ("GET", "/api/v1/proofs/inclusion?seq=5&size=3", 400, "bad-proof", "seq"),
        ("GET", "/api/v1/proofs/inclusion?seq=1&size=999", 400, "bad-proof", "size"),
        ("GET", "/api/v1/proofs/inclusion?seq=1&size=0", 400, "bad-proof", "size"),
        ("GET", "/api/v1/proofs/consistency", 400, "missing-field", "old"),
        ("GET", "/api/v1/proofs/consistency?old=5&new=2", 400, "bad-proof", "old"),
        ("GET", "/api/v1/proofs/consistency?old=1&new=999", 400, "bad-proof", "new"),
        ("GET", "/api/v1/parties/nobody", 404, "not-found", "id"),
        ("GET", "/api/v1/trace/123/B1", 400, "invalid-field", "gtin"),
        ("GET", "/api/v1/trace/09506000134353/B1", 400, "invalid-field", "gtin"),
        ("GET", "/api/v1/trace/09506000134352/" + "B" * 21, 400, "invalid-field", "batch"),
        ("GET", "/api/v1/trace/09506000134352/B1", 404, "not-found", None),
        ("GET", "/api/v1/trace/09506000134352/B1?at=2025-13-01", 400, "invalid-field", "at"),
        ("GET", "/api/nowhere", 404, "not-found", None),
        ("DELETE", "/api/v1/entries", 405, "method-not-allowed", None),
        ("PUT", "/api/v1/ledger", 405, "method-not-allowed", None),
        ("POST", "/api/v1/entries/3", 405, "method-not-allowed", None),
    ],
)
def test_bad_requests(
    client: Any, cast: Builder, method: str, url: str, status: int, code: str, field: str | None
) -> None:
    r = client.open(url, method=method)
    assert_error(r, status, code, field)
    if status == 405:
        assert "GET" in r.headers["Allow"] or "POST" in r.headers["Allow"]


def test_unexpected_errors_are_500_json_without_details(
    client: Any,
    app: Any,
    cast: Builder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def boom(self: Ledger) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(Ledger, "info", boom)
    r = client.get("/api/v1/ledger")
    error = assert_error(r, 500, "internal")
    assert "secret" not in r.get_data(as_text=True)
    assert "secret detail" in caplog.text
    page = client.get("/")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "secret" not in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)
    assert error["message"]


# -- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/ledger",
        "/api/v1/entries",
        "/api/v1/entries/0",
        "/api/v1/parties",
        "/api/v1/proofs/inclusion?seq=0",
        "/checkpoint",
        "/api/openapi.json",
        "/api/v1/entries/999",
    ],
)
def test_cors_open_on_reads(client: Any, cast: Builder, url: str) -> None:
    assert client.get(url).headers.get("Access-Control-Allow-Origin") == "*"


def test_cors_preflight_allows_reads_only(client: Any, cast: Builder) -> None:
    r = client.options(
        "/api/v1/ledger",
        headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD"


def test_no_cors_on_pages_and_posts(client: Any, cast: Builder) -> None:
    assert "Access-Control-Allow-Origin" not in client.get("/").headers
    assert "Access-Control-Allow-Origin" not in post(client, b"{}").headers


@pytest.mark.parametrize("url", ["/", "/api/v1/ledger", "/log", "/nowhere", "/api/nowhere"])
def test_security_headers_everywhere(client: Any, cast: Builder, url: str) -> None:
    h = client.get(url).headers
    csp = h["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    # scripts only from our own files (the shopper page's in-place check, issue 13)
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"


# -- the OpenAPI document -----------------------------------------------------------------


def test_openapi_describes_every_route(client: Any, app: Any) -> None:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.1")
    Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not (rule.rule.startswith("/api/") or rule.rule == "/checkpoint"):
            continue
        path = rule.rule.replace("<path:batch>", "{batch}").replace("<pid>", "{id}")
        path = path.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    assert served <= documented, served - documented
    assert ("/01/{gtin}/10/{batch}", "get") in documented
    for path, item in doc["paths"].items():
        for op in item.values():
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path
            for response in op["responses"].values():
                for content in response.get("content", {}).values():
                    refs = json.dumps(content["schema"])
                    for name in [s.split('"')[0] for s in refs.split("#/components/schemas/")[1:]]:
                        assert name in doc["components"]["schemas"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/trace/00614141000012/%ff",
        "/api/v1/trace/%ff/B1",
        "/api/v1/trace/00614141000012/%C0%AE",
        "/01/00614141000012/10/%ff",
    ],
)
def test_bad_percent_encoding_is_a_400_not_a_500(client: Any, product: dict[str, Any], path: str) -> None:
    """gunicorn passes the raw URI; a batch that is not UTF-8 once decoded is the client's error."""
    r = client.get(path, environ_overrides={"RAW_URI": path}, headers={"Accept": "application/json"})
    assert r.status_code == 400, r.data
    assert r.get_json()["error"]["code"] == "invalid-field"


def test_a_statement_under_64_kib_is_accepted_however_the_sender_escapes_it(
    client: Any, cast: Any, product: dict[str, Any]
) -> None:
    """SPEC §7 limits the canonical statement, not its encoding on the wire: a 60 KB statement
    of emoji sent with every non-ASCII character escaped (\\ud83c\\udf3f…) is about 3 times larger."""
    import json as _json

    from ledger.model.fields import ILO_INDICATORS

    envelope = cast.envelope(
        "labor-attestation",
        "audit-a",
        {
            "facility": "proc-a",
            "standard": "SA8000",
            "audit_date": "2025-01-01",
            "valid_until": "2026-01-01",
            "outcome": "pass",
            "indicators": {k: "absent" for k in ILO_INDICATORS},
            "findings": ["\U0001f33f" * 500] * 30,
            "evidence": [],
        },
    )
    wire = _json.dumps(envelope.to_json()).encode()  # ensure_ascii: 12 bytes per emoji
    assert len(envelope.statement.canonical) < 64 * 1024 < 2 * 64 * 1024 < len(wire)
    r = client.post("/api/v1/entries", data=wire, content_type="application/json")
    assert r.status_code == 201, r.get_json()
