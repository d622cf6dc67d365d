"""``provenance trace`` and ``provenance verify-bundle`` (SPEC §11).

``trace`` exits 0 for a compliant product or one needing attention, 1 for non-compliant and
2 for an error (unknown product, bad GTIN, no ledger), with one clear line on stderr (and, with
``--json``, the error body of SPEC §10 on stdout). ``verify-bundle`` exits 0 if the bundle
verifies, 1 if it does not, 2 if the file cannot be read.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ledger.cli.commands import chosen_db, db_option
from ledger.core.ledger import Ledger, default_home
from ledger.crypto import canonical
from ledger.errors import LedgerError
from ledger.trace.asof import proved, recorded_day

MARK = {"missing": "NO AUDIT", "expired": "AUDIT EXPIRED", "revoked": "AUDIT REVOKED"}
SEVERITY = {"serious": "SERIOUS  ", "attention": "ATTENTION", "info": "info     "}


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def fail(e: LedgerError, as_json: bool, code: int = 2) -> NoReturn:
    if as_json:
        click.echo(dumps(e.to_json()))
    click.echo(f"error: {e.code}: {e.describe()}", err=True)
    sys.exit(code)


def register(main: click.Group) -> None:
    main.add_command(trace)
    main.add_command(verify_bundle_cmd)


@click.command()
@click.argument("gtin")
@click.argument("batch")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON (docs/trace-format.md).")
@click.option(
    "--bundle",
    "bundle_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the signed, offline-verifiable bundle to FILE.",
)
@click.option(
    "--at",
    "at",
    default=None,
    metavar="DATE",
    help="Evaluate as of DATE (YYYY-MM-DD): only entries recorded on or before it.",
)
@db_option
@click.option(
    "--home",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Ledger home folder (default: $PROVENANCE_HOME or ./provenance-home).",
)
def trace(
    gtin: str, batch: str, as_json: bool, bundle_file: Path | None, at: str | None, home: Path | None
) -> None:
    """The brand's compliance report for product GTIN, batch BATCH.

    Exit 0: compliant or needs attention; 1: non-compliant; 2: error.
    """
    from ledger.trace.bundle import build_bundle
    from ledger.trace.walk import TRACE_KEYS, trace_product

    try:
        with Ledger.open(home or default_home(), readonly=True, db=chosen_db()) as ledger:
            if bundle_file is not None:
                bundle = build_bundle(ledger, gtin, batch, at=at)
                data = {k: bundle[k] for k in TRACE_KEYS}
                bundle_file.write_text(dumps(bundle) + "\n", encoding="utf-8")
            else:
                data = trace_product(ledger, gtin, batch, at=at).to_json()
            last = recorded_day(ledger, data["size"] - 1) if at is not None else None
    except LedgerError as e:
        fail(e, as_json)
    except OSError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    if as_json:
        click.echo(dumps(data))
    else:
        click.echo(render(data), nl=False)
        if at is not None:
            click.echo(f"\nAs of {at}: {proved(at, data['size'], last)}.")
        if bundle_file is not None:
            click.echo(
                f"\nBundle written to {bundle_file}: check it anywhere with "
                f"'provenance verify-bundle {bundle_file}'."
            )
    sys.exit(1 if data["verdict"] == "non-compliant" else 0)


@click.command("verify-bundle")
@click.argument("bundle_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--vkey",
    default=None,
    help="The operator's published verifier key (note form): refuse a bundle signed by any other key.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A witness policy (C2SP tlog-policy): refuse a checkpoint its quorum did not cosign.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the re-derived trace as JSON.")
def verify_bundle_cmd(bundle_file: Path, vkey: str | None, policy_file: Path | None, as_json: bool) -> None:
    """Check a trace bundle offline: key, checkpoint, operator signature, every entry's proof
    and signature, and that the graph, findings and verdict follow from the entries.

    Exit 0: verified; 1: rejected; 2: unreadable file.
    """
    from ledger.trace.bundle import verify_bundle

    try:
        data = bundle_file.read_bytes()
    except OSError as e:
        click.echo(f"error: cannot read {bundle_file}: {e.strerror or e}", err=True)
        sys.exit(2)
    witnesses = None
    if policy_file is not None:
        from ledger.tlog.policy import Policy as WitnessPolicy

        try:
            witnesses = WitnessPolicy.load(policy_file)
        except LedgerError as e:
            click.echo(f"error: {e.code}: {e.describe()}", err=True)
            sys.exit(2)
    try:
        bundle = canonical.parse(data)
        report = verify_bundle(bundle, vkey=vkey, witnesses=witnesses)
    except LedgerError as e:
        click.echo(f"rejected: {e.code}: {e.describe()}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(dumps(report.to_json()))
    p = report.product
    when = f" as of {report.as_of}" if report.as_of else ""
    click.echo(
        f"ok: GTIN {p['gtin']} batch {p['batch']} ({p['name']}): {report.verdict}{when}; "
        f"{len(bundle['entries'])} entries proven against checkpoint size {report.size} "
        f"of {bundle['origin']}",
        err=as_json,
    )
    if report.as_of:
        click.echo(
            f"as of {report.as_of}: {proved(report.as_of, report.size, last_recorded(bundle))}", err=as_json
        )
    if witnesses is not None:
        cosigned = ", ".join(sorted(witnesses.cosigned_by(bundle["checkpoint"]))) or "no witness"
        click.echo(f"witnessed: {witnesses.describe_quorum()} met, cosigned by {cosigned}", err=as_json)
    if vkey is None and not (witnesses and witnesses.logs):
        click.echo(f"note: compare the operator key with the one it publishes: {bundle['vkey']}", err=True)


def last_recorded(bundle: dict[str, Any]) -> str | None:
    """When the bundle's checkpoint's last entry was recorded, if the bundle holds it (it was
    verified with the rest)."""
    from ledger.model.statements import Entry

    size = bundle.get("size")
    for item in bundle["entries"]:
        if item["seq"] == (size or 0) - 1:
            return Entry.from_canonical(base64.b64decode(item["canonical"])).recorded_at
    return None


# -- the terminal report ----------------------------------------------------------------


def render(t: dict[str, Any]) -> str:
    """A readable report: the verdict, a tree of tiers with each facility's status, the
    origins and their shares, the findings and the corrections."""
    p, parties = t["product"], t["parties"]
    steps = {s["seq"]: s for s in t["steps"]}
    lots = {lot["lot"]: lot for lot in t["lots"]}
    counts = {sev: sum(f["severity"] == sev for f in t["findings"]) for sev in SEVERITY}
    lines = [
        f"Product   {p['name']}  (GTIN {p['gtin']}, batch {p['batch']}, entry {p['seq']})",
        f"Brand     {_who(parties, p['brand'])}",
        f"Verdict   {t['verdict'].upper()}  ({counts['serious']} serious, "
        f"{counts['attention']} attention, {counts['info']} info)",
        f"Ledger    {t['size']} entries" + (f", as of {t['as_of']}" if t["as_of"] else ""),
        "",
        "Supply chain (tier 0 is the product; each facility's labour audit on the step's date)",
    ]
    shown: set[int] = set()
    # Depth-first from the product, iteratively (a chain may be 100,000 steps deep); the
    # indentation stops growing at MAX_INDENT levels so every line stays short.
    todo: list[tuple[int, str, bool] | str] = [(p["seq"], "", True)]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            lines.append(item)
            continue
        seq, prefix, last = item
        s = steps[seq]
        branch = "└─ " if last else "├─ "
        again = " (see above)" if seq in shown else ""
        lines.append(prefix + branch + _step_line(s, parties) + again)
        if seq in shown or s["kind"] not in ("product", "transformation"):
            continue
        shown.add(seq)
        child_prefix = _indent(prefix, "   " if last else "│  ")
        later: list[tuple[int, str, bool] | str] = []
        for i, line in enumerate(s["inputs"]):
            lot = lots.get(line["lot"], {})
            made = [lot["created_by"]] if "created_by" in lot else []
            kids = [k for k in [*reversed(lot.get("shipments", [])), *made] if k in steps]
            end = i == len(s["inputs"]) - 1
            later.append(
                child_prefix
                + ("└─ " if end else "├─ ")
                + f"lot {line['lot']}: {line['amount']} {line['unit']}"
            )
            kid_prefix = _indent(child_prefix, "   " if end else "│  ")
            later += [(k, kid_prefix, j == len(kids) - 1) for j, k in enumerate(kids)]
        todo += reversed(later)
    if t["origins"]:
        lines += ["", "Origins (share of the traced quantity, per unit)"]
        for o in t["origins"]:
            place = f"{o['region']}, {o['country']}" if o.get("region") else o["country"]
            pct = f"{float(o['share']) * 100:.1f}%"
            lines.append(
                f"  {o['lot']}  {o['material']}  {o['amount']} {o['unit']}  {pct:>6}  "
                f"{_who(parties, o['party'])}, {place}, produced {o['produced_on']}"
            )
    lines += ["", "Findings" if t["findings"] else "Findings: none"]
    lines += [f"  {SEVERITY[f['severity']]}  {f['message']}" for f in t["findings"]]
    if t["corrections"]:
        lines += ["", "Corrections (revoked entries; nothing is edited in place)"]
        lines += [
            f"  entry {c['revoked']} ({c['type']} by {c['party']}) revoked by entry {c['by']}"
            f" on {c['date']}: {c['reason']}"
            for c in t["corrections"]
        ]
    return "\n".join(lines) + "\n"


MAX_INDENT = 40  # levels of the supply-chain tree drawn; deeper steps line up at the last


def _indent(prefix: str, more: str) -> str:
    return prefix + more if len(prefix) < 3 * MAX_INDENT else prefix


def _who(parties: dict[str, Any], pid: str) -> str:
    rec = parties.get(pid)
    return f"{rec['name']} ({pid})" if rec else pid


def _step_line(s: dict[str, Any], parties: dict[str, Any]) -> str:
    where = f"{s['role']}, {s['country']}" if s["country"] else s["role"]
    if s["kind"] == "shipment":
        what = f"shipment to {_who(parties, s['to'])}"
    elif s["kind"] == "transformation":
        outs = ", ".join(f"{o['lot']} {o['amount']} {o['unit']}" for o in s["outputs"])
        what = f"{s['process']} -> {outs}"
    elif s["kind"] == "origin":
        o = s["outputs"][0]
        what = f"origin of {o['lot']} ({o['material']}, {o['amount']} {o['unit']})"
    else:
        what = "product"
    head = f"[{s['tier']}] {s['date']}  {_who(parties, s['party'])} ({where})  {what}  #{s['seq']}"
    if s["revoked"]:
        return head + "  [STEP REVOKED]"
    a = s["audit"]
    if a["status"] == "not-required":
        return head
    if a["status"] != "valid":
        return f"{head}  [{MARK.get(a['status'], a['status'])}]"
    outcome = a["outcome"] if a["outcome"] == "pass" else a["outcome"].upper()
    detail = outcome + (", self-assessment" if a.get("self_assessment") else "")
    if a["present"]:
        detail += ", PRESENT: " + ", ".join(a["present"])
    return f"{head}  [{a['standard']} {detail}, until {a['valid_until']}]"
