// Command verifier checks a provenance ledger's checkpoint and proofs with Go's own
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog: an outside verifier that
// shares no code with the ledger (SPEC §8, §9).
//
// It reads one JSON object from standard input:
//
//	{
//	  "vkey": "<origin>+<8 hex key hash>+<base64(0x01 ‖ public key)>",
//	  "checkpoint": "<signed note: C2SP tlog-checkpoint>",
//	  "inclusion": [{"leaf_hash": "<hex>", "leaf_index": n, "tree_size": m, "hashes": ["<hex>", …]}],
//	  "consistency": [{"old_size": m, "new_size": n, "hashes": ["<hex>", …],
//	                   "old_checkpoint": "<signed note>" | "old_root": "<hex>",
//	                   "new_checkpoint": "<signed note>" | "new_root": "<hex>" (default: "checkpoint")}],
//	  "key_events": [{"canonical": "<base64 entry bytes>", "leaf_index": n, "hashes": ["<hex>", …]}]
//	}
//
// With "key_events", "vkey" is the operator's genesis key and the events are the ledger's
// genesis and the operator's rotations, in order (SPEC v2 §6): each rotation must be signed
// by, and reveal only, keys whose SHA-256 digests the previous event committed to in "next".
// The checkpoint must then verify with the operator's keys after the last event (older
// checkpoints of consistency proofs with any key the events gave), and each event must be
// included in the checkpoint.
//
// An inclusion proof is checked against "checkpoint", so its tree_size must be the
// checkpoint's size. It prints "ok" and exits 0 when everything verifies; otherwise it prints
// what failed and exits 1 (2 for unusable input).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	LeafHash  string   `json:"leaf_hash"`
	LeafIndex *int64   `json:"leaf_index"`
	TreeSize  *int64   `json:"tree_size"`
	Hashes    []string `json:"hashes"`
}

type consistency struct {
	OldSize       *int64   `json:"old_size"`
	NewSize       *int64   `json:"new_size"`
	Hashes        []string `json:"hashes"`
	OldCheckpoint string   `json:"old_checkpoint"`
	OldRoot       string   `json:"old_root"`
	NewCheckpoint string   `json:"new_checkpoint"`
	NewRoot       string   `json:"new_root"`
}

type keyEvent struct {
	Canonical string   `json:"canonical"`
	LeafIndex *int64   `json:"leaf_index"`
	Hashes    []string `json:"hashes"`
}

