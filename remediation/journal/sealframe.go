package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/eradicate-dev/eradicate/remediation"
)

// sealKind is the kind byte of a seal frame of the memory and file
// journals: the MACs of the entries of one Append call (or of a chunk of
// a rewrite), 32 bytes each, written right after them, in the same write.
// A seal is not an entry: replays check it and do not yield it. Journals
// opened without a key skip seals.
const sealKind = 0xC5

// appendSeal appends to b the seal of the entry frames in b[from:],
// adding them to c.
func appendSeal(b []byte, from int, c *Chain) []byte {
	start := len(b)
	b = append(b, make([]byte, frameHeader)...)
	b = append(b, sealKind)
	for off := from; off < start; {
		p, n, _ := nextFrame(b[off:start])
		m := c.Add(p)
		b = append(b, m[:]...)
		off += n
	}
	payload := b[start+frameHeader:]
	if len(payload) == 1 {
		return b[:start] // no entries
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// chainCheck reads a stream of frames: it decodes entries and, with a
// chain, holds each back until the seal after it has checked it, and
// checks exported heads along the chain.
type chainCheck struct {
	c     *Chain // nil: seals are skipped and entries pass at once
	heads *Heads
	d     *dict
	// The payloads of the entries since the last seal, one after the
	// other (ends[i] is where the i-th ends), decoded once the seal
	// verifies them: an entry moved before the one that interned its
	// strings is reported as tampered, not as a decoding error.
	raw   []byte
	ends  []int
	macs  [][sha256.Size]byte
	first uint64 // the index of the first pending entry
}

func newChainCheck(key *Key, heads *Heads) *chainCheck {
	cc := &chainCheck{d: newDict(), heads: heads}
	if key != nil {
		cc.c = NewChain(key)
	}
	return cc
}

// frame takes the payload of the next frame and passes the entries it
// has checked to emit.
func (cc *chainCheck) frame(p []byte, emit func(remediation.Entry) error) error {
	if len(p) > 0 && p[0] == sealKind {
		if cc.c == nil {
			return nil
		}
		sealed := p[1:]
		if len(sealed)%sha256.Size != 0 || len(sealed)/sha256.Size != len(cc.macs) {
			return &TamperError{Entry: cc.first, Reason: fmt.Sprintf("a seal of %d bytes follows %d entries: entries were added or removed", len(sealed), len(cc.macs))}
		}
		for i, m := range cc.macs {
			if !hmac.Equal(m[:], sealed[i*sha256.Size:(i+1)*sha256.Size]) {
				return &TamperError{Entry: cc.first + uint64(i), Reason: "the entry's MAC does not match (changed, moved, or written without the key)"}
			}
			if err := cc.heads.at(cc.first+uint64(i)+1, m); err != nil {
				return err
			}
		}
		start := 0
		for i, end := range cc.ends {
			e, err := decodePayload(cc.raw[start:end], cc.d)
			start = end
			if err == nil {
				err = emit(e)
			}
			if err != nil {
				cc.raw, cc.ends, cc.macs = cc.raw[:0], cc.ends[:0], cc.macs[:0]
				cc.first += uint64(i + 1)
				return err
			}
		}
		cc.first += uint64(len(cc.ends))
		cc.raw, cc.ends, cc.macs = cc.raw[:0], cc.ends[:0], cc.macs[:0]
		return nil
	}
	if cc.c != nil {
		cc.raw = append(cc.raw, p...)
		cc.ends = append(cc.ends, len(cc.raw))
		cc.macs = append(cc.macs, cc.c.Add(p))
		return nil
	}
	e, err := decodePayload(p, cc.d)
	if err != nil {
		return err
	}
	return emit(e)
}

// end checks the end of the stream: no entry without a seal, no exported
// head beyond it.
func (cc *chainCheck) end() error {
	if cc.c == nil {
		return nil
	}
	if len(cc.ends) > 0 {
		return &TamperError{Entry: cc.first, Reason: "the entry has no MAC (written without the key)"}
	}
	return cc.heads.End(cc.c)
}
