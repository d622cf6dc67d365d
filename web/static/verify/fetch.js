// Fetching a bundle with a size cap, so a huge answer is refused before it fills memory.

import { fail } from "./bytes.js";
import { MAX_BUNDLE_BYTES } from "./bundle.js";

/** GET `url` as JSON (a bundle URL, or a product's GS1 Digital Link URL) and return its bytes. */
export async function fetchBundle(url) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit", redirect: "follow" });
  } catch (e) {
    return fail(`the bundle could not be fetched from ${url}: ${e && e.message ? e.message : e}`, "bundle");
  }
  if (!response.ok) fail(`the server answered ${response.status} for ${url}`, "bundle");
  const declared = Number(response.headers.get("Content-Length"));
  if (declared > MAX_BUNDLE_BYTES) {
    fail(`the bundle is ${(declared / 1048576).toFixed(1)} MB, over the ${MAX_BUNDLE_BYTES / 1048576} MB this verifier accepts`, "bundle");
  }
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BUNDLE_BYTES) {
      await reader.cancel();
      fail(`the bundle is over the ${MAX_BUNDLE_BYTES / 1048576} MB this verifier accepts`, "bundle");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Read a user-chosen file with the same cap. */
export async function readBundleFile(file) {
  if (file.size > MAX_BUNDLE_BYTES) {
    fail(`the file is ${(file.size / 1048576).toFixed(1)} MB, over the ${MAX_BUNDLE_BYTES / 1048576} MB this verifier accepts`, "bundle");
  }
  return new Uint8Array(await file.arrayBuffer());
}

/** The product a URL asks for: a GS1 Digital Link path /01/<gtin>/10/<batch> or an API trace
 * path /api/v1/trace/<gtin>/<batch>; {} when it names none. */
export function productOf(url) {
  let path;
  try {
    path = new URL(url, document.baseURI).pathname;
  } catch {
    return {};
  }
  const m = /\/01\/([0-9]{8,14})\/10\/([^/]+)/.exec(path) || /\/api\/v1\/trace\/([0-9]{8,14})\/([^/]+)/.exec(path);
  if (!m) return {};
  try {
    return { gtin: m[1].padStart(14, "0"), batch: decodeURIComponent(m[2]) };
  } catch {
    return {};
  }
}
