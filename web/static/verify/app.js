// The stand-alone verifier page: pinned operator key and witness policy (pinned.js, written by
// `provenance verifier`), a bundle from ?bundle=<URL> or a file the user picks, checked here.

import { VerifyError } from "./bytes.js";
import { verifyBundle } from "./bundle.js";
import { fetchBundle, productOf, readBundleFile } from "./fetch.js";
import { ALG_ED25519, parsePolicy, parseVkey } from "./note.js";
import { failureOutcome, showJourney, showOutcome, successOutcome } from "./render.js";
import { POLICY, VKEY } from "./pinned.js";

document.documentElement.dataset.ready = "yes"; // boot.js: the modules run
const box = document.getElementById("verdict");
const journeyBox = document.getElementById("journey");
let pinnedPromise;

function pinned() {
  pinnedPromise ||= (async () => ({
    vkey: await parseVkey(VKEY, ALG_ED25519, "pinned operator key"),
    policy: POLICY ? await parsePolicy(POLICY, "pinned witness policy") : null,
  }))();
  return pinnedPromise;
}

function working(text) {
  box.dataset.verdict = "working";
  box.dataset.reason = "";
  box.className = "device-check";
  box.textContent = text;
  box.hidden = false;
  journeyBox.replaceChildren();
}

let generation = 0; // only the latest check may write its outcome

async function check(load, label, expect = {}) {
  const mine = ++generation;
  working(`Checking ${label} on this device…`);
  try {
    const bytes = await load();
    const result = await verifyBundle(bytes, await pinned(), expect);
    if (mine !== generation) return;
    showOutcome(box, successOutcome(result));
    showJourney(journeyBox, result.journey);
  } catch (e) {
    if (mine !== generation) return;
    showOutcome(box, failureOutcome(e));
    journeyBox.replaceChildren();
  }
}

function fromUrl(url) {
  let absolute;
  try {
    absolute = new URL(url, document.baseURI).href;
  } catch {
    showOutcome(box, failureOutcome(new VerifyError(`${url} is not a URL`, "bundle")));
    return;
  }
  check(() => fetchBundle(absolute), absolute, productOf(absolute));
}

window.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  showOutcome(box, failureOutcome(e.reason));
});

document.getElementById("pick-url").addEventListener("submit", (e) => {
  e.preventDefault();
  const url = document.getElementById("url").value.trim();
  if (url) {
    history.replaceState(null, "", `?bundle=${encodeURIComponent(url)}`);
    fromUrl(url);
  }
});
document.getElementById("file").addEventListener("change", (e) => {
  const file = e.target.files && e.target.files[0];
  if (file) check(() => readBundleFile(file), file.name);
});
pinned().then(
  (p) => {
    document.getElementById("pinned-key").textContent = p.vkey.text;
    document.getElementById("pinned-policy").textContent = p.policy ? p.policy.text.trim() : "none: no witness quorum is required";
  },
  (e) => showOutcome(box, failureOutcome(e)),
);
const wanted = new URLSearchParams(location.search).get("bundle");
if (wanted) {
  document.getElementById("url").value = wanted;
  fromUrl(wanted);
} else {
  box.dataset.verdict = "idle";
}
