// The shopper's page runs the same checks in place: it fetches the page's own bundle and shows
// whether it verified on this device. Without JavaScript the page is unchanged.

import { verifyBundle } from "./bundle.js";
import { fetchBundle, productOf } from "./fetch.js";
import { ALG_ED25519, parsePolicy, parseVkey } from "./note.js";
import { failureOutcome, showOutcome, successOutcome } from "./render.js";

const box = document.getElementById("device-check");
if (box) {
  (async () => {
    box.hidden = false;
    box.dataset.verdict = "working";
    box.textContent = "Checking the signatures and proofs on this device…";
    try {
      const pinned = {
        vkey: await parseVkey(box.dataset.vkey, ALG_ED25519, "operator key"),
        policy: box.dataset.policy ? await parsePolicy(box.dataset.policy, "witness policy") : null,
        // the operator's own page: cosignatures are checked and named, the quorum reported,
        // since a checkpoint just made may still be waiting for its witnesses
        requireQuorum: false,
      };
      const result = await verifyBundle(await fetchBundle(box.dataset.bundle), pinned, productOf(box.dataset.bundle));
      showOutcome(box, successOutcome(result));
    } catch (e) {
      showOutcome(box, failureOutcome(e));
    }
  })();
}
