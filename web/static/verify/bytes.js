// Bytes, strict encodings and SHA-256 for the verifier (SPEC §2, §3). No dependencies.

/** A verification failure: `what` says in plain words what failed, `field` where. */
export class VerifyError extends Error {
  constructor(what, field) {
    super(what);
    this.name = "VerifyError";
    this.field = field || "";
  }
}

export function fail(what, field) {
  throw new VerifyError(what, field);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8(text) {
  return encoder.encode(text);
}

/** Decode UTF-8, refusing invalid sequences. */
export function fromUtf8(bytes, field) {
  try {
    return decoder.decode(bytes);
  } catch {
    return fail("is not valid UTF-8", field);
  }
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Lowercase hex only (SPEC §2), of `size` bytes when given. */
export function fromHex(text, field, size) {
  if (typeof text !== "string" || !HEX.test(text)) fail("is not lowercase hex", field);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  if (size !== undefined && out.length !== size) fail(`is ${out.length} bytes, want ${size}`, field);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    s += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    s += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return s;
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64: padding required, no whitespace, canonical final bits. */
export function fromBase64(text, field, size) {
  if (typeof text !== "string" || !B64_RE.test(text)) fail("is not standard base64", field);
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64(out) !== text) fail("is not canonical base64", field);
  if (size !== undefined && out.length !== size) fail(`is ${out.length} bytes, want ${size}`, field);
  return out;
}

export async function sha256(...parts) {
  const data = parts.length === 1 ? parts[0] : concat(...parts);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}
