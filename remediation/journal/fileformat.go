package journal

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// The file format of a File:
//
//	file header:  "EJF1" | u64 salt | u64 sealed | u32 CRC-32C of the first 20 bytes
//	then writes:  "EJW1" | u32 length of the frames | u32 check | frames
//
// The frames are those of the in-memory encoding (see appendFrame). A
// write is one group commit, or one chunk of a rewrite. Its check is the
// CRC-32C of its magic and length, the file's salt and the write's offset
// in the file, so a damaged length is seen as damage and never trusted,
// and a write header left on the disk by another file, or by this file at
// another offset (stale blocks a crash can expose), is not taken for one
// of this file's writes. The salt is new for every file, a rewrite's
// included.
//
// Nothing is written after a group commit until it is synced, so only the
// last write of the file can be torn (any of its sectors missing after a
// crash): a torn last group commit is cut off when the file is opened, and
// damage anywhere else is ErrCorrupt. The first sealed bytes were written
// by a rewrite and synced before the file became the journal: damage there
// is always ErrCorrupt.
const (
	fileMagic   = "EJF1"
	fileHeader  = 24
	writeMagic  = "EJW1"
	writeHeader = 12
	// rewriteChunk bounds the frames of one write of a rewrite, so that
	// reading holds at most this much (or one larger frame) at a time.
	rewriteChunk = 1 << 20
)

// fileLayout is what a file header says.
type fileLayout struct {
	salt   uint64
	sealed int64 // bytes written by a rewrite, never torn
}

// newSalt returns a random salt for a new file.
func newSalt() uint64 {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return binary.LittleEndian.Uint64(b[:])
}

// fileHeaderBytes encodes l as a file header.
func fileHeaderBytes(l fileLayout) []byte {
	h := make([]byte, fileHeader)
	copy(h, fileMagic)
	binary.LittleEndian.PutUint64(h[4:], l.salt)
	binary.LittleEndian.PutUint64(h[12:], uint64(l.sealed))
	binary.LittleEndian.PutUint32(h[20:], crc32.Checksum(h[:20], castagnoli))
	return h
}

// parseFileHeader decodes a good file header.
func parseFileHeader(h []byte) (fileLayout, bool) {
	if len(h) < fileHeader || string(h[:4]) != fileMagic ||
		crc32.Checksum(h[:20], castagnoli) != binary.LittleEndian.Uint32(h[20:]) {
		return fileLayout{}, false
	}
	l := fileLayout{salt: binary.LittleEndian.Uint64(h[4:]), sealed: int64(binary.LittleEndian.Uint64(h[12:]))}
	return l, l.sealed >= fileHeader
}

// writeCheck is the check of a write header.
func writeCheck(magic []byte, n uint32, salt uint64, off int64) uint32 {
	var b [24]byte
	copy(b[:], magic)
	binary.LittleEndian.PutUint32(b[4:], n)
	binary.LittleEndian.PutUint64(b[8:], salt)
	binary.LittleEndian.PutUint64(b[16:], uint64(off))
	return crc32.Checksum(b[:], castagnoli)
}

