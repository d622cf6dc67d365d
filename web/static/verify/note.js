// C2SP signed-note, tlog-checkpoint, tlog-cosignature v1 and tlog-policy (SPEC §8, §14).

import { concat, equal, fail, fromBase64, sha256, toHex, utf8 } from "./bytes.js";
import { verifyEd25519 } from "./ed25519.js";

export const ALG_ED25519 = 0x01;
export const ALG_COSIGNATURE_V1 = 0x04;
const SIG_PREFIX = "\u2014 ";
const MAX_SIGNATURES = 100;
const NAME = /^[\x21-\x2a\x2c-\x7e]+$/; // printable ASCII, no space, no '+'

export async function keyHash(name, alg, publicKey) {
  return (await sha256(utf8(name + "\n"), new Uint8Array([alg]), publicKey)).subarray(0, 4);
}

/** Parse a note verifier key `name+hash+base64(alg ‖ key)` of algorithm `alg`. */
export async function parseVkey(text, alg, field = "vkey") {
  if (typeof text !== "string") fail("must be a string", field);
  const parts = text.trim().split("+");
  if (parts.length < 3) fail("is not a note verifier key (name+hash+key)", field);
  const name = parts[0];
  const hashHex = parts[1];
  const keyB64 = parts.slice(2).join("+");
  if (!NAME.test(name)) fail("has a bad key name", field);
  if (!/^[0-9a-f]{8}$/.test(hashHex)) fail("has a bad key hash (8 lowercase hex digits)", field);
  const raw = fromBase64(keyB64, field);
  if (raw.length !== 33 || raw[0] !== alg) {
    fail(`is not a key of algorithm 0x0${alg} (${alg === ALG_ED25519 ? "Ed25519" : "cosignature/v1"})`, field);
  }
  const publicKey = raw.slice(1);
  const hash = await keyHash(name, alg, publicKey);
  if (toHex(hash) !== hashHex) fail("key hash does not match its name and key", field);
  return { name, hash, publicKey, alg, text: text.trim() };
}

export async function vkeyText(name, publicKey) {
  const hash = await keyHash(name, ALG_ED25519, publicKey);
  let b = "";
  for (const c of concat(new Uint8Array([ALG_ED25519]), publicKey)) b += String.fromCharCode(c);
  return `${name}+${toHex(hash)}+${btoa(b)}`;
}

/** Split a signed note into its text and signature lines (C2SP signed-note). */
export function splitNote(note, field = "checkpoint") {
  if (typeof note !== "string") fail("must be a string", field);
  const sep = note.lastIndexOf("\n\n");
  if (sep < 0 || !note.endsWith("\n")) fail("is not a signed note: no blank line before the signatures", field);
  const text = note.slice(0, sep + 1);
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) fail("note text holds a control character", field);
  const lines = note.slice(sep + 2, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) fail(`has more than ${MAX_SIGNATURES} signatures`, field);
  const sigs = lines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) fail(`has a line that is not a signature: ${JSON.stringify(line.slice(0, 80))}`, field);
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.lastIndexOf(" ");
    const name = rest.slice(0, space);
    if (space < 1 || !NAME.test(name)) fail("has a signature line without a key name", field);
    const raw = fromBase64(rest.slice(space + 1), `${field} signature of ${name}`);
    if (raw.length < 5) fail(`has a signature of ${name} that is too short`, field);
    return { name, hash: raw.subarray(0, 4), sig: raw.subarray(4) };
  });
  return { text, sigs };
}

/** Parse a C2SP tlog-checkpoint body: origin, size, root, then optional non-empty extension
 * lines (ours carry none, SPEC §8; like the Python and Go readers, they are allowed). */
export function parseCheckpoint(text, field = "checkpoint") {
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) fail("needs origin, size and root lines", field);
  if (lines.slice(3).some((l) => !l)) fail("has an empty extension line", field);
  const [origin, sizeText, rootB64] = lines;
  if (!origin) fail("has an empty origin", field);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    fail(`has a bad tree size ${JSON.stringify(sizeText)}`, field);
  }
  const root = fromBase64(rootB64, `${field} root`, 32);
  return { origin, size: Number(sizeText), root };
}

/** Verify `note` as a checkpoint signed by `key` (a parsed Ed25519 vkey); return it parsed. */
export async function openCheckpoint(note, key, field = "checkpoint") {
  const { text, sigs } = splitNote(note, field);
  const checkpoint = parseCheckpoint(text, field);
  if (checkpoint.origin !== key.name) {
    fail(`origin ${JSON.stringify(checkpoint.origin)} is not the operator's key name ${JSON.stringify(key.name)}`, field);
  }
  const mine = sigs.filter((s) => s.name === key.name && equal(s.hash, key.hash));
  if (!mine.length) fail(`is not signed by the operator's key ${key.text}`, field);
  for (const s of mine) {
    await verifyEd25519(key.publicKey, s.sig, utf8(text), field, "the operator's signature on the checkpoint");
  }
  return { ...checkpoint, text, sigs, note };
}

