// Replaying parties' key event logs (SPEC §3, §6): the keys each issuer had at each seq, from
// the key events in the bundle only, and every statement's signature under them.

import { concat, fail, fromBase64, sha256, toHex, utf8 } from "./bytes.js";
import { checkPublicKey, verifyEd25519 } from "./ed25519.js";
import { jcs } from "./jcs.js";

export const STATEMENT_PREFIX = utf8("provenance-ledger/v1 statement\n");
const KEY_EVENTS = new Set(["genesis", "inception", "rotation"]);
const OPERATOR_ACTS = new Set(["admission", "suspension", "reinstatement"]);

export async function keyId(raw) {
  return toHex(await sha256(raw)).slice(0, 16);
}

async function digest(raw) {
  return toHex(await sha256(raw));
}

async function publicKeys(list, field) {
  if (!Array.isArray(list) || list.length < 1 || list.length > 4) fail("must list 1 to 4 keys", field);
  const out = [];
  for (let i = 0; i < list.length; i++) {
    const raw = fromBase64(list[i], `${field}[${i}]`, 32);
    checkPublicKey(raw, `${field}[${i}]`);
    out.push({ raw, id: await keyId(raw), digest: await digest(raw) });
  }
  return out;
}

function digests(list, field) {
  if (!Array.isArray(list) || list.length < 1 || list.length > 4) fail("must list 1 to 4 key digests", field);
  for (const d of list) if (typeof d !== "string" || !/^[0-9a-f]{64}$/.test(d)) fail("holds a digest that is not 64 lowercase hex", field);
  return new Set(list);
}

/**
 * Replay `entries` (a Map seq → {seq, entry}, any subset of the log, in seq order) and check
 * each statement's signature with its issuer's key at that seq. Returns the parties' state and
 * the seqs of disputed statements. v1 ledgers' `party` registrations (by the operator) are
 * read too; `v1` only lets a v1 genesis go without next-key digests.
 */
