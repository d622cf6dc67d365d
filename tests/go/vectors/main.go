// Command vectors gives Go's answer on the shared vectors of tests/vectors/provenance (SPEC
// §15), with Go's own crypto/ed25519, golang.org/x/mod/sumdb/note and sumdb/tlog, and the
// strict Ed25519 checks of SPEC §3 written here from RFC 8032. It prints one JSON object:
// {"<kind>": {"<case name>": true|false}}. Entries are left to Python and the browser: their
// check is RFC 8785 canonical form, which Go's standard library does not write.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var (
	groupOrder, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	fieldPrime    = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	smallOrder    = map[string]bool{}
)

func init() {
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	} {
		smallOrder[h] = true
	}
}

func littleEndian(b []byte) *big.Int {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(r)
}

// canonicalPoint: y < p, and x = 0 (y = ±1) never with the sign bit set.
func canonicalPoint(enc []byte) bool {
	c := append([]byte(nil), enc...)
	sign := c[31] >> 7
	c[31] &= 0x7f
	y := littleEndian(c)
	if y.Cmp(fieldPrime) >= 0 {
		return false
	}
	minusOne := new(big.Int).Sub(fieldPrime, big.NewInt(1))
	return !(sign == 1 && (y.Cmp(big.NewInt(1)) == 0 || y.Cmp(minusOne) == 0))
}

func strictVerify(pub, sig, msg []byte) error {
	if len(pub) != 32 || len(sig) != 64 {
		return errors.New("bad length")
	}
	if littleEndian(sig[32:]).Cmp(groupOrder) >= 0 {
		return errors.New("S >= L")
	}
	if !canonicalPoint(pub) || !canonicalPoint(sig[:32]) {
		return errors.New("non-canonical point")
	}
	if smallOrder[hex.EncodeToString(pub)] || smallOrder[hex.EncodeToString(sig[:32])] {
		return errors.New("small order")
	}
	if !ed25519.Verify(ed25519.PublicKey(pub), msg, sig) {
		return errors.New("does not verify")
	}
	return nil
}

type vcase map[string]any

func str(c vcase, k string) string { s, _ := c[k].(string); return s }
func num(c vcase, k string) int64  { f, _ := c[k].(float64); return int64(f) }

func b64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

func hashOf(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, errors.New("bad hash")
	}
	copy(h[:], b)
	return h, nil
}