/** The message a witness signs (C2SP tlog-cosignature v1). */
export function cosignedMessage(timestamp, text) {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

/** Verify a witness's cosignature line on `checkpoint` and return its timestamp. */
export async function verifyCosignature(witness, line, text, field) {
  if (line.sig.length !== 72) fail(`the cosignature of ${witness.name} is not 8 + 64 bytes`, field);
  let ts = 0n;
  for (const b of line.sig.subarray(0, 8)) ts = (ts << 8n) | BigInt(b);
  await verifyEd25519(witness.publicKey, line.sig.subarray(8), cosignedMessage(ts, text), field, `the cosignature of witness ${witness.name}`);
  return ts;
}

/** Parse a C2SP tlog-policy: `log VKEY [URL]`, `witness NAME VKEY [URL]`, `group NAME
 * K|any|all MEMBER…`, `quorum NAME|none`. Names are defined before use and share one
 * namespace; no key twice; lines starting with `#` are comments. The same rules as the
 * Python reader (ledger/tlog/policy.py). */
export async function parsePolicy(text, field = "policy") {
  if (typeof text !== "string") fail("must be text", field);
  const witnesses = new Map();
  const groups = new Map();
  const logs = [];
  const keys = new Set();
  let quorum;
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const where = `${field} line ${n + 1}`;
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(lines[n])) fail("holds a control character", where);
    const line = lines[n].replace(/^[ \t]+|[ \t]+$/g, "");
    if (!line || line.startsWith("#")) continue;
    const words = line.split(/[ \t]+/);
    const defined = (name) => witnesses.has(name) || groups.has(name);
    const unique = (key) => {
      if (keys.has(toHex(key.publicKey))) fail("names a key twice", where);
      keys.add(toHex(key.publicKey));
      return key;
    };
    if (words[0] === "log") {
      if (words.length < 2 || words.length > 3) fail("must be: log VKEY [URL]", where);
      logs.push(unique(await parseVkey(words[1], ALG_ED25519, where)));
    } else if (words[0] === "witness") {
      if (words.length < 3 || words.length > 4) fail("must be: witness NAME VKEY [URL]", where);
      if (defined(words[1]) || words[1] === "none") fail(`defines ${words[1]} twice`, where);
      witnesses.set(words[1], { ...unique(await parseVkey(words[2], ALG_COSIGNATURE_V1, where)), alias: words[1], url: words[3] || "" });
    } else if (words[0] === "group") {
      if (words.length < 4) fail("must be: group NAME K|any|all MEMBER…", where);
      const [, name, k, ...members] = words;
      if (defined(name) || name === "none") fail(`defines ${name} twice`, where);
      for (const m of members) if (!defined(m)) fail(`names ${m}, which is not defined above`, where);
      if (new Set(members).size !== members.length) fail("names a member twice", where);
      let need;
      if (k === "any") need = 1;
      else if (k === "all") need = members.length;
      else if (/^[1-9][0-9]*$/.test(k) && Number(k) <= members.length) need = Number(k);
      else fail(`has a threshold ${k} that is not 1..${members.length}, any or all`, where);
      groups.set(name, { name, need, members });
    } else if (words[0] === "quorum") {
      if (words.length !== 2) fail("must be: quorum NAME", where);
      if (quorum !== undefined) fail("sets the quorum twice", where);
      if (words[1] !== "none" && !defined(words[1])) fail(`names ${words[1]}, which is not defined above`, where);
      quorum = words[1];
    } else {
      fail(`has an unknown keyword ${JSON.stringify(words[0].slice(0, 40))}`, where);
    }
    if (logs.length + witnesses.size + groups.size > 256) fail("names more than 256 logs, witnesses and groups", where);
  }
  if (quorum === undefined) fail("has no quorum line", field);
  return { witnesses, groups, logs, quorum, text };
}

/** Check the witness cosignatures on `checkpoint` (from openCheckpoint) against `policy`;
 * return the names of the witnesses whose cosignature verified. A policy witness's line that
 * does not verify always fails; with `require` (the default) so does a quorum not met,
 * naming how many were needed and which signed. */
export async function checkQuorum(checkpoint, policy, field = "checkpoint", require = true) {
  const signed = new Set();
  for (const w of policy.witnesses.values()) {
    for (const line of checkpoint.sigs) {
      if (line.name === w.name && equal(line.hash, w.hash)) {
        await verifyCosignature(w, line, checkpoint.text, field);
        signed.add(w.alias);
      }
    }
  }
  const met = (name) => {
    if (name === "none") return true;
    if (policy.witnesses.has(name)) return signed.has(name);
    const g = policy.groups.get(name);
    return g.members.filter(met).length >= g.need;
  };
  if (require && !met(policy.quorum)) {
    fail(`the witness quorum (${describe(policy, policy.quorum)}) is not met: cosigned by ${signed.size ? [...signed].join(", ") : "no witness of the policy"}`, field);
  }
  return [...signed];
}

function describe(policy, name) {
  const g = policy.groups.get(name);
  if (!g) return name;
  return `${g.need} of ${g.members.map((m) => describe(policy, m)).join(", ")}`;
}
