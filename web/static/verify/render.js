// Showing a verification outcome and a re-derived journey with DOM calls only (no HTML
// strings: every text comes from signed statements and is set as text).

import { fromBase64, toHex } from "./bytes.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

/** Set the machine-readable and the human outcome on `box` (an element with data-verdict). */
export function showOutcome(box, outcome) {
  box.replaceChildren();
  box.dataset.verdict = outcome.verified ? "verified" : "failed";
  box.dataset.reason = outcome.reason;
  box.className = `device-check ${outcome.verified ? "device-ok" : "device-bad"}`;
  box.append(
    el("p", { class: "device-head", text: outcome.verified ? "✓ Checked on this device" : "✗ Not verified" }),
    el("p", { class: "device-reason", text: outcome.reason }),
  );
  if (outcome.details) for (const d of outcome.details) box.append(el("p", { class: "small muted", text: d }));
  box.hidden = false;
}

export function successOutcome(result) {
  const n = result.entries.size;
  const w = result.witnesses.length ? ` It was cosigned by ${result.witnesses.join(", ")}.` : "";
  return {
    verified: true,
    reason: `Every signature, key event and inclusion proof of the ${n} entries verified against checkpoint ${result.checkpoint.size} of ${result.origin}, signed by the pinned operator key.${w}`,
    details: result.journey.problems,
  };
}

export function failureOutcome(error) {
  const what = error && error.name === "VerifyError" ? error.message : `the check could not finish: ${error && error.message ? error.message : String(error)}`;
  const field = error && error.field ? ` (${error.field})` : "";
  return { verified: false, reason: `Not verified: ${field ? `${error.field}: ` : ""}${what}`.replace(/\s+/g, " ") };
}

/** The journey (from journey.js) as elements appended to `into`. */
export function showJourney(into, journey) {
  into.replaceChildren();
  if (!journey.product) return;
  const p = journey.product;
  into.append(
    el("h2", { text: p.name }),
    el("p", { class: "muted", text: `GTIN ${p.gtin} · Batch ${p.batch} · by ${p.brand.name}${p.revoked ? " · this declaration was withdrawn" : ""}` }),
  );
  if (p.description) into.append(el("p", { text: p.description }));
  into.append(el("h3", { text: "Its journey, from the signed entries" }));
  const ol = el("ol", { class: "timeline" });
  for (const s of journey.steps) {
    const li = el("li", { class: `step step-${s.kind}${s.revoked || s.disputed ? " step-revoked" : ""}`, "data-seq": String(s.seq) });
    li.append(el("h4", { text: s.what }));
    li.append(el("p", { class: "meta", text: [s.where, s.date].filter(Boolean).join(" · ") }));
    for (const line of s.lines) li.append(el("p", { text: line }));
    li.append(el("p", { text: `By ${s.party.name}${s.party.role ? ` (${s.party.role})` : ""}${s.party.country ? `, ${s.party.country}` : ""}${s.party.suspended ? " — suspended by the operator" : ""}` }));
    if (s.revoked) li.append(el("p", { class: "revoked", text: "This entry was withdrawn." }));
    if (s.disputed) li.append(el("p", { class: "revoked", text: "This entry is disputed: it was signed with a key its owner reported compromised." }));
    if (s.audit) {
      const box = el("div", { class: `audit audit-${s.audit.tone}` }, el("p", { class: "audit-head", text: s.audit.headline }));
      if (s.audit.details && s.audit.details.length) box.append(el("ul", {}, ...s.audit.details.map((d) => el("li", { text: d }))));
      li.append(box);
    }
    li.append(el("p", { class: "small muted", text: `Entry ${s.seq}` }));
    ol.append(li);
  }
  into.append(ol);
  if (journey.origins.length) {
    into.append(el("h3", { text: "Where the materials came from" }));
    into.append(el("ul", { class: "origins" }, ...journey.origins.map((o) => el("li", { text: `${o.material} from ${o.party.name}, ${o.where}: ${o.amount}, produced ${o.produced_on}` }))));
  }
  const people = Object.values(journey.parties);
  if (people.length) {
    into.append(el("h3", { text: "Who took part" }));
    const words = { inception: "registered its own keys", registration: "registered", admission: "admitted", rotation: "rotated its keys", suspension: "suspended", reinstatement: "reinstated", genesis: "started the ledger" };
    into.append(
      el("ul", { class: "parties" }, ...people.map((p) => {
        const history = p.events.map((e) => `${words[e.type] || e.type} (entry ${e.seq}${e.reason ? `, ${e.reason}` : ""})`).join("; ");
        return el("li", { "data-party": p.id, text: `${p.name}${p.role ? `, ${p.role}` : ""}${p.country ? `, ${p.country}` : ""}${history ? `: ${history}` : ""}` });
      })),
    );
  }
  if (journey.corrections.length) {
    into.append(el("h3", { text: "Corrections" }));
    into.append(el("ul", {}, ...journey.corrections.map((c) => el("li", { text: c }))));
  }
}

export { fromBase64, toHex };
