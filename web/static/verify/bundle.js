// Verifying a trace bundle (SPEC §12) on this device: the checkpoint (operator key and witness
// policy), the operator's signature on the bundle, every entry's hash and inclusion proof, the
// key event logs and every statement signature. Nothing the bundle claims is trusted: the
// journey shown is re-derived from the signed statements (journey.js).

import { concat, equal, fail, fromBase64, fromUtf8, toHex, utf8 } from "./bytes.js";
import { verifyEd25519 } from "./ed25519.js";
import { jcs, parseCanonical, parseJSON } from "./jcs.js";
import { replay } from "./keyevents.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { checkQuorum, keyHash, openCheckpoint, ALG_ED25519 } from "./note.js";
import { deriveJourney } from "./journey.js";

export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
export const MAX_ENTRY_BYTES = 65535;
const FORMATS = {
  "provenance-trace/v2": { prefix: "provenance-ledger/v2 bundle\n", v1: false },
  "provenance-trace/v1": { prefix: "provenance-ledger/v1 bundle\n", v1: true },
};
const ENTRY_FIELDS = ["canonical", "entry_hash", "inclusion_proof", "seq"];

/** Parse bundle bytes (or text) strictly, refusing anything over MAX_BUNDLE_BYTES. */
export function parseBundle(input) {
  const size = typeof input === "string" ? input.length : input.length;
  if (size > MAX_BUNDLE_BYTES) {
    fail(`the bundle is ${(size / 1048576).toFixed(1)} MB, over the ${MAX_BUNDLE_BYTES / 1048576} MB this verifier accepts`, "bundle");
  }
  const text = typeof input === "string" ? input : fromUtf8(input, "bundle");
  const bundle = parseJSON(text, "bundle");
  if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) fail("is not a JSON object", "bundle");
  return bundle;
}

function str(bundle, key) {
  if (typeof bundle[key] !== "string") fail(`must be a string`, key);
  return bundle[key];
}

/**
 * Verify a bundle. `pinned`: {vkey (parsed Ed25519 note key of the operator), policy (parsed
 * tlog-policy) or null}. Resolves to {journey, checkpoint, witnesses, entries, format} or throws
 * a VerifyError naming what failed. `expect` {gtin, batch}: the product asked for; a bundle of
 * any other product fails.
 */
