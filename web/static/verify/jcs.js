// Strict JSON in and RFC 8785 (JCS) out, for the JSON the ledger allows (SPEC §2): objects,
// arrays, strings, true/false/null and integers within ±(2^53−1). No floats.

import { fail, fromUtf8, utf8 } from "./bytes.js";

const MAX_DEPTH = 32;

/** Parse JSON text strictly: duplicate keys, floats, integers outside ±(2^53−1), lone
 * surrogates, nesting deeper than 32 and trailing data are refused with a VerifyError. */
export function parseJSON(text, field = "JSON") {
  let i = 0;
  const n = text.length;
  const bad = (why) => fail(`is not valid JSON: ${why} at character ${i}`, field);
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = () => {
    // at the opening quote
    let out = "";
    i++;
    for (;;) {
      if (i >= n) bad("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c < 0x20) bad("control character in a string");
      if (c === 0x5c) {
        const e = text[i + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) bad("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else bad("bad escape");
      } else {
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          j++;
        }
        out += text.slice(i, j);
        i = j;
      }
    }
    if (!out.isWellFormed()) bad("lone surrogate in a string");
    return out;
  };
  const num = () => {
    const m = /^-?(?:0|[1-9][0-9]*)([.eE])?/.exec(text.slice(i, i + 400));
    if (!m) bad("bad number");
    if (m[1]) bad("a number with a fraction or exponent (no floats allowed)");
    const v = Number(m[0]);
    if (!Number.isSafeInteger(v)) bad(`integer ${m[0].slice(0, 30)} outside ±(2^53−1)`);
    i += m[0].length;
    return v;
  };
  const value = (depth) => {
    if (depth > MAX_DEPTH) bad("nested deeper than 32");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = {};
      const seen = new Set();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') bad("expected a key");
        const k = str();
        if (seen.has(k)) bad(`duplicate key ${JSON.stringify(k)}`);
        seen.add(k);
        ws();
        if (text[i] !== ":") bad("expected ':'");
        i++;
        Object.defineProperty(obj, k, { value: value(depth + 1), enumerable: true, writable: true });
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return obj;
        } else bad("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return arr;
        } else bad("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === "-" || (c >= "0" && c <= "9")) return num();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return bad(i >= n ? "unexpected end" : "unexpected character");
  };
  const v = value(1);
  ws();
  if (i !== n) bad("trailing data");
  return v;
}

/** RFC 8785 canonical text of a value parsed by parseJSON. */
export function canonicalText(v) {
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) fail("holds a number that is not an integer within ±(2^53−1)", "JSON");
    return String(v);
  }
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(canonicalText).join(",") + "]";
  // Keys sorted by UTF-16 code units: what Array.prototype.sort does by default.
  const keys = Object.keys(v).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalText(v[k])).join(",") + "}";
}

export function jcs(v) {
  return utf8(canonicalText(v));
}

/** Parse bytes that must already be canonical (an entry's stored bytes). */
export function parseCanonical(bytes, field) {
  const text = fromUtf8(bytes, field);
  const value = parseJSON(text, field);
  if (canonicalText(value) !== text) fail("is not in canonical (RFC 8785) form", field);
  return value;
}
