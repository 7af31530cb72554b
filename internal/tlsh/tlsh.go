package tlsh

import (
	"errors"
	"slices"
)

const (
	// MinLength is the shortest input that has a digest, in bytes (the
	// default of the reference implementation since version 4).
	MinLength = 50
	// MaxLength is the longest input that has a digest, in bytes: the
	// length code covers up to 4 GiB - 1.
	MaxLength = 1<<32 - 1
)

// Errors returned by [Hash], [Hasher.Sum] and [Parse].
var (
	// ErrTooShort means the input is shorter than [MinLength] bytes.
	ErrTooShort = errors.New("tlsh: input shorter than 50 bytes")
	// ErrTooLong means the input is longer than [MaxLength] bytes.
	ErrTooLong = errors.New("tlsh: input longer than 4 GiB - 1 bytes")
	// ErrNotComplex means the input is too uniform: no more than half of
	// the 128 buckets received a triplet (for example a run of one byte,
	// or a short repeated pattern), so its digest would say nothing.
	ErrNotComplex = errors.New("tlsh: input not complex enough")
	// ErrInvalidDigest means a string is not a TLSH digest.
	ErrInvalidDigest = errors.New("tlsh: invalid digest")
)

const (
	buckets  = 128 // effective buckets (the "compact" 128-bucket variant)
	codeSize = buckets / 4
	// window is the size of the sliding window; triplets are taken from
	// the newest byte and two of the window-1 bytes before it.
	window = 5
)

// Hash returns the TLSH digest of data.
//
// It returns [ErrTooShort] when data has fewer than [MinLength] bytes,
// [ErrTooLong] when it has more than [MaxLength] bytes and
// [ErrNotComplex] when data is too uniform to have a meaningful digest.
func Hash(data []byte) (Digest, error) {
	var h Hasher
	h.write(data)
	return h.Sum()
}

// Hasher computes a TLSH digest over a stream of writes: the digest of the
// concatenation of every Write since the last [Hasher.Reset] (or since the
// zero value). The zero value is ready to use.
//
// A Hasher is not safe for concurrent use; a Digest is a value and is.
type Hasher struct {
	n        uint64      // bytes written
	counts   [256]uint32 // triplet counts; buckets >= 128 are counted but unused
	checksum byte        // rolling checksum of the input
	w1       byte        // the byte before the newest one
	w2       byte        // two bytes before
	w3       byte        // three bytes before
	w4       byte        // four bytes before
}

// New returns a new [Hasher]; it is the same as a zero Hasher.
func New() *Hasher { return new(Hasher) }

// Write adds p to the input. It always returns len(p), nil; it implements
// [io.Writer]. An input longer than [MaxLength] bytes makes [Hasher.Sum]
// return [ErrTooLong].
func (h *Hasher) Write(p []byte) (int, error) {
	h.write(p)
	return len(p), nil
}

// Reset clears the input, as if the Hasher were new.
func (h *Hasher) Reset() { *h = Hasher{} }

// Len returns the number of bytes written since the last Reset.
func (h *Hasher) Len() uint64 { return h.n }

func (h *Hasher) write(p []byte) {
	// The first window-1 bytes of the stream only fill the window.
	for h.n < window-1 && len(p) > 0 {
		h.w4, h.w3, h.w2, h.w1 = h.w3, h.w2, h.w1, p[0]
		h.n++
		p = p[1:]
	}
	if len(p) == 0 {
		return
	}
	h.n += uint64(len(p))

	h.checksum, h.w1, h.w2, h.w3, h.w4 = update(&h.counts, h.checksum, h.w1, h.w2, h.w3, h.w4, p)
}

// update adds the triplets of every byte of p to counts and returns the
// new checksum and window (w1 the newest byte). It touches only its
// arguments and read-only tables; it is exempt from race instrumentation,
// which makes race-enabled test runs over large inputs more than ten times
// slower. Races on a Hasher are still caught in Write.
//
//go:norace
func update(c *[256]uint32, cs, w1, w2, w3, w4 byte, p []byte) (byte, byte, byte, byte, byte) {
	t := &pearson
	x := &mixBytes
	for _, b0 := range p {
		// Each triplet (b0, y, z) with salt s maps to
		// T[T[T[T[s]^b0]^y]^z]; mixBytes holds the first two rounds.
		cs = t[t[x[0][b0]^w1]^cs]
		c[t[t[x[1][b0]^w1]^w2]]++ // salt 2: b0 b1 b2
		c[t[t[x[2][b0]^w1]^w3]]++ // salt 3: b0 b1 b3
		c[t[t[x[3][b0]^w2]^w3]]++ // salt 5: b0 b2 b3
		c[t[t[x[4][b0]^w2]^w4]]++ // salt 7: b0 b2 b4
		c[t[t[x[5][b0]^w1]^w4]]++ // salt 11: b0 b1 b4
		c[t[t[x[6][b0]^w3]^w4]]++ // salt 13: b0 b3 b4
		w4, w3, w2, w1 = w3, w2, w1, b0
	}
	return cs, w1, w2, w3, w4
}

// Sum returns the digest of the input written so far. It does not change
// the Hasher: more writes may follow. Its errors are those of [Hash].
func (h *Hasher) Sum() (Digest, error) {
	switch {
	case h.n < MinLength:
		return Digest{}, ErrTooShort
	case h.n > MaxLength:
		return Digest{}, ErrTooLong
	}
	counts := h.counts[:buckets]
	nonzero := 0
	for _, c := range counts {
		if c != 0 {
			nonzero++
		}
	}
	if nonzero <= buckets/2 {
		return Digest{}, ErrNotComplex
	}
	var sorted [buckets]uint32
	copy(sorted[:], counts)
	slices.Sort(sorted[:])
	q1, q2, q3 := sorted[buckets/4-1], sorted[buckets/2-1], sorted[buckets-buckets/4-1]

	d := Digest{checksum: h.checksum, lvalue: lengthCode(uint32(h.n))}
	for i := range d.code {
		var b byte
		for j, c := range counts[4*i : 4*i+4] {
			switch {
			case c > q3:
				b |= 3 << (2 * j)
			case c > q2:
				b |= 2 << (2 * j)
			case c > q1:
				b |= 1 << (2 * j)
			}
		}
		d.code[i] = b
	}
	// q3 > 0 here: more than half of the buckets are non-zero.
	d.q1 = qRatio(q1, q3)
	d.q2 = qRatio(q2, q3)
	return d, nil
}

// qRatio is the 4-bit code of the quartile ratio q*100/q3, computed in
// single precision and truncated, as the reference does. The product is
// taken in floating point, as in reference version 4: version 3 took it
// in 32-bit integers, which overflow when q exceeds 42,949,672 (inputs of
// more than about 1.7 GiB).
func qRatio(q, q3 uint32) byte {
	r := float32(q) * 100
	r /= float32(q3)
	return byte(uint32(r) % 16)
}

// lengthCode is the 8-bit logarithmic code of an input length.
func lengthCode(n uint32) byte {
	i, _ := slices.BinarySearch(lengthTop[:], n)
	return byte(i)
}
