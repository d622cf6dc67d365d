// The product's journey re-derived from signed statements only (never from the bundle's own
// trace fields): steps from the origins to the product, the parties, the labour audit in force
// at each step's date, the origins. For display; the ledger's full trace rules live in Python.

const OUTCOME_RANK = { fail: 0, conditional: 1, pass: 2 };

/** entries: Map seq → {entry}; parties: from replay; disputed: Map seq → rotation seq. */
export function deriveJourney(entries, parties, disputed, want) {
  const all = [...entries.values()].sort((a, b) => a.seq - b.seq).map((e) => ({ seq: e.seq, recorded_at: e.entry.recorded_at, ...e.entry.statement }));
  const bySeq = new Map(all.map((s) => [s.seq, s]));
  const revoked = new Map();
  for (const s of all) {
    if (s.type !== "revocation") continue;
    const target = bySeq.get(s.body.entry);
    if (target && (target.issuer === s.issuer || s.issuer === "operator")) revoked.set(target.seq, s);
  }
  const standing = (s) => !revoked.has(s.seq) && !disputed.has(s.seq);
  const makers = new Map();
  const shipments = new Map();
  const receipts = new Map();
  for (const s of all) {
    if (!standing(s)) continue;
    if (s.type === "material-origin") makers.set(s.body.lot, s);
    if (s.type === "transformation") for (const o of s.body.outputs || []) makers.set(o.lot, s);
    if (s.type === "shipment") (shipments.get(s.body.lot) || shipments.set(s.body.lot, []).get(s.body.lot)).push(s);
    if (s.type === "receipt") receipts.set(s.body.shipment, s);
  }
  const products = all.filter((s) => s.type === "product" && (!want.gtin || (s.body.gtin === want.gtin && s.body.batch === want.batch)));
  const product = products.filter(standing).pop() || products.pop();
  if (!product) return { product: null, steps: [], origins: [], parties: {}, problems: ["The signed entries declare no such product."] };

  const steps = [];
  const problems = [];
  const partyName = (id) => (parties.get(id) && parties.get(id).name) || id;
  const seen = new Set();
  const add = (s, tier) => {
    if (seen.has(s.seq)) return false;
    seen.add(s.seq);
    steps.push({ s, tier });
    return true;
  };
  add(product, 0);
  // A lot's custody route to the party that used it: the standing shipments that carried it
  // there, back to its maker (v2: only shipments the receiver accepted with a receipt).
  // A ledger that records no receipts at all (written before receipts existed) leaves every
  // standing shipment on the route.
  const needReceipts = want.receipts && all.some((s) => s.type === "receipt");
  const onRoute = (sh) => {
    const r = receipts.get(sh.seq);
    if (r && standing(r)) return r.body.accepted === true;
    return !needReceipts;
  };
  const route = (lot, user) => {
    const found = [];
    const holders = new Set([user]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const sh of shipments.get(lot) || []) {
        if (!found.includes(sh) && holders.has(sh.body.to) && onRoute(sh)) {
          found.push(sh);
          holders.add(sh.issuer);
          grew = true;
        }
      }
    }
    return found;
  };
  const queue = (product.body.lots || []).map((l) => ({ lot: l.lot, tier: 1, user: product.issuer }));
  const lotsSeen = new Set();
  while (queue.length) {
    const { lot, tier, user } = queue.shift();
    if (lotsSeen.has(`${lot}\n${user}`)) continue;
    lotsSeen.add(`${lot}\n${user}`);
    const maker = makers.get(lot);
    if (!maker) {
      problems.push(`No standing entry shows where lot ${lot} was made.`);
      continue;
    }
    add(maker, tier);
    const carried = route(lot, user);
    for (const sh of carried) add(sh, tier);
    if (maker.issuer !== user && !carried.length) problems.push(`No accepted shipment shows how lot ${lot} reached ${partyName(user)}.`);
    if (maker.type === "transformation") {
      for (const i of maker.body.inputs || []) queue.push({ lot: i.lot, tier: tier + 1, user: maker.issuer });
    }
  }
  steps.sort((a, b) => b.tier - a.tier || a.s.seq - b.s.seq);

  const attestations = all.filter((s) => s.type === "labor-attestation" && standing(s));
  const auditFor = (facility, date) => {
    const inForce = attestations.filter((a) => a.body.facility === facility && a.body.audit_date <= date && date <= a.body.valid_until);
    inForce.sort((a, b) => (a.body.audit_date < b.body.audit_date ? 1 : a.body.audit_date > b.body.audit_date ? -1 : (OUTCOME_RANK[a.body.outcome] ?? 3) - (OUTCOME_RANK[b.body.outcome] ?? 3) || b.seq - a.seq));
    return inForce[0] || null;
  };
  const partyInfo = (id) => {
    const p = parties.get(id);
    return p ? { id, name: p.name || id, role: p.role || "", country: p.country || "", suspended: !!p.suspended } : { id, name: id, role: "", country: "", suspended: false };
  };

  const out = steps.map(({ s, tier }) => {
    const b = s.body;
    const step = { seq: s.seq, tier, kind: s.type, party: partyInfo(s.issuer), revoked: revoked.has(s.seq), disputed: disputed.has(s.seq), lines: [] };
    if (s.type === "product") {
      step.what = `Declared as ${b.name}`;
      step.date = (s.recorded_at || "").slice(0, 10);
      step.lines = (b.lots || []).map((l) => `${l.amount} ${l.unit} of lot ${l.lot}`);
    } else if (s.type === "material-origin") {
      step.what = `${cap(b.material)} produced`;
      step.date = b.produced_on;
      step.where = [b.origin && b.origin.region, b.origin && b.origin.country].filter(Boolean).join(", ");
      step.lines = [`${b.quantity ? `${b.quantity.amount} ${b.quantity.unit}` : ""} as lot ${b.lot}`.trim()];
      if ((b.certifications || []).length) step.lines.push(`Certified: ${b.certifications.join(", ")}`);
    } else if (s.type === "transformation") {
      step.what = cap(b.process || "processed");
      step.date = b.date;
      step.lines = (b.outputs || []).map((o) => `Made ${o.amount} ${o.unit} of ${o.material} (lot ${o.lot})`);
    } else if (s.type === "shipment") {
      const r = receipts.get(s.seq);
      step.what = `Shipped to ${partyInfo(b.to).name}`;
      step.date = b.shipped_on;
      step.lines = [`${b.amount} ${b.unit} of lot ${b.lot}`];
      if (r && standing(r)) step.lines.push(r.body.accepted ? `Received on ${r.body.received_on}` : `Refused on ${r.body.received_on}`);
    }
    if (s.type !== "product") {
      const a = auditFor(s.issuer, step.date);
      step.audit = a ? describeAudit(a, s.issuer, partyInfo) : { tone: "bad", headline: `No labour audit on record covering ${step.date}` };
    }
    return step;
  });
  const origins = out.filter((st) => st.kind === "material-origin").map((st) => {
    const b = bySeq.get(st.seq).body;
    return { seq: st.seq, material: b.material, party: st.party, where: st.where, produced_on: b.produced_on, amount: b.quantity ? `${b.quantity.amount} ${b.quantity.unit}` : "" };
  });
  // Who took part: every signer on the journey and every auditor whose audit is shown, with
  // the key history the bundle proves (incepted, admitted, rotated, suspended).
  const involved = {};
  const who = (id) => {
    const p = parties.get(id);
    involved[id] = { ...partyInfo(id), identifiers: (p && p.identifiers) || {}, events: (p && p.events) || [] };
  };
  for (const st of out) {
    who(st.party.id);
    if (st.audit && st.audit.seq !== undefined) who(bySeq.get(st.audit.seq).issuer);
  }
  const corrections = [...revoked.values()].map((r) => `Entry ${r.body.entry} was withdrawn by ${partyInfo(r.issuer).name} (entry ${r.seq}): ${r.body.reason}`);
  for (const [seq, by] of disputed) corrections.push(`Entry ${seq} is disputed: its signer's key was reported compromised (entry ${by}).`);
  return {
    product: { seq: product.seq, name: product.body.name, gtin: product.body.gtin, batch: product.body.batch, description: product.body.description || "", brand: partyInfo(product.issuer), revoked: revoked.has(product.seq) },
    steps: out,
    origins,
    parties: involved,
    corrections,
    problems,
  };
}

function describeAudit(a, facility, partyInfo) {
  const b = a.body;
  const self = b.standard === "self-assessment" || a.issuer === facility;
  const present = Object.entries(b.indicators || {}).filter(([, v]) => v === "present").map(([k]) => k.replace(/_/g, " "));
  const tone = b.outcome === "fail" || present.length ? "bad" : b.outcome === "conditional" || self ? "warn" : "good";
  const by = self ? "Self-assessed" : `Audited by ${partyInfo(a.issuer).name}`;
  const details = [];
  if (present.length) details.push(`Forced-labour indicators found: ${present.join(", ")}`);
  for (const f of b.findings || []) details.push(f);
  return { tone, seq: a.seq, outcome: b.outcome, headline: `${by} to ${b.standard} on ${b.audit_date} (valid until ${b.valid_until}): ${b.outcome}`, details };
}

function cap(text) {
  const t = String(text || "");
  return t.charAt(0).toUpperCase() + t.slice(1);
}