// putWriteHeader fills the header of a write of n bytes of frames at off.
func putWriteHeader(h []byte, n int, salt uint64, off int64) {
	copy(h, writeMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	binary.LittleEndian.PutUint32(h[8:], writeCheck(h[:4], uint32(n), salt, off))
}

// parseWriteHeader checks h as the header of a write at off and returns
// the length of its frames.
func parseWriteHeader(h []byte, salt uint64, off int64) (int64, bool) {
	if len(h) < writeHeader || string(h[:4]) != writeMagic {
		return 0, false
	}
	n := binary.LittleEndian.Uint32(h[4:])
	if writeCheck(h[:4], n, salt, off) != binary.LittleEndian.Uint32(h[8:]) {
		return 0, false
	}
	return int64(n), true
}

// readWrites streams the writes of a file laid out as l from its header
// up to limit. A write's frames are all checked before fn sees any of
// them, so a torn write reaches fn not at all. It sets *valid to the end
// of the last good write and reports whether a torn last group commit
// follows it; damage anywhere else is an error wrapping ErrCorrupt.
func readWrites(sr io.ReaderAt, l fileLayout, limit int64, fn func(payload []byte) error, valid *int64) (torn bool, err error) {
	if l.sealed > limit {
		return false, fmt.Errorf("%w: the file ends at %d, inside the %d bytes its rewrite wrote", ErrCorrupt, limit, l.sealed)
	}
	var hdr [writeHeader]byte
	var body []byte
	var frames [][]byte
	off := int64(fileHeader)
	*valid = off
	// tornAt reports a bad write at off: torn only past the sealed part.
	tornAt := func(what string) (bool, error) {
		if off < l.sealed {
			return false, fmt.Errorf("%w: %s at offset %d, in what a rewrite wrote", ErrCorrupt, what, off)
		}
		return true, nil
	}
	for off < limit {
		if limit-off < writeHeader {
			return tornAt("a cut write header")
		}
		if _, err := sr.ReadAt(hdr[:], off); err != nil {
			return false, fmt.Errorf("journal: read journal: %w", err)
		}
		n, ok := parseWriteHeader(hdr[:], l.salt, off)
		if !ok {
			if off < l.sealed {
				return tornAt("a bad write header")
			}
			return badHeader(sr, l.salt, off, limit)
		}
		end := off + writeHeader + n
		if end > limit {
			return tornAt("a write running past the end")
		}
		if int64(cap(body)) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := sr.ReadAt(body, off+writeHeader); err != nil {
			return false, fmt.Errorf("journal: read journal: %w", err)
		}
		frames = frames[:0]
		if bad := splitFrames(body, &frames); bad >= 0 {
			if end == limit {
				return tornAt("a bad frame")
			}
			return false, fmt.Errorf("%w: bad frame at offset %d, in the write at %d, which is not the last", ErrCorrupt, off+writeHeader+int64(bad), off)
		}
		for _, p := range frames {
			if err := fn(p); err != nil {
				return false, err
			}
		}
		off = end
		*valid = off
	}
	return false, nil
}

// splitFrames appends the payloads of the frames in b to *out. It returns
// the offset of the first bad frame, or -1 when every frame is good and
// they fill b exactly.
func splitFrames(b []byte, out *[][]byte) int {
	for off := 0; off < len(b); {
		p, n, ok := nextFrame(b[off:])
		if !ok {
			return off
		}
		*out = append(*out, p)
		off += n
	}
	return -1
}

// badHeader decides what a bad write header at off is: a torn last write
// when nothing but zeros follows or no header of this file's writes does;
// damage when a later write of this file began (it began only after this
// one was synced).
func badHeader(sr io.ReaderAt, salt uint64, off, limit int64) (bool, error) {
	next, err := findWrite(sr, salt, off+1, limit)
	if err != nil {
		return false, err
	}
	if next >= 0 {
		return false, fmt.Errorf("%w: bad write header at offset %d, with a write header of the journal at %d after it", ErrCorrupt, off, next)
	}
	return true, nil
}

// findWrite returns the offset of the first good write header of this
// file (its salt, at its own offset) at or after from, before limit, or
// -1. Its frames need not be whole: the header shows that a write began.
func findWrite(sr io.ReaderAt, salt uint64, from, limit int64) (int64, error) {
	const block = 1 << 16
	buf := make([]byte, block+writeHeader)
	for pos := from; pos < limit; pos += block {
		n, err := sr.ReadAt(buf[:min(int64(len(buf)), limit-pos)], pos)
		if err != nil && err != io.EOF {
			return -1, fmt.Errorf("journal: read journal: %w", err)
		}
		b := buf[:n]
		for i := 0; i < len(b) && i < block; {
			k := bytes.Index(b[i:], []byte("EJ"))
			if k < 0 || i+k >= block {
				break
			}
			at := i + k
			if _, ok := parseWriteHeader(b[at:], salt, pos+int64(at)); ok {
				return pos + int64(at), nil
			}
			i = at + 1
		}
	}
	return -1, nil
}

// oldFormat reports whether the file starts with a good frame of the
// format before file and write headers.
func oldFormat(sr io.ReaderAt, limit int64) bool {
	var h [frameHeader]byte
	if limit < frameHeader {
		return false
	}
	if _, err := sr.ReadAt(h[:], 0); err != nil {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(h[:]))
	if n == 0 || n > maxFrame || frameHeader+n > limit {
		return false
	}
	p := make([]byte, n)
	if _, err := sr.ReadAt(p, frameHeader); err != nil {
		return false
	}
	return crc32.Checksum(p, castagnoli) == binary.LittleEndian.Uint32(h[4:])
}
