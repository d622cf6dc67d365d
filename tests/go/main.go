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
//	                   "new_checkpoint": "<signed note>" | "new_root": "<hex>" (default: "checkpoint")}]
//	}
//
// An inclusion proof is checked against "checkpoint", so its tree_size must be the
// checkpoint's size. It prints "ok" and exits 0 when everything verifies; otherwise it prints
// what failed and exits 1 (2 for unusable input).
package main

import (
	"bytes"
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

type input struct {
	VKey        string        `json:"vkey"`
	Checkpoint  string        `json:"checkpoint"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
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

func openCheckpoint(msg string, v note.Verifier) (tree, error) {
	n, err := note.Open([]byte(msg), note.VerifierList(v))
	if err != nil {
		return tree{}, fmt.Errorf("note.Open: %v", err)
	}
	return parseCheckpoint(n.Text, v.Name())
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
func side(size *int64, msg, root string, v note.Verifier, dflt *tree, what string) (tree, error) {
	if size == nil || *size < 0 {
		return tree{}, fmt.Errorf("%s_size is missing or negative", what)
	}
	var t tree
	switch {
	case msg != "" && root != "":
		return tree{}, fmt.Errorf("give %s_checkpoint or %s_root, not both", what, what)
	case msg != "":
		var err error
		if t, err = openCheckpoint(msg, v); err != nil {
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
	head, err := openCheckpoint(in.Checkpoint, v)
	if err != nil {
		return fmt.Errorf("checkpoint: %v", err)
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
		old, err := side(p.OldSize, p.OldCheckpoint, p.OldRoot, v, nil, "old")
		if err != nil {
			return fmt.Errorf("consistency[%d]: %v", i, err)
		}
		cur, err := side(p.NewSize, p.NewCheckpoint, p.NewRoot, v, &head, "new")
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