export async function replay(entries, { v1 = false } = {}) {
  const parties = new Map();
  const keyOwner = new Map(); // key digest → party id
  const disputed = new Map(); // seq → rotation seq that disputed it
  const signedWith = []; // {seq, issuer, id}
  const seqs = [...entries.keys()].sort((a, b) => a - b);
  for (const seq of seqs) {
    const { entry } = entries.get(seq);
    const field = `entry ${seq}`;
    const st = entry.statement;
    const body = st.body;
    const sig = entry.signature;
    if (!sig || typeof sig.key_id !== "string" || typeof sig.sig !== "string") fail("has no signature", field);
    const signature = fromBase64(sig.sig, `${field} signature`, 64);
    const message = concat(STATEMENT_PREFIX, jcs(st));
    const who = st.issuer;
    let party = parties.get(who);
    let signer;
    const takeFrom = (keys) => {
      const k = keys.find((x) => x.id === sig.key_id);
      if (!k) fail(`is signed with key ${sig.key_id}, which is not among the keys it introduces`, field);
      return k;
    };
    if (st.type === "genesis") {
      if (seq !== 0 || who !== "operator") fail("is a genesis that is not the operator's entry 0", field);
      const keys = await publicKeys([body.key], `${field} body.key`);
      signer = takeFrom(keys);
      // v1 ledgers had no pre-rotation: a genesis without `next` commits to nothing
      const next = body.next === undefined && v1 ? new Set() : digests(body.next, `${field} body.next`);
      party = { id: "operator", name: body.name, role: "operator", admitted: true, keys, next, used: new Set(), events: [{ seq, type: "genesis" }] };
      party.used = new Set([...party.next, keys[0].digest]);
      parties.set("operator", party);
      keyOwner.set(keys[0].digest, "operator");
    } else if (st.type === "inception") {
      if (body.party !== who) fail(`is an inception of ${body.party} issued by ${who}`, field);
      if (parties.has(who)) fail(`is a second inception of ${who}`, field);
      const keys = await publicKeys(body.keys, `${field} body.keys`);
      for (const k of keys) if (keyOwner.has(k.digest)) fail(`introduces a key already registered to ${keyOwner.get(k.digest)}`, field);
      signer = takeFrom(keys);
      const next = digests(body.next, `${field} body.next`);
      party = { id: who, name: body.name, role: body.role, country: body.country, identifiers: body.identifiers || {}, admitted: false, suspended: false, keys, next, used: new Set([...next, ...keys.map((k) => k.digest)]), events: [{ seq, type: "inception" }] };
      parties.set(who, party);
      for (const k of keys) keyOwner.set(k.digest, who);
    } else if (st.type === "rotation") {
      if (!party) fail(`is a rotation of ${who}, whose inception is not in the bundle`, field);
      if (body.party !== who) fail(`rotates ${body.party} but is issued by ${who}`, field);
      const keys = await publicKeys(body.keys, `${field} body.keys`);
      for (const k of keys) {
        if (!party.next.has(k.digest)) fail(`reveals key ${k.id}, which ${who} did not commit to in its previous key event`, field);
        const owner = keyOwner.get(k.digest);
        if (owner && owner !== who) fail(`introduces a key already registered to ${owner}`, field);
      }
      signer = takeFrom(keys);
      const next = digests(body.next, `${field} body.next`);
      for (const d of next) if (party.used.has(d)) fail("re-uses a key digest", field);
      await verifyEd25519(signer.raw, signature, message, field, `the signature of ${who}`);
      if (body.reason === "compromised" && Number.isSafeInteger(body.compromised_since)) {
        const retired = new Set(party.keys.map((k) => k.id));
        for (const s of signedWith) {
          if (s.issuer === who && s.seq >= body.compromised_since && retired.has(s.id)) disputed.set(s.seq, seq);
        }
      }
      party.keys = keys;
      party.next = next;
      for (const d of next) party.used.add(d);
      for (const k of keys) keyOwner.set(k.digest, who);
      party.events.push({ seq, type: "rotation", reason: body.reason });
      signedWith.push({ seq, issuer: who, id: signer.id });
      continue;
    } else {
      if (!party) fail(`is issued by ${who}, whose key events are not in the bundle`, field);
      signer = party.keys.find((k) => k.id === sig.key_id);
      if (!signer) fail(`is signed with key ${sig.key_id}, which was not a key of ${who} at that entry (rotated away or never registered)`, field);
    }
    await verifyEd25519(signer.raw, signature, message, field, `the signature of ${who}`);
    signedWith.push({ seq, issuer: who, id: signer.id });
    if (KEY_EVENTS.has(st.type)) continue;
    if (st.type === "party") {
      if (who !== "operator") fail("is a registration not issued by the operator", field);
      const keys = await publicKeys(body.keys, `${field} body.keys`);
      const old = parties.get(body.party);
      parties.set(body.party, { ...(old || {}), id: body.party, name: body.name, role: body.role, country: body.country, identifiers: body.identifiers || {}, admitted: true, suspended: false, keys, events: [...((old && old.events) || []), { seq, type: "registration" }] });
      continue;
    }
    if (OPERATOR_ACTS.has(st.type)) {
      if (who !== "operator") fail(`is a ${st.type} not issued by the operator`, field);
      const target = parties.get(body.party);
      if (!target) fail(`is a ${st.type} of ${body.party}, whose inception is not in the bundle`, field);
      if (st.type === "admission") {
        target.admitted = true;
        target.role = body.role;
      } else target.suspended = st.type === "suspension";
      target.events.push({ seq, type: st.type, reason: body.reason });
      continue;
    }
    if (st.type === "profile") {
      for (const k of ["name", "country", "identifiers"]) if (k in body) party[k] = body[k];
      continue;
    }
    // Admission is the operator's own act, so a bundle without it proves nothing either way;
    // a suspension in the bundle, though, forbids what follows (SPEC §6).
    if (who !== "operator" && party.suspended) {
      fail(`is a ${st.type} by ${who}, which was suspended at that entry`, field);
    }
  }
  return { parties, disputed };
}
