// The browser module's answers on the shared vectors (tests/vectors/provenance/): run by
// tests/test_vectors_browser.py in headless Chromium. Each case: {name, valid, error}.

import { concat, fromBase64, fromHex, toHex } from "/verify/bytes.js";
import { checkEntryShape, verifyBundle } from "/verify/bundle.js";
import { verifyEd25519 } from "/verify/ed25519.js";
import { jcs, parseCanonical } from "/verify/jcs.js";
import { STATEMENT_PREFIX } from "/verify/keyevents.js";
import { leafHash, verifyConsistency, verifyInclusion } from "/verify/merkle.js";
import { ALG_ED25519, checkQuorum, openCheckpoint, parsePolicy, parseVkey } from "/verify/note.js";


const CHECKS = {
  async signatures(c) {
    const message = concat(STATEMENT_PREFIX, jcs(c.statement));
    await verifyEd25519(fromBase64(c.public_key, "public_key"), fromBase64(c.sig, "sig"), message, "sig");
  },
  async entries(c) {
    const bytes = fromBase64(c.canonical, "canonical");
    checkEntryShape(parseCanonical(bytes, "canonical"), "canonical");
    if (toHex(await leafHash(bytes)) !== c.entry_hash) throw new Error("entry_hash is not the hash of the bytes");
  },
  async inclusion(c) {
    await verifyInclusion(c.leaf_index, c.tree_size, fromHex(c.leaf_hash, "leaf", 32), c.hashes, fromHex(c.root, "root", 32));
  },
  async consistency(c) {
    await verifyConsistency(c.old_size, c.new_size, fromHex(c.old_root, "old", 32), fromHex(c.new_root, "new", 32), c.hashes);
  },
  async checkpoints(c) {
    await openCheckpoint(c.note, await parseVkey(c.vkey, ALG_ED25519));
  },
  async cosignatures(c) {
    const checkpoint = await openCheckpoint(c.note, await parseVkey(c.vkey, ALG_ED25519));
    await checkQuorum(checkpoint, await parsePolicy(c.policy));
  },
  async bundles(c) {
    const bytes = new Uint8Array(await (await fetch(`/vectors/${c.file}`)).arrayBuffer());
    const pinned = { vkey: await parseVkey(c.vkey, ALG_ED25519), policy: c.policy ? await parsePolicy(c.policy) : null };
    await verifyBundle(bytes, pinned, c.product || {});
  },
};

export async function runAll(kinds) {
  const out = {};
  for (const kind of kinds) {
    const { cases } = await (await fetch(`/vectors/${kind}.json`)).json();
    out[kind] = [];
    for (const c of cases) {
      try {
        await CHECKS[kind](c);
        out[kind].push({ name: c.name, valid: true });
      } catch (e) {
        out[kind].push({ name: c.name, valid: false, error: `${e.name}: ${e.message} (${e.field || ""})` });
      }
    }
  }
  return out;
}
