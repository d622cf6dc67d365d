// Command tiles reads a provenance ledger published as C2SP tlog-tiles with Go's own
// golang.org/x/mod/sumdb/tlog (TileHashReader) and sumdb/note: an outside reader that shares
// no code with the ledger (SPEC §13, §15).
//
// The only adapter is the path: sumdb puts the tile height in the path
// (tile/8/<L>/<N>, tile/8/data/<N>), C2SP does not (tile/<L>/<N>, tile/entries/<N>).
//
// It reads one JSON object from standard input:
//
//	{"dir": "<folder that provenance tiles wrote>", "vkey": "<note verifier key>",
//	 "records": [seq, …], "olds": [size, …]}
//
// It opens <dir>/checkpoint with vkey, checks every tile it reads against that checkpoint's
// root, checks that every entry in the entry bundles hashes to its leaf, and prints
//
//	{"size": n, "root": "<hex>", "inclusion": [{"leaf_index", "tree_size", "hashes"}],
//	 "consistency": [{"old_size", "new_size", "hashes"}]}
//
// Exit 1 with the reason on anything that does not verify, 2 on unusable input.
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const height = 8

type input struct {
	Dir     string  `json:"dir"`
	VKey    string  `json:"vkey"`
	Records []int64 `json:"records"`
	Olds    []int64 `json:"olds"`
}

type inclusion struct {
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	Hashes    []string `json:"hashes"`
}

type consistency struct {
	OldSize int64    `json:"old_size"`
	NewSize int64    `json:"new_size"`
	Hashes  []string `json:"hashes"`
}

type output struct {
	Size        int64         `json:"size"`
	Root        string        `json:"root"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

// c2spPath is the one adapter: sumdb's tile path without its height element.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", height))
	if strings.HasPrefix(p, "data/") {
		return "tile/entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return height }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

func hexes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

func checkpoint(dir string, v note.Verifier) (tlog.Tree, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		return tlog.Tree{}, err
	}
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != v.Name() {
		return tlog.Tree{}, errors.New("not a checkpoint of this log")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return tlog.Tree{}, err
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, errors.New("bad root")
	}
	var t tlog.Tree
	t.N = size
	copy(t.Hash[:], root)
	return t, nil
}

// checkEntries reads every entry bundle and checks each entry against its leaf hash.
func checkEntries(dir string, tree tlog.Tree, r tlog.HashReader) error {
	for start := int64(0); start < tree.N; start += 1 << height {
		w := tree.N - start
		if w > 1<<height {
			w = 1 << height
		}
		t := tlog.Tile{H: height, L: -1, N: start >> height, W: int(w)}
		data, err := os.ReadFile(filepath.Join(dir, c2spPath(t)))
		if err != nil {
			return err
		}
		for i := int64(0); i < w; i++ {
			if len(data) < 2 {
				return fmt.Errorf("%s: record %d is cut off", c2spPath(t), i)
			}
			n := int(data[0])<<8 | int(data[1])
			if len(data) < 2+n {
				return fmt.Errorf("%s: record %d is cut off", c2spPath(t), i)
			}
			want, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, start+i)})
			if err != nil {
				return err
			}
			if tlog.RecordHash(data[2:2+n]) != want[0] {
				return fmt.Errorf("entry %d does not hash to its leaf", start+i)
			}
			data = data[2+n:]
		}
		if len(data) != 0 {
			return fmt.Errorf("%s has trailing bytes", c2spPath(t))
		}
	}
	return nil
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail(2, "input: %v", err)
	}
	v, err := note.NewVerifier(in.VKey)
	if err != nil {
		fail(2, "vkey: %v", err)
	}
	tree, err := checkpoint(in.Dir, v)
	if err != nil {
		fail(1, "checkpoint: %v", err)
	}
	r := tlog.TileHashReader(tree, dirTiles{in.Dir})
	root, err := tlog.TreeHash(tree.N, r)
	if err != nil {
		fail(1, "TreeHash: %v", err)
	}
	if root != tree.Hash {
		fail(1, "tiles give root %v, the checkpoint says %v", root, tree.Hash)
	}
	if err := checkEntries(in.Dir, tree, r); err != nil {
		fail(1, "entries: %v", err)
	}
	out := output{Size: tree.N, Root: hex.EncodeToString(root[:]), Inclusion: []inclusion{}, Consistency: []consistency{}}
	for _, seq := range in.Records {
		p, err := tlog.ProveRecord(tree.N, seq, r)
		if err != nil {
			fail(1, "ProveRecord(%d): %v", seq, err)
		}
		leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, seq)})
		if err != nil {
			fail(1, "leaf %d: %v", seq, err)
		}
		if err := tlog.CheckRecord(p, tree.N, root, seq, leaf[0]); err != nil {
			fail(1, "CheckRecord(%d): %v", seq, err)
		}
		out.Inclusion = append(out.Inclusion, inclusion{seq, tree.N, hexes(p)})
	}
	for _, old := range in.Olds {
		p, err := tlog.ProveTree(tree.N, old, r)
		if err != nil {
			fail(1, "ProveTree(%d): %v", old, err)
		}
		oldRoot, err := tlog.TreeHash(old, r)
		if err != nil {
			fail(1, "TreeHash(%d): %v", old, err)
		}
		if err := tlog.CheckTree(p, tree.N, root, old, oldRoot); err != nil {
			fail(1, "CheckTree(%d): %v", old, err)
		}
		out.Consistency = append(out.Consistency, consistency{old, tree.N, hexes(p)})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(2, "output: %v", err)
	}
}
