// An independent tlog-cosignature v1 verifier, written from the C2SP text with the Go
// standard library only (crypto/ed25519, crypto/sha256). It reads JSON
// {"note": "...", "vkeys": ["name+id+base64(0x04||key)", ...]} on stdin and prints
// "ok <name> <timestamp>" per verified cosignature, exiting 0 only if every vkey has a
// valid cosignature in the note; a cosignature line of a known key that fails to verify
// is an error (the whole note is rejected).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type input struct {
	Note  string   `json:"note"`
	Vkeys []string `json:"vkeys"`
}

type cosigner struct {
	name string
	id   [4]byte
	key  ed25519.PublicKey
}

func parseVkey(s string) (cosigner, error) {
	parts := strings.SplitN(s, "+", 3)
	if len(parts) != 3 {
		return cosigner{}, fmt.Errorf("vkey %q: want name+id+key", s)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return cosigner{}, fmt.Errorf("vkey %q: not an Ed25519 cosignature key", s)
	}
	h := sha256.New()
	h.Write([]byte(parts[0]))
	h.Write([]byte{'\n', 0x04})
	h.Write(raw[1:])
	var id [4]byte
	copy(id[:], h.Sum(nil)[:4])
	if hex.EncodeToString(id[:]) != parts[1] {
		return cosigner{}, fmt.Errorf("vkey %q: key id does not match", s)
	}
	return cosigner{parts[0], id, ed25519.PublicKey(raw[1:])}, nil
}

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(1)
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("bad input: %v", err)
	}
	sep := strings.LastIndex(in.Note, "\n\n")
	if sep < 0 || !strings.HasSuffix(in.Note, "\n") {
		fail("not a signed note")
	}
	text := in.Note[:sep+1]
	lines := strings.Split(strings.TrimSuffix(in.Note[sep+2:], "\n"), "\n")
	seen := map[string]bool{}
	for _, vk := range in.Vkeys {
		c, err := parseVkey(vk)
		if err != nil {
			fail("%v", err)
		}
		for _, line := range lines {
			rest := strings.TrimPrefix(line, "\u2014 ")
			if rest == line {
				fail("not a signature line: %q", line)
			}
			i := strings.LastIndex(rest, " ")
			if i < 0 {
				fail("not a signature line: %q", line)
			}
			name, b64 := rest[:i], rest[i+1:]
			sig, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || len(sig) < 4 {
				fail("bad signature encoding on line %q", line)
			}
			if name != c.name || !bytes.Equal(sig[:4], c.id[:]) {
				continue // another key's line: ignored
			}
			if len(sig) != 4+8+64 {
				fail("%s: cosignature has %d bytes", name, len(sig))
			}
			ts := binary.BigEndian.Uint64(sig[4:12])
			if ts > 1<<63-1 {
				fail("%s: timestamp out of range", name)
			}
			msg := "cosignature/v1\ntime " + strconv.FormatUint(ts, 10) + "\n" + text
			if !ed25519.Verify(c.key, []byte(msg), sig[12:]) {
				fail("%s: cosignature does not verify", name)
			}
			seen[name] = true
			fmt.Printf("ok %s %d\n", name, ts)
		}
		if !seen[c.name] {
			fail("%s: no cosignature", c.name)
		}
	}
}
