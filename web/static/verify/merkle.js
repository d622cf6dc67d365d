// RFC 9162 §2.1 Merkle tree hashing and proof verification (SPEC §2, §9).

import { concat, equal, fail, fromHex, sha256, toHex } from "./bytes.js";

export const LEAF_PREFIX = new Uint8Array([0]);
export const NODE_PREFIX = new Uint8Array([1]);

export function leafHash(data) {
  return sha256(LEAF_PREFIX, data);
}

export function nodeHash(left, right) {
  return sha256(NODE_PREFIX, left, right);
}

const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

function checkSize(n, field, what) {
  if (!Number.isSafeInteger(n) || n < 0) fail(`${what} ${JSON.stringify(n)} is not a size`, field);
}

function hashes(list, field) {
  if (!Array.isArray(list) || list.length > 64) fail("hashes must be a list of at most 64 hashes", field);
  return list.map((h, i) => fromHex(h, `${field}[${i}]`, 32));
}

/** The root an inclusion proof gives for `leaf` at `index` of `size` (RFC 9162 §2.1.3.2). */
export async function rootFromInclusionProof(index, size, leaf, proofHashes, field = "inclusion_proof") {
  checkSize(index, field, "leaf index");
  checkSize(size, field, "tree size");
  if (index >= size) fail(`leaf index ${index} >= tree size ${size}`, field);
  const path = hashes(proofHashes, field);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) fail("the proof is longer than the tree is deep", field);
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail("the proof is shorter than the tree is deep", field);
  return r;
}

/** Resolve if the proof puts `leaf` at `index` of the tree with `root`; throw otherwise. */
export async function verifyInclusion(index, size, leaf, proofHashes, root, field = "inclusion_proof") {
  const got = await rootFromInclusionProof(index, size, leaf, proofHashes, field);
  if (!equal(got, root)) {
    fail(`the proof leads to root ${toHex(got)}, not the checkpoint's ${toHex(root)}`, field);
  }
}

/** Resolve if the tree (size2, root2) extends (size1, root1) (RFC 9162 §2.1.4.2). */
export async function verifyConsistency(size1, size2, root1, root2, proofHashes, field = "consistency_proof") {
  checkSize(size1, field, "old size");
  checkSize(size2, field, "new size");
  if (size2 < size1) fail(`new size ${size2} < old size ${size1}`, field);
  const path = hashes(proofHashes, field);
  if (size1 === size2) {
    if (path.length) fail("a proof between equal sizes must be empty", field);
    if (!equal(root1, root2)) fail("equal sizes with different roots", field);
    return;
  }
  if (size1 === 0) {
    if (path.length) fail("a proof from the empty tree must be empty", field);
    return;
  }
  if (!path.length) fail("the proof is empty", field);
  let fn = size1 - 1;
  let sn = size2 - 1;
  // size1 a power of two: the old root itself starts the path
  const list = isPow2(size1) ? [root1, ...path] : path;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = list[0];
  let sr = list[0];
  for (const c of list.slice(1)) {
    if (sn === 0) fail("the proof is longer than the trees need", field);
    if (odd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) fail("the proof is shorter than the trees need", field);
  if (!equal(fr, root1)) fail(`the proof gives old root ${toHex(fr)}, not ${toHex(root1)}`, field);
  if (!equal(sr, root2)) fail(`the proof gives new root ${toHex(sr)}, not ${toHex(root2)}`, field);
}

function isPow2(n) {
  while (n > 1) {
    if (odd(n)) return false;
    n = half(n);
  }
  return n === 1;
}
