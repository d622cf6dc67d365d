"""The pages (blueprint ``views``): the shopper's page behind the QR code, its QR codes and
printable label, a GTIN's batches, home, parties, entries and the log explorer. HTML only,
no script; every value goes through Jinja's autoescaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from ledger.errors import InvalidField, LedgerError, NotFound, UnknownType
from ledger.model.statements import TYPES
from ledger.store import sqlite as store
from ledger.trace.walk import collect
from ledger.witness.submitter import POLICY_NAME, load_policy, witnessed_by
from web import digital_link, queries, tracing
from web.api import formats
from web.handle import get_ledger
from web.pages import log_paging, qr
from web.params import date_arg, int_arg, parse_int, str_arg
from web.present import describe
from web.present import shopper as present
from web.present import words as w

bp = Blueprint("views", __name__)

LOG_PAGE = 50


def base_url() -> str:
    configured: str | None = current_app.config.get("PROVENANCE_BASE_URL")
    return (configured or request.host_url).rstrip("/")


@bp.get("/")
def index() -> str:
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        info = ledger.info()
        products = queries.recent_products(ledger)
    return render_template("index.html", info=info, products=products, error=None)


@bp.get("/find")
def find() -> BaseResponse | tuple[str, int]:
    """The home page's form: GTIN and batch to the batch's Digital Link page."""
    gtin = (request.args.get("gtin") or "").strip().replace(" ", "")
    batch = (request.args.get("batch") or "").strip()
    try:
        return redirect(digital_link.path(digital_link.gtin14(gtin), digital_link.check_batch(batch)), 303)
    except InvalidField as e:
        ledger = get_ledger()
        with store.read_transaction(ledger.conn):
            info = ledger.info()
            products = queries.recent_products(ledger)
        return render_template(
            "index.html", info=info, products=products, error=e, gtin=gtin, batch=batch
        ), 400


# -- the Digital Link of a GTIN without a batch: /01/<gtin> -------------------------------

GTIN_PAGE = 50


@bp.get("/01/<gtin>")
def gtin_page(gtin: str) -> Any:
    """A product (GTIN) and its declared batches, newest first, ``GTIN_PAGE`` at a time
    (``before`` a seq): HTML, or JSON ``{gtin, brand, batches}`` with an RFC 8288 ``Link``
    to the next page. A GTIN-8/12/13 redirects (301) to its 14-digit form; a GTIN never
    declared is a 404, a malformed one a 400."""
    gtin14 = digital_link.gtin14(gtin)
    if gtin != gtin14:
        target = f"/01/{gtin14}"
        if request.query_string:
            target += "?" + request.query_string.decode("ascii", "replace")
        return redirect(target, 301)
    before = int_arg("before", None, lo=0)
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        product = queries.gtin_product(ledger, gtin14)
        batches, older = queries.gtin_batches(ledger, gtin14, before=before, limit=GTIN_PAGE)
    if _wants_json():
        response = jsonify(
            {
                "gtin": gtin14,
                "brand": product["brand"],
                "batches": [
                    {"batch": b["batch"], "seq": b["seq"], "withdrawn": b["withdrawn"]} for b in batches
                ],
            }
        )
        if older is not None:
            response.headers["Link"] = f'</01/{gtin14}?before={older}>; rel="next"'
    else:
        response = Response(
            render_template("gtin.html", p=product, batches=batches, older=older, paged=before is not None),
            mimetype="text/html",
        )
    response.headers["Vary"] = "Accept"
    return response


# -- the Digital Link: /01/<gtin>/10/<batch>[/qr.svg|/qr.png|/label|/21/<serial>] ----------


@bp.get("/01/<gtin>/10/<path:rest>")
def digital_link_page(gtin: str, rest: str) -> Any:
    segments = digital_link.raw_segments()  # InvalidField if not UTF-8 once decoded
    if len(segments) < 5 or segments[1] != "01" or segments[3] != "10":
        raise NotFound(f"no such page: {request.path}")
    raw_gtin, batch, tail = segments[2], segments[4], segments[5:]
    gtin14 = digital_link.gtin14(raw_gtin)
    digital_link.check_batch(batch)
    if tail == [""]:
        tail = []
    canonical = digital_link.path(gtin14, batch)
    if raw_gtin != gtin14:
        target = canonical + "".join("/" + s for s in tail)
        if request.query_string:
            target += "?" + request.query_string.decode("ascii", "replace")
        return redirect(target, 301)
    if len(tail) == 2 and tail[0] == "21":  # a serial number: the batch page covers it
        return redirect(canonical, 301)
    if tail == ["qr.svg"]:
        return _image(qr.svg(base_url() + canonical), "image/svg+xml")
    if tail == ["qr.png"]:
        return _image(qr.png(base_url() + canonical), "image/png")
    if tail == ["label"]:
        return _label(gtin14, batch, canonical)
    if tail:
        raise NotFound(f"no such page: {request.path}")
    return _shopper(gtin14, batch, canonical)


def _image(data: bytes, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    if current_app.config.get("PROVENANCE_BASE_URL"):
        response.headers["Cache-Control"] = "public, max-age=86400"
    return _no_store_if_host_used(response)


def _no_store_if_host_used(response: Response) -> Response:
    """A response whose bytes hold ``base_url()`` taken from the request's Host header: no
    shared cache may keep it (one client's Host must never reach another)."""
    if not current_app.config.get("PROVENANCE_BASE_URL"):
        response.headers["Cache-Control"] = "no-store"
    return response


def device_check(home: Path, page_url: str) -> dict[str, str]:
    """What the page needs to check itself in the browser: the ledger's witness policy (its
    cosignatures are checked, the quorum reported), and the link to an independent verifier
    (``PROVENANCE_VERIFIER_URL``) opened on this page."""
    policy = ""
    try:
        if load_policy(Path(home)) is not None:
            policy = (Path(home) / POLICY_NAME).read_text(encoding="utf-8")
    except (LedgerError, OSError, UnicodeDecodeError):
        policy = ""  # the page's own witness section says what is wrong with it
    verifier: str | None = current_app.config.get("PROVENANCE_VERIFIER_URL")
    link = f"{verifier}?bundle={quote(page_url, safe='')}" if verifier else ""
    return {"witness_policy": policy, "verifier_link": link}


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _shopper(gtin: str, batch: str, canonical: str) -> Any:
    if formats.wants_epcis():
        response = formats.epcis_response(gtin, batch)
        response.headers["Vary"] = "Accept"
        return response
    at = date_arg("at")
    ledger = get_ledger()
    if _wants_json():
        response = jsonify(tracing.bundle(ledger, gtin, batch, at=at))
    else:
        # The page needs the trace, its checkpoint and which entries it rests on, not the
        # proofs and the signature of the bundle it links to: derive once, prove nothing.
        report, source, checkpoint = collect(ledger, gtin, batch, at=at, limit=tracing.trace_limit())
        bundle = {
            **report.to_json(),
            "checkpoint": checkpoint.note,
            "vkey": ledger.verifier.to_text(),
            "entries": [{"seq": seq} for seq in sorted(source.entries)],
        }
        view = present.shopper_view(bundle)
        view.verdict.points.extend(suspended_points(ledger, bundle))
        response = Response(
            render_template(
                "product.html",
                p=view,
                bundle=bundle,
                canonical=canonical,
                page_url=base_url() + canonical,
                bundle_url=f"/api/v1/trace/{gtin}/{quote(batch, safe='')}",
                entries=sorted(e["seq"] for e in bundle.get("entries", [])),
                witnessed=witnessed_by(ledger.home, checkpoint.note),
                **device_check(ledger.home, base_url() + canonical),
            ),
            mimetype="text/html",
        )
    response.headers["Vary"] = "Accept"
    return response


def suspended_points(ledger: Any, trace: dict[str, Any]) -> list[Any]:
    """A point on the shopper's page for each party on the journey the operator has suspended
    (SPEC v2 §6): what it said before stands, but the shopper should know."""
    from web.present.shopper import Point

    ids = sorted(
        {s["party"] for s in trace.get("steps", [])}
        | {s.get("to") for s in trace.get("steps", []) if s.get("to")}
    )
    rows = store.query(
        ledger.conn,
        "SELECT id, suspended FROM parties WHERE suspended IS NOT NULL"
        f" AND id IN ({','.join('?' * len(ids))})",
        ids,
    )
    names = trace.get("parties", {})
    return [
        Point(
            "warn",
            f"{names.get(pid, {}).get('name', pid)} is suspended by the ledger's operator (entry {seq}).",
        )
        for pid, seq in rows
    ]


def _label(gtin: str, batch: str, canonical: str) -> Response:
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        rows = store.query(
            ledger.conn,
            "SELECT seq, brand FROM products WHERE gtin = ? AND batch = ? AND revoked_by IS NULL",
            (gtin, batch),
        )
        if not rows:
            raise NotFound(f"no product with GTIN {gtin} and batch {batch!r}", field="batch")
        seq, brand = rows[0]
        name = ledger.entry(seq).statement.body["name"]
        brand_name = queries.party_names(ledger, {brand}).get(brand, brand)
    page = render_template(
        "label.html",
        name=name,
        brand=brand_name,
        gtin=gtin,
        batch=batch,
        canonical=canonical,
        url=base_url() + canonical,
    )
    return _no_store_if_host_used(Response(page, mimetype="text/html"))


# -- parties, entries, the log ------------------------------------------------------------


@bp.get("/parties")
def parties() -> str:
    """A page of parties: only the rows shown are read, no keys or attestations."""
    after = int_arg("after", -1, lo=-1)
    assert after is not None
    page, next_after = queries.parties(get_ledger(), after, details=False)
    return render_template("parties.html", parties=page, next_after=next_after)


@bp.get("/parties/<pid>")
def party(pid: str) -> str:
    ledger = get_ledger()
    after = int_arg("after", -1, lo=-1)  # paging through the party's attestations
    assert after is not None
    with store.read_transaction(ledger.conn):
        p = queries.party(ledger, pid, after)
        made = queries.activity(ledger, pid)
        got = queries.received(ledger, pid)
        products = queries.products_of(ledger, pid) if p["role"] == "brand" else []
        ids = {a["issuer"] for a in p["attestations"]} | {a["facility"] for a in p["attestations"]}
        ids |= {x["body"].get("to", "") for x in made} | {x["issuer"] for x in got}
        moving = queries.transit(ledger, pid)
        ids |= {x["from"] for x in moving["incoming"]} | {x["to"] for x in moving["outgoing"]}
        names = queries.party_names(ledger, ids)
    return render_template(
        "party.html",
        p=p,
        made=made,
        got=got,
        moving=moving,
        products=products,
        names=names,
        describe=describe.describe,
    )


@bp.get("/entries/<seq>")
def entry(seq: str) -> str:
    ledger = get_ledger()
    n = parse_int(seq, "seq")
    with store.read_transaction(ledger.conn):
        view = ledger.entry_view(n)
        e = ledger.entry(n)
        st = view["entry"]["statement"]
        body = st["body"]
        ids = {st["issuer"]} | {body[k] for k in ("facility", "to", "party") if isinstance(body.get(k), str)}
        names = queries.party_names(ledger, ids)
        revoked = store.query(ledger.conn, "SELECT seq FROM revocations WHERE target = ?", (n,))
        signature = describe.check_signature(ledger, e)
    inclusion = describe.check_inclusion(ledger, view)
    return render_template(
        "entry.html",
        v=view,
        st=st,
        names=names,
        summary=describe.describe(st, names),
        revoked_by=revoked[0][0] if revoked else None,
        size=view["inclusion_proof"]["tree_size"],
        signature=signature,
        inclusion=inclusion,
        type_name=w.TYPE_NAME.get(st["type"], st["type"]),
    )


@bp.get("/log")
def log() -> str:
    """The log explorer: entries oldest first, a page at a time either way (``after`` or
    ``before`` a seq), filtered by type, party or lot (``log_paging``)."""
    type_ = str_arg("type", 64)
    if type_ is not None and type_ not in TYPES:
        raise UnknownType(f"{type_!r} is not a statement type", field="type")
    party_id, lot = str_arg("party"), str_arg("lot")
    after = int_arg("after", None, lo=-1)
    before = int_arg("before", None, lo=0)
    if after is not None and before is not None:
        raise InvalidField("give after or before, not both", field="before")
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        size = ledger.size
        page = log_paging.log_page(
            ledger.conn,
            log_paging.LogFilter(type_, party_id, lot),
            after=after,
            before=before,
            size=LOG_PAGE,
        )
        entries = [(s, ledger.entry(s).to_json()) for s in page.seqs]
        ids = {e["statement"]["issuer"] for _, e in entries}
        ids |= {
            e["statement"]["body"].get(k)
            for _, e in entries
            for k in ("facility", "to", "party")
            if isinstance(e["statement"]["body"].get(k), str)
        }
        names = queries.party_names(ledger, ids)
        rows = [
            {
                "seq": s,
                "type": w.TYPE_NAME.get(e["statement"]["type"], ""),
                "issuer": e["statement"]["issuer"],
                "recorded_at": e["recorded_at"],
                "summary": describe.describe(e["statement"], names),
            }
            for s, e in entries
        ]
    return render_template(
        "log.html",
        rows=rows,
        size=size,
        type=type_,
        party=party_id,
        lot=lot,
        types=TYPES,
        type_names=w.TYPE_NAME,
        page=page,
        budget=log_paging.SCAN_BUDGET,
    )