type input struct {
	VKey        string        `json:"vkey"`
	Checkpoint  string        `json:"checkpoint"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
	KeyEvents   []keyEvent    `json:"key_events"`
}

const statementPrefix = "provenance-ledger/v1 statement\n"

type event struct {
	Seq       int64 `json:"seq"`
	Statement struct {
		Type   string `json:"type"`
		Issuer string `json:"issuer"`
		Body   struct {
			Key   string   `json:"key"`
			Keys  []string `json:"keys"`
			Next  []string `json:"next"`
			Party string   `json:"party"`
		} `json:"body"`
	} `json:"statement"`
	Signature struct {
		KeyID string `json:"key_id"`
		Sig   string `json:"sig"`
	} `json:"signature"`
}

func digest(pub []byte) string {
	d := sha256.Sum256(pub)
	return hex.EncodeToString(d[:])
}

// noteVerifier is the note verifier of an Ed25519 key under name (C2SP signed-note).
func noteVerifier(name string, pub []byte) (note.Verifier, error) {
	h := sha256.Sum256(append([]byte(name+"\n\x01"), pub...))
	text := fmt.Sprintf("%s+%s+%s", name, hex.EncodeToString(h[:4]), base64.StdEncoding.EncodeToString(append([]byte{1}, pub...)))
	return note.NewVerifier(text)
}

// followKeyEvents replays the operator's key events from the genesis key in vkey and returns
// the operator's current keys and every key it ever had, as note verifiers.
func followKeyEvents(vkey string, events []keyEvent) (current, ever []note.Verifier, err error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, nil, errors.New("vkey is not name+hash+key")
	}
	name := parts[0]
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return nil, nil, errors.New("vkey is not an Ed25519 note key")
	}
	genesisKey := raw[1:]
	var keys [][]byte
	next := map[string]bool{}
	for i, ev := range events {
		data, err := base64.StdEncoding.DecodeString(ev.Canonical)
		if err != nil {
			return nil, nil, fmt.Errorf("key_events[%d]: canonical is not base64", i)
		}
		var e event
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, nil, fmt.Errorf("key_events[%d]: %v", i, err)
		}
		at := bytes.Index(data, []byte(`,"statement":`))
		if at < 0 || !bytes.HasSuffix(data, []byte("}")) {
			return nil, nil, fmt.Errorf("key_events[%d]: no statement", i)
		}
		statement := data[at+len(`,"statement":`) : len(data)-1]
		var revealed []string
		if i == 0 {
			if e.Seq != 0 || e.Statement.Type != "genesis" || e.Statement.Body.Key != base64.StdEncoding.EncodeToString(genesisKey) {
				return nil, nil, errors.New("key_events[0] is not the genesis of the vkey's key")
			}
			revealed = []string{e.Statement.Body.Key}
		} else {
			if e.Statement.Type != "rotation" || e.Statement.Issuer != "operator" || e.Statement.Body.Party != "operator" {
				return nil, nil, fmt.Errorf("key_events[%d]: not a rotation of the operator", i)
			}
			revealed = e.Statement.Body.Keys
		}
		var signer []byte
		var newKeys [][]byte
		for _, k := range revealed {
			pub, err := base64.StdEncoding.DecodeString(k)
			if err != nil || len(pub) != ed25519.PublicKeySize {
				return nil, nil, fmt.Errorf("key_events[%d]: key %q is not an Ed25519 key", i, k)
			}
			if i > 0 && !next[digest(pub)] {
				return nil, nil, fmt.Errorf("key_events[%d] (seq %d): key %s was not committed in the operator's next digests", i, e.Seq, digest(pub)[:16])
			}
			if digest(pub)[:16] == e.Signature.KeyID {
				signer = pub
			}
			newKeys = append(newKeys, pub)
		}
		sig, err := base64.StdEncoding.DecodeString(e.Signature.Sig)
		if signer == nil || err != nil || !ed25519.Verify(signer, append([]byte(statementPrefix), statement...), sig) {
			return nil, nil, fmt.Errorf("key_events[%d] (seq %d): not signed by one of the keys it sets", i, e.Seq)
		}
		keys = newKeys
		next = map[string]bool{}
		for _, d := range e.Statement.Body.Next {
			next[d] = true
		}
		for _, k := range newKeys {
			v, err := noteVerifier(name, k)
			if err != nil {
				return nil, nil, err
			}
			ever = append(ever, v)
		}
	}
	for _, k := range keys {
		v, err := noteVerifier(name, k)
		if err != nil {
			return nil, nil, err
		}
		current = append(current, v)
	}
	return current, ever, nil
}

type tree struct {
	size int64
	root tlog.Hash
}

var sizeRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// parseCheckpoint parses a C2SP tlog-checkpoint body: origin, size, base64 root, extensions.
// (tlog.ParseTree reads the older three-line "go.sum database tree" form, not this one.)
func parseCheckpoint(text, origin string) (tree, error) {
	if !strings.HasSuffix(text, "\n") {
		return tree{}, errors.New("checkpoint does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return tree{}, errors.New("checkpoint has fewer than three lines")
	}
	if lines[0] == "" || lines[0] != origin {
		return tree{}, fmt.Errorf("checkpoint origin %q is not the key name %q", lines[0], origin)
	}
	if !sizeRE.MatchString(lines[1]) {
		return tree{}, fmt.Errorf("checkpoint size %q is not a decimal number", lines[1])
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tree{}, fmt.Errorf("checkpoint size: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tree{}, fmt.Errorf("checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return tree{}, errors.New("checkpoint has an empty extension line")
		}
	}
	var t tree
	t.size = size
	copy(t.root[:], root)
	return t, nil
}

func openCheckpoint(msg string, vs ...note.Verifier) (tree, error) {
	n, err := note.Open([]byte(msg), note.VerifierList(vs...))
	if err != nil {
		return tree{}, fmt.Errorf("note.Open: %v", err)
	}
	return parseCheckpoint(n.Text, vs[0].Name())
}

func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize || strings.ToLower(s) != s {
		return h, fmt.Errorf("%q is not 64 lowercase hex characters", s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(ss []string) ([]tlog.Hash, error) {
	hs := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("hashes[%d]: %v", i, err)
		}
		hs[i] = h
	}
	return hs, nil
}

// side resolves one end of a consistency proof: a signed checkpoint, a bare root, or the
// main checkpoint.
func side(size *int64, msg, root string, v []note.Verifier, dflt *tree, what string) (tree, error) {
	if size == nil || *size < 0 {
		return tree{}, fmt.Errorf("%s_size is missing or negative", what)
	}
	var t tree
	switch {
	case msg != "" && root != "":
		return tree{}, fmt.Errorf("give %s_checkpoint or %s_root, not both", what, what)
	case msg != "":
		var err error
		if t, err = openCheckpoint(msg, v...); err != nil {
			return tree{}, fmt.Errorf("%s_checkpoint: %v", what, err)
		}
	case root != "":
		h, err := parseHash(root)
		if err != nil {
			return tree{}, fmt.Errorf("%s_root: %v", what, err)
		}
		t = tree{*size, h}
	case dflt != nil:
		t = *dflt
	default:
		return tree{}, fmt.Errorf("%s_checkpoint or %s_root is required", what, what)
	}
	if t.size != *size {
		return tree{}, fmt.Errorf("%s_size %d is not the checkpoint's size %d", what, *size, t.size)
	}
	return t, nil
}

func run(in input) error {
	v, err := note.NewVerifier(in.VKey)
	if err != nil {
		return fmt.Errorf("note.NewVerifier: %v", err)
	}
	current, ever := []note.Verifier{v}, []note.Verifier{v}
	if len(in.KeyEvents) > 0 {
		if current, ever, err = followKeyEvents(in.VKey, in.KeyEvents); err != nil {
			return err
		}
	}
	head, err := openCheckpoint(in.Checkpoint, current...)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
	}
	for i, ev := range in.KeyEvents {
		data, _ := base64.StdEncoding.DecodeString(ev.Canonical)
		hashes, err := parseHashes(ev.Hashes)
		if err != nil || ev.LeafIndex == nil {
			return fmt.Errorf("key_events[%d]: leaf_index and hashes are required: %v", i, err)
		}
		leaf := tlog.RecordHash(data)
		if err := tlog.CheckRecord(tlog.RecordProof(hashes), head.size, head.root, *ev.LeafIndex, leaf); err != nil {
			return fmt.Errorf("key_events[%d] is not in the checkpoint: %v", i, err)
		}
	}
	for i, p := range in.Inclusion {
		if p.LeafIndex == nil || p.TreeSize == nil {
			return fmt.Errorf("inclusion[%d]: leaf_index and tree_size are required", i)
		}
		if *p.TreeSize != head.size {
			return fmt.Errorf("inclusion[%d]: tree_size %d is not the checkpoint's size %d", i, *p.TreeSize, head.size)
		}
		leaf, err := parseHash(p.LeafHash)
		if err != nil {
			return fmt.Errorf("inclusion[%d]: leaf_hash: %v", i, err)
		}
		hashes, err := parseHashes(p.Hashes)
		if err != nil {
			return fmt.Errorf("inclusion[%d]: %v", i, err)
		}
		if err := tlog.CheckRecord(tlog.RecordProof(hashes), head.size, head.root, *p.LeafIndex, leaf); err != nil {
			return fmt.Errorf("inclusion[%d] (leaf %d of %d): tlog.CheckRecord: %v", i, *p.LeafIndex, head.size, err)
		}
	}
	for i, p := range in.Consistency {
		old, err := side(p.OldSize, p.OldCheckpoint, p.OldRoot, ever, nil, "old")
		if err != nil {
			return fmt.Errorf("consistency[%d]: %v", i, err)
		}
		cur, err := side(p.NewSize, p.NewCheckpoint, p.NewRoot, ever, &head, "new")
		if err != nil {
			return fmt.Errorf("consistency[%d]: %v", i, err)
		}
		hashes, err := parseHashes(p.Hashes)
		if err != nil {
			return fmt.Errorf("consistency[%d]: %v", i, err)
		}
		if old.size == 0 {
			// Every tree extends the empty one; tlog.CheckTree takes sizes from 1.
			if len(hashes) != 0 {
				return fmt.Errorf("consistency[%d]: proof from size 0 must be empty", i)
			}
			continue
		}
		if err := tlog.CheckTree(tlog.TreeProof(hashes), cur.size, cur.root, old.size, old.root); err != nil {
			return fmt.Errorf("consistency[%d] (%d to %d): tlog.CheckTree: %v", i, old.size, cur.size, err)
		}
	}
	return nil
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Println("error: reading input:", err)
		os.Exit(2)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var in input
	if err := dec.Decode(&in); err != nil {
		fmt.Println("error: input is not the expected JSON:", err)
		os.Exit(2)
	}
	if err := run(in); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ok")
}