func hashList(c vcase) ([]tlog.Hash, error) {
	list, _ := c["hashes"].([]any)
	out := make([]tlog.Hash, len(list))
	for i, v := range list {
		h, err := hashOf(v.(string))
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func openCheckpoint(c vcase) (string, []string, error) {
	v, err := note.NewVerifier(str(c, "vkey"))
	if err != nil {
		return "", nil, err
	}
	n, err := note.Open([]byte(str(c, "note")), note.VerifierList(v))
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != v.Name() {
		return "", nil, errors.New("not a checkpoint of this log")
	}
	for _, ext := range lines[3:] {
		if ext == "" {
			return "", nil, errors.New("empty extension line")
		}
	}
	if _, err := strconv.ParseUint(lines[1], 10, 63); err != nil {
		return "", nil, err
	}
	if r := b64(lines[2]); len(r) != 32 {
		return "", nil, errors.New("bad root")
	}
	note := str(c, "note")
	sigs := strings.Split(strings.TrimSuffix(note[strings.LastIndex(note, "\n\n")+2:], "\n"), "\n")
	return n.Text, sigs, nil
}

// quorum: C2SP tlog-cosignature v1 lines against a tlog-policy.
func quorum(text string, sigs []string, policy string) error {
	type witness struct {
		name string
		hash []byte
		pub  []byte
	}
	witnesses := map[string]witness{}
	groups := map[string][]string{}
	need := map[string]int{}
	q := ""
	for _, line := range strings.Split(policy, "\n") {
		w := strings.Fields(line)
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "witness":
			parts := strings.SplitN(w[2], "+", 3)
			raw := b64(parts[2])
			h, _ := hex.DecodeString(parts[1])
			if len(raw) != 33 || raw[0] != 0x04 {
				return errors.New("bad witness key")
			}
			sum := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), raw[1:]...))
			if !bytes.Equal(sum[:4], h) {
				return errors.New("witness key hash mismatch")
			}
			witnesses[w[1]] = witness{parts[0], h, raw[1:]}
		case "group":
			groups[w[1]] = w[3:]
			switch w[2] {
			case "any":
				need[w[1]] = 1
			case "all":
				need[w[1]] = len(w) - 3
			default:
				k, _ := strconv.Atoi(w[2])
				need[w[1]] = k
			}
		case "quorum":
			q = w[1]
		}
	}
	signed := map[string]bool{}
	for alias, w := range witnesses {
		for _, line := range sigs {
			rest := strings.TrimPrefix(line, "\u2014 ")
			i := strings.LastIndex(rest, " ")
			raw := b64(rest[i+1:])
			if rest[:i] != w.name || len(raw) < 4 || !bytes.Equal(raw[:4], w.hash) {
				continue
			}
			if len(raw) != 76 {
				return errors.New("cosignature is not 8 + 64 bytes")
			}
			ts := binary.BigEndian.Uint64(raw[4:12])
			msg := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text))
			if err := strictVerify(w.pub, raw[12:], msg); err != nil {
				return fmt.Errorf("cosignature of %s: %v", alias, err)
			}
			signed[alias] = true
		}
	}
	var met func(string) bool
	met = func(name string) bool {
		if name == "none" {
			return true
		}
		if _, ok := witnesses[name]; ok {
			return signed[name]
		}
		n := 0
		for _, m := range groups[name] {
			if met(m) {
				n++
			}
		}
		return n >= need[name]
	}
	if !met(q) {
		return errors.New("quorum not met")
	}
	return nil
}

var checks = map[string]func(vcase) error{
	"signatures": func(c vcase) error {
		return strictVerify(b64(str(c, "public_key")), b64(str(c, "sig")), b64(str(c, "message")))
	},
	"inclusion": func(c vcase) error {
		hs, err := hashList(c)
		if err != nil {
			return err
		}
		leaf, err1 := hashOf(str(c, "leaf_hash"))
		root, err2 := hashOf(str(c, "root"))
		if err1 != nil || err2 != nil {
			return errors.New("bad hash")
		}
		if num(c, "leaf_index") >= num(c, "tree_size") {
			return errors.New("index beyond size")
		}
		return tlog.CheckRecord(tlog.RecordProof(hs), num(c, "tree_size"), root, num(c, "leaf_index"), leaf)
	},
	"consistency": func(c vcase) error {
		hs, err := hashList(c)
		if err != nil {
			return err
		}
		oldRoot, err1 := hashOf(str(c, "old_root"))
		newRoot, err2 := hashOf(str(c, "new_root"))
		if err1 != nil || err2 != nil {
			return errors.New("bad hash")
		}
		if num(c, "old_size") == num(c, "new_size") {
			if len(hs) != 0 || oldRoot != newRoot {
				return errors.New("equal sizes need an empty proof and equal roots")
			}
			return nil
		}
		return tlog.CheckTree(tlog.TreeProof(hs), num(c, "new_size"), newRoot, num(c, "old_size"), oldRoot)
	},
	"checkpoints": func(c vcase) error {
		_, _, err := openCheckpoint(c)
		return err
	},
	"cosignatures": func(c vcase) error {
		text, sigs, err := openCheckpoint(c)
		if err != nil {
			return err
		}
		return quorum(text, sigs, str(c, "policy"))
	},
}

func main() {
	dir := os.Args[1]
	out := map[string]map[string]bool{}
	for kind, check := range checks {
		data, err := os.ReadFile(filepath.Join(dir, kind+".json"))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		var file struct{ Cases []vcase }
		if err := json.Unmarshal(data, &file); err != nil {
			fmt.Println("error:", err)
			os.Exit(2)
		}
		out[kind] = map[string]bool{}
		for _, c := range file.Cases {
			out[kind][str(c, "name")] = check(c) == nil
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