export async function verifyBundle(input, pinned, expect = {}) {
  const bundle = typeof input === "object" && !(input instanceof Uint8Array) ? input : parseBundle(input);
  const format = FORMATS[bundle.format];
  if (!format) fail(`format ${JSON.stringify(bundle.format)} is not one this verifier reads`, "format");
  for (const key of ["origin", "vkey", "checkpoint", "entries", "operator_signature"]) {
    if (!(key in bundle)) fail("is missing", key);
  }
  const origin = str(bundle, "origin");
  if (origin !== pinned.vkey.name) fail(`is ${JSON.stringify(origin)}, not the pinned log ${JSON.stringify(pinned.vkey.name)}`, "origin");

  // 1. Entries: bytes, hashes, parsed statements (proofs once the checkpoint is known).
  if (!Array.isArray(bundle.entries) || !bundle.entries.length) fail("must be a non-empty list", "entries");
  const entries = new Map();
  for (let i = 0; i < bundle.entries.length; i++) {
    const item = bundle.entries[i];
    const field = `entries[${i}]`;
    if (item === null || typeof item !== "object" || Object.keys(item).sort().join() !== ENTRY_FIELDS.join()) {
      fail("must hold exactly seq, entry_hash, canonical, inclusion_proof", field);
    }
    const bytes = fromBase64(item.canonical, `${field}.canonical`);
    if (bytes.length > MAX_ENTRY_BYTES) fail(`is ${bytes.length} bytes, over 65,535`, `${field}.canonical`);
    const hash = await leafHash(bytes);
    if (item.entry_hash !== toHex(hash)) fail(`entry ${item.seq}: entry_hash is not the hash of its canonical bytes`, `${field}.entry_hash`);
    const entry = parseCanonical(bytes, `${field}.canonical`);
    checkEntryShape(entry, `${field}.canonical`);
    if (entry.seq !== item.seq) fail(`holds entry ${entry.seq}, not its seq ${JSON.stringify(item.seq)}`, `${field}.seq`);
    if (entries.has(entry.seq)) fail(`holds entry ${entry.seq} twice`, `${field}.seq`);
    entries.set(entry.seq, { seq: entry.seq, entry, hash, proof: item.inclusion_proof, field });
  }
  for (const [seq, e] of entries) {
    const before = entries.get(seq - 1);
    if (before && e.entry.prev !== toHex(before.hash)) fail(`entry ${seq}: prev is not the hash of entry ${seq - 1}`, e.field);
    if (seq === 0 && e.entry.prev !== "0".repeat(64)) fail("entry 0: prev is not 64 zeros", e.field);
  }
  if (!entries.has(0)) fail("lacks the genesis entry (seq 0) that carries the operator's key", "entries");

  // 2. Key events and statement signatures (the operator's own key chain among them).
  const { parties, disputed } = await replay(entries, { v1: format.v1 });
  const operator = parties.get("operator");
  const genesis = entries.get(0).entry.statement;
  if (genesis.body.origin !== undefined && genesis.body.origin !== origin) fail(`the genesis names log ${JSON.stringify(genesis.body.origin)}`, "entries[0]");
  const pinnedInChain = operatorKeysEver(entries).some((raw) => equal(raw, pinned.vkey.publicKey));
  if (!pinnedInChain) fail(`the operator key in the bundle's genesis is not the pinned key ${pinned.vkey.text}`, "vkey");

  // 3. The checkpoint: signed by the operator's key current at its size, and the quorum.
  const checkpointKeys = await operatorKeysAt(entries, origin, sizeOf(bundle.checkpoint));
  let checkpoint;
  let lastError;
  for (const key of checkpointKeys) {
    try {
      checkpoint = await openCheckpoint(str(bundle, "checkpoint"), key, "checkpoint");
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!checkpoint) throw lastError;
  if (pinned.policy && pinned.policy.logs.length && !pinned.policy.logs.some((k) => equal(k.publicKey, pinned.vkey.publicKey))) {
    fail(`the pinned operator key is not one of the witness policy's logs`, "policy");
  }
  const witnesses = pinned.policy ? await checkQuorum(checkpoint, pinned.policy, "checkpoint", pinned.requireQuorum !== false) : [];

  // 4. Every entry is in the checkpointed log.
  for (const [seq, e] of entries) {
    const p = e.proof;
    const field = `${e.field}.inclusion_proof`;
    if (p === null || typeof p !== "object" || Object.keys(p).sort().join() !== "hashes,leaf_index,tree_size") {
      fail("must hold exactly leaf_index, tree_size, hashes", field);
    }
    if (p.leaf_index !== seq || p.tree_size !== checkpoint.size) {
      fail(`entry ${seq}: the proof is for leaf ${p.leaf_index} of ${p.tree_size}, not ${seq} of ${checkpoint.size}`, field);
    }
    try {
      await verifyInclusion(seq, checkpoint.size, e.hash, p.hashes, checkpoint.root, field);
    } catch (err) {
      fail(`entry ${seq} is not in the checkpointed log: ${err.message}`, field);
    }
  }

  // 5. The operator's signature over the whole bundle: last, so that an altered entry, proof
  // or checkpoint is named as such rather than as an altered bundle.
  const signature = fromBase64(str(bundle, "operator_signature"), "operator_signature", 64);
  const unsigned = {};
  for (const k of Object.keys(bundle)) if (k !== "operator_signature") unsigned[k] = bundle[k];
  const message = concat(utf8(format.prefix), jcs(unsigned));
  let signedBy = null;
  for (const key of checkpointKeys) {
    try {
      await verifyEd25519(key.publicKey, signature, message, "operator_signature", "the operator's signature on the bundle");
      signedBy = key;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!signedBy) fail("the bundle is not signed by the operator's key: it was altered after the operator issued it", "operator_signature");

  // 6. The journey, from the signed statements alone.
  // `expect`: the product the user asked for (from its Digital Link URL); else the one the
  // bundle names, which only picks the declaration to show.
  const claimed = bundle.product && typeof bundle.product === "object" ? bundle.product : {};
  const want = { ...(expect.gtin ? expect : { gtin: claimed.gtin, batch: claimed.batch }), receipts: !format.v1 };
  const journey = deriveJourney(entries, parties, disputed, want);
  if (!journey.product) {
    fail(`the signed entries hold no declaration of ${want.gtin ? `GTIN ${want.gtin} batch ${want.batch}` : "any product"}`, "entries");
  }
  return { journey, checkpoint, witnesses, entries, parties, format: bundle.format, origin };
}

export function checkEntryShape(entry, field) {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) fail("is not an entry object", field);
  if (!Number.isSafeInteger(entry.seq) || entry.seq < 0) fail("has no seq", field);
  const st = entry.statement;
  if (st === null || typeof st !== "object" || typeof st.type !== "string" || typeof st.issuer !== "string") {
    fail("has no statement with a type and an issuer", field);
  }
  if (st.body === null || typeof st.body !== "object" || Array.isArray(st.body)) fail("has a statement without a body", field);
  if (typeof entry.prev !== "string") fail("has no prev hash", field);
}

function sizeOf(note) {
  const lines = typeof note === "string" ? note.split("\n") : [];
  const n = Number(lines[1]);
  return Number.isSafeInteger(n) ? n : 0;
}

/** Every key the operator's key events introduced (genesis, rotations), in seq order. */
function operatorKeysEver(entries) {
  const out = [];
  for (const { entry } of [...entries.values()].sort((a, b) => a.seq - b.seq)) {
    const st = entry.statement;
    if (st.issuer !== "operator") continue;
    if (st.type === "genesis") out.push(fromBase64(st.body.key, "genesis key", 32));
    if (st.type === "rotation") for (const k of st.body.keys) out.push(fromBase64(k, "rotation key", 32));
  }
  return out;
}

/** The operator's note keys current for a checkpoint of `size`: from its key events before it. */
async function operatorKeysAt(entries, origin, size) {
  let keys = [];
  for (const { seq, entry } of [...entries.values()].sort((a, b) => a.seq - b.seq)) {
    const st = entry.statement;
    if (st.issuer !== "operator" || (seq >= size && seq !== 0)) continue;
    if (st.type === "genesis") keys = [fromBase64(st.body.key, "genesis key", 32)];
    if (st.type === "rotation") keys = st.body.keys.map((k) => fromBase64(k, "rotation key", 32));
  }
  const out = [];
  for (const publicKey of keys) {
    const hash = await keyHash(origin, ALG_ED25519, publicKey);
    out.push({ name: origin, hash, publicKey, alg: ALG_ED25519, text: `${origin}+${toHex(hash)}` });
  }
  return out;
}
