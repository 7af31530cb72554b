package journal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// The tamper evidence of a journal is a chain of HMAC-SHA256 values, one
// per entry, keyed with a [Key] kept outside the journal: the MAC of
// entry i is
//
//	HMAC(key, MAC(i-1) | i as 8 bytes, big endian | the entry's stored bytes)
//
// where MAC(-1) is HMAC(key, "eradicate journal chain v1"). Changing an
// entry, removing one, reordering them, or adding one without the key
// breaks the chain at that entry; cutting entries off the end leaves a
// whole, shorter chain, which an exported [Head] (the number of entries
// and the last MAC) shows up. A journal's Verify method walks the chain
// and reports the first entry that does not belong to it.

// KeySize is the size of a generated key; keys shorter than MinKeySize
// are refused.
const (
	KeySize    = 32
	MinKeySize = 16
)

// ErrTampered means a journal's chain is broken: an entry was changed,
// removed, reordered or added without the key, or the journal was cut
// short of an exported head. Errors wrapping it are [*TamperError]s.
var ErrTampered = errors.New("journal: tampered")

// TamperError reports the first entry of a journal that breaks its chain.
type TamperError struct {
	// Entry is the index (from 0) of the first entry that does not
	// verify; for a journal cut short of a head, the head's entry count.
	Entry uint64
	// Reason says what is wrong.
	Reason string
}

// Error names the entry and the reason.
func (e *TamperError) Error() string {
	return fmt.Sprintf("journal: tampered: entry %d: %s", e.Entry, e.Reason)
}

// Unwrap returns [ErrTampered].
func (e *TamperError) Unwrap() error { return ErrTampered }

// Key is the secret of a journal's chain. Keep it outside the journal
// (and away from whoever can write the journal): with it, history can be
// rewritten undetectably. The zero Key is not usable; see [NewKey] and
// [ReadKeyFile].
type Key struct {
	secret []byte
	id     string
}

// NewKey returns a key of secret, which must hold at least [MinKeySize]
// bytes. It keeps a copy.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinKeySize {
		return nil, fmt.Errorf("journal: a chain key needs at least %d bytes, got %d", MinKeySize, len(secret))
	}
	k := &Key{secret: append([]byte(nil), secret...)}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("eradicate journal key id"))
	k.id = hex.EncodeToString(m.Sum(nil)[:8])
	return k, nil
}

// ID names the key without revealing it: the first 8 bytes, in hex, of an
// HMAC of a fixed text. A [Head] carries it, so that a head checked
// against a journal keyed otherwise says so.
func (k *Key) ID() string { return k.id }

// ReadKeyFile reads a key file: one line of at least 2*[MinKeySize] hex
// digits (as [WriteKeyFile] writes it). On Unix, a file that others than
// its owner may read or write is refused.
func ReadKeyFile(path string) (*Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("journal: key file %s is accessible to others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("journal: key file %s: not hex: %w", path, err)
	}
	k, err := NewKey(secret)
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, path)
	}
	return k, nil
}

// WriteKeyFile creates a key file at path holding a new random key of
// [KeySize] bytes, readable by its owner only, and returns the key. It
// fails when the file exists.
func WriteKeyFile(path string) (*Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("journal: key file: %w", err)
	}
	return NewKey(secret)
}

// Head is the end of a journal's chain: how many entries it has and the
// MAC of the last one. Exported (see [Head.String]) to a place the
// journal's writers cannot change — syslog on another host, a remote log
// — it lets a later Verify tell whether entries were cut off the end.
type Head struct {
	// Entries is the number of entries the chain covers.
	Entries uint64
	// MAC is the MAC of the last entry; for no entries, the chain's
	// start.
	MAC [sha256.Size]byte
	// KeyID is the [Key.ID] of the chain's key.
	KeyID string
}

const headPrefix = "eradicate-journal-head v1"

// String formats the head as one line:
//
//	eradicate-journal-head v1 entries=1234 key=0123456789abcdef mac=<64 hex digits>
func (h Head) String() string {
	return fmt.Sprintf("%s entries=%d key=%s mac=%s", headPrefix, h.Entries, h.KeyID, hex.EncodeToString(h.MAC[:]))
}

