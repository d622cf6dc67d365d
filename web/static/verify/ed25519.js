// Ed25519 verification with the strict checks of SPEC §3 (RFC 8032 §5.1.7), through WebCrypto.
//
// WebCrypto implementations differ on edge cases (non-canonical points, S >= L, small-order
// keys), so the bytes are checked here first and every verifier of the project answers alike.

import { fail, toHex } from "./bytes.js";

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L = hexLE("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
// p = 2^255 - 19, little-endian (the top bit of byte 31 is the sign of x, not part of y).
const P = hexLE("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");

// The eight points of small order, canonical encodings (RFC 8032 points of order 1, 2, 4, 8).
const SMALL_ORDER = new Set([
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]);

function hexLE(hex) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** a < b for 32-byte little-endian numbers. */
function lessThan(a, b) {
  for (let i = 31; i >= 0; i--) {
    if (a[i] !== b[i]) return a[i] < b[i];
  }
  return false;
}

/** Why a 32-byte point encoding is not canonical, or "" if it is: y < p, and x = 0 (y = ±1)
 * never with the sign bit set. */
export function nonCanonicalPoint(bytes) {
  const y = Uint8Array.from(bytes);
  const sign = y[31] >> 7;
  y[31] &= 0x7f;
  if (!lessThan(y, P)) return "its y coordinate is not below the field prime";
  if (sign) {
    const one = y[0] === 1 && y.slice(1).every((b) => b === 0);
    const minusOne = y[0] === 0xec && y.slice(1, 31).every((b) => b === 0xff) && y[31] === 0x7f;
    if (one || minusOne) return "it sets the sign of x = 0";
  }
  return "";
}

export function isSmallOrder(bytes) {
  return SMALL_ORDER.has(toHex(bytes));
}

const Pn = 2n ** 255n - 19n;
const Dn = (((-121665n * modPow(121666n, Pn - 2n)) % Pn) + Pn) % Pn;
const SQRT_M1 = modPow(2n, (Pn - 1n) / 4n);

function modPow(b, e) {
  let r = 1n;
  b %= Pn;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % Pn;
    b = (b * b) % Pn;
    e >>= 1n;
  }
  return r;
}

/** Whether a canonical encoding decodes to a point on the curve (RFC 8032 §5.1.3). */
export function onCurve(bytes) {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? bytes[i] & 0x7f : bytes[i]);
  const u = (((y * y - 1n) % Pn) + Pn) % Pn;
  const v = (((Dn * y * y + 1n) % Pn) + Pn) % Pn;
  let x = (u * modPow(v, 3n) * modPow(u * modPow(v, 7n), (Pn - 5n) / 8n)) % Pn;
  if ((v * x * x) % Pn === (Pn - u) % Pn) x = (x * SQRT_M1) % Pn;
  return (v * x * x) % Pn === u;
}

/** Refuse a public key (where it is introduced) that is not 32 canonical bytes of a point of
 * the curve of large order. */
export function checkPublicKey(raw, field) {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) fail("is not a 32-byte Ed25519 public key", field);
  const why = nonCanonicalPoint(raw);
  if (why) fail(`is not a canonical Ed25519 public key: ${why}`, field);
  if (!onCurve(raw)) fail("is not a point on Ed25519", field);
  if (isSmallOrder(raw)) fail("is an Ed25519 key of small order", field);
}

const imported = new Map();

async function importKey(raw) {
  const id = toHex(raw);
  let key = imported.get(id);
  if (key === undefined) {
    key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    imported.set(id, key);
  }
  return key;
}

/** Resolve if `signature` is `publicKey`'s over `message` under the strict rules; otherwise
 * throw a VerifyError naming `field` and saying why. */
export async function verifyEd25519(publicKey, signature, message, field, what = "the signature") {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) fail("is not a 32-byte Ed25519 public key", field);
  const whyKey = nonCanonicalPoint(publicKey);
  if (whyKey) fail(`${what} cannot be checked: the key is not canonical (${whyKey})`, field);
  if (isSmallOrder(publicKey)) fail(`${what} cannot be checked: the key is of small order`, field);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) fail(`${what} is not 64 bytes`, field);
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32, 64);
  if (!lessThan(s, L)) fail(`${what} is not canonical: S is not below the group order`, field);
  const why = nonCanonicalPoint(r);
  if (why) fail(`${what} is not canonical: R is not a canonical point (${why})`, field);
  if (isSmallOrder(r)) fail(`${what} is refused: R is a point of small order`, field);
  let ok = false;
  try {
    ok = await crypto.subtle.verify({ name: "Ed25519" }, await importKey(publicKey), signature, message);
  } catch (e) {
    fail(`${what} cannot be checked: ${e && e.message ? e.message : e}`, field);
  }
  if (!ok) fail(`${what} does not verify`, field);
}