// ParseHead parses a line [Head.String] wrote; text around it on the line
// (a syslog prefix) is ignored.
func ParseHead(line string) (Head, error) {
	i := strings.Index(line, headPrefix)
	if i < 0 {
		return Head{}, fmt.Errorf("journal: not a journal head: %q", line)
	}
	var h Head
	seen := 0
	for _, f := range strings.Fields(line[i+len(headPrefix):]) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "entries":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return Head{}, fmt.Errorf("journal: head: entries: %w", err)
			}
			h.Entries, seen = n, seen|1
		case "key":
			h.KeyID, seen = v, seen|2
		case "mac":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return Head{}, fmt.Errorf("journal: head: mac is not %d hex bytes", sha256.Size)
			}
			copy(h.MAC[:], b)
			seen |= 4
		}
	}
	if seen != 7 {
		return Head{}, fmt.Errorf("journal: head lacks entries, key or mac: %q", line)
	}
	return h, nil
}

// Chain computes a journal's chain, entry by entry. Journal
// implementations use it; a Chain is not safe for concurrent use.
type Chain struct {
	key *Key
	m   hash.Hash
	n   uint64
	mac [sha256.Size]byte
}

// NewChain returns the chain of key at its start (no entries).
func NewChain(key *Key) *Chain {
	c := &Chain{key: key, m: hmac.New(sha256.New, key.secret)}
	c.m.Write([]byte("eradicate journal chain v1"))
	c.m.Sum(c.mac[:0])
	return c
}

// ResumeChain returns the chain of key after h: the next entry is
// h.Entries. It fails when h was made with another key.
func ResumeChain(key *Key, h Head) (*Chain, error) {
	if h.KeyID != key.ID() {
		return nil, fmt.Errorf("%w: the head is of key %s, the journal is opened with key %s", ErrTampered, h.KeyID, key.ID())
	}
	c := &Chain{key: key, m: hmac.New(sha256.New, key.secret), n: h.Entries, mac: h.MAC}
	return c, nil
}

// Add adds the stored bytes of the next entry and returns its MAC.
func (c *Chain) Add(entry []byte) [sha256.Size]byte {
	var idx [8]byte
	binary.BigEndian.PutUint64(idx[:], c.n)
	c.m.Reset()
	c.m.Write(c.mac[:])
	c.m.Write(idx[:])
	c.m.Write(entry)
	c.m.Sum(c.mac[:0])
	c.n++
	return c.mac
}

// Check adds entry and reports whether mac is its MAC; a failure is a
// [*TamperError] naming the entry. The chain moves on either way.
func (c *Chain) Check(entry, mac []byte) error {
	n := c.n
	want := c.Add(entry)
	if len(mac) == 0 {
		return &TamperError{Entry: n, Reason: "the entry has no MAC (written without the key)"}
	}
	if !hmac.Equal(want[:], mac) {
		return &TamperError{Entry: n, Reason: "the entry's MAC does not match (changed, moved, or written without the key)"}
	}
	return nil
}

// Head returns the chain's head.
func (c *Chain) Head() Head { return Head{Entries: c.n, MAC: c.mac, KeyID: c.key.ID()} }

// Heads checks exported heads against a chain as it grows: [Heads.At] is
// called after each entry, [Heads.End] at the end.
type Heads struct {
	heads []Head
}

// NewHeads returns a checker of heads, which must be of key.
func NewHeads(key *Key, heads []Head) (*Heads, error) {
	for _, h := range heads {
		if h.KeyID != key.ID() {
			return nil, fmt.Errorf("journal: a head of key %s checked with key %s", h.KeyID, key.ID())
		}
	}
	return &Heads{heads: heads}, nil
}

// At checks the heads that end where c is now.
func (hs *Heads) At(c *Chain) error { return hs.at(c.n, c.mac) }

// at checks the heads of n entries against the MAC of the nth.
func (hs *Heads) at(n uint64, mac [sha256.Size]byte) error {
	if hs == nil {
		return nil
	}
	for _, h := range hs.heads {
		if h.Entries == n && h.MAC != mac {
			return &TamperError{Entry: h.Entries - 1, Reason: "the chain differs from an exported head at this entry"}
		}
	}
	return nil
}

// End checks, at the end of the journal, that no head lies beyond it.
func (hs *Heads) End(c *Chain) error {
	if hs == nil {
		return nil
	}
	if err := hs.At(c); err != nil {
		return err
	}
	for _, h := range hs.heads {
		if h.Entries > c.n {
			return &TamperError{Entry: c.n, Reason: fmt.Sprintf("the journal ends after %d entries, before an exported head of %d: entries were cut off", c.n, h.Entries)}
		}
	}
	return nil
}

// Verifier is a journal with a chain: Verify walks every entry and
// returns the head, or the first entry that breaks the chain (a
// [*TamperError]) or lies outside an exported head given.
type Verifier interface {
	// Verify checks every entry against the chain, and the chain
	// against heads, and returns the chain's head.
	Verify(ctx context.Context, heads ...Head) (Head, error)
}
