package tlsh

import (
	"encoding/binary"
	"fmt"
)

// Version is the version prefix of the digests [Digest.String] writes.
const Version = "T1"

// hexLen is the length of a digest in hex without the version prefix:
// checksum, length code, quartile ratios and 32 body bytes.
const hexLen = 2 * (3 + codeSize)

// Digest is a TLSH digest of the 128-bucket, 1-byte-checksum variant.
// It is a comparable value: two digests are == when their strings are
// equal. The zero Digest is not the digest of any input [Hash] accepts
// in practice, but it is a valid value for [Diff].
type Digest struct {
	checksum byte           // rolling Pearson checksum of the input
	lvalue   byte           // logarithmic length code
	q1       byte           // (q1*100/q3) mod 16
	q2       byte           // (q2*100/q3) mod 16
	code     [codeSize]byte // 2 bits per bucket: bucket 4i+j at bits 2j of code[i]
}

// String returns the digest as the reference tool (version 4) prints it: "T1"
// followed by 70 upper-case hex digits.
func (d Digest) String() string {
	var b [len(Version) + hexLen]byte
	copy(b[:], Version)
	d.appendHex(b[len(Version):len(Version)])
	return string(b[:])
}

// appendHex appends the 70 hex digits of d to dst. The header bytes are
// written with their nibbles swapped, the body from the last byte to the
// first, as the reference does.
func (d Digest) appendHex(dst []byte) []byte {
	const digits = "0123456789ABCDEF"
	put := func(b byte) {
		dst = append(dst, digits[b>>4], digits[b&15])
	}
	put(swap(d.checksum))
	put(swap(d.lvalue))
	put(d.q1<<4 | d.q2)
	for i := codeSize - 1; i >= 0; i-- {
		put(d.code[i])
	}
	return dst
}

// MarshalText implements [encoding.TextMarshaler]; it returns
// [Digest.String].
func (d Digest) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; it accepts what
// [Parse] accepts.
func (d *Digest) UnmarshalText(text []byte) error {
	p, err := Parse(string(text))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Parse reads a digest: "T1" followed by 70 hex digits, as [Digest.String]
// and the reference tool (version 4 and later) write it, or the 70 hex
// digits alone, as versions before 4 write it. Hex digits may be upper
// or lower case. Anything else gives an error wrapping [ErrInvalidDigest].
func Parse(s string) (Digest, error) {
	h := s
	if len(h) == len(Version)+hexLen && (h[0] == 'T' || h[0] == 't') {
		if h[1] != Version[1] {
			return Digest{}, fmt.Errorf("%w: unsupported version %q", ErrInvalidDigest, h[:2])
		}
		h = h[len(Version):]
	}
	if len(h) != hexLen {
		return Digest{}, fmt.Errorf("%w: length %d, want %d or %d", ErrInvalidDigest, len(s), hexLen, len(Version)+hexLen)
	}
	var raw [hexLen / 2]byte
	for i := range raw {
		hi, ok1 := unhex(h[2*i])
		lo, ok2 := unhex(h[2*i+1])
		if !ok1 || !ok2 {
			return Digest{}, fmt.Errorf("%w: non-hex character at offset %d", ErrInvalidDigest, len(s)-len(h)+2*i)
		}
		raw[i] = hi<<4 | lo
	}
	d := Digest{
		checksum: swap(raw[0]),
		lvalue:   swap(raw[1]),
		q1:       raw[2] >> 4,
		q2:       raw[2] & 15,
	}
	for i := range d.code {
		d.code[i] = raw[len(raw)-1-i]
	}
	return d, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func swap(b byte) byte { return b<<4 | b>>4 }

// Diff returns the distance between a and b including the difference of
// their input lengths, as the reference's totalDiff with len_diff true
// (`tlsh -c`, Python's tlsh.diff). 0 means the same digest; the distance
// grows without a fixed bound as inputs differ more (values under about
// 100 mean similar content). Diff is symmetric.
func Diff(a, b Digest) int {
	return diff(&a, &b, true)
}

// DiffNoLength returns the distance between a and b ignoring the
// difference of their input lengths, as the reference's totalDiff with
// len_diff false (`tlsh -xlen`, Python's tlsh.diffxlen).
func DiffNoLength(a, b Digest) int {
	return diff(&a, &b, false)
}

// BodyDiff returns the part of [Diff] that compares the 128 bucket codes:
// a lower bound of Diff and [DiffNoLength], cheaper to compute when the
// header of a digest is not at hand.
func BodyDiff(a, b *Digest) int {
	return bodyDiff(&a.code, &b.code)
}

func diff(a, b *Digest, withLength bool) int {
	d := 0
	if withLength {
		if l := modDiff(a.lvalue, b.lvalue, 256); l <= 1 {
			d = l
		} else {
			d = l * 12
		}
	}
	if q := modDiff(a.q1, b.q1, 16); q <= 1 {
		d += q
	} else {
		d += (q - 1) * 12
	}
	if q := modDiff(a.q2, b.q2, 16); q <= 1 {
		d += q
	} else {
		d += (q - 1) * 12
	}
	if a.checksum != b.checksum {
		d++
	}
	return d + bodyDiff(&a.code, &b.code)
}

// modDiff is the distance between x and y on a circle of r values.
func modDiff(x, y byte, r int) int {
	dl := int(x) - int(y)
	if dl < 0 {
		dl = -dl
	}
	return min(dl, r-dl)
}

// bodyDiff sums, over the 128 two-bit bucket codes, |x-y|, except that
// codes 3 apart (0 against 3) count 6. It works on 32 codes at a time:
// per code it finds the weight (1, 2 or 6) as bit masks, writes the
// weights of even and odd codes into 4-bit fields and adds the fields.
func bodyDiff(a, b *[codeSize]byte) int {
	const (
		lanes = 0x5555555555555555 // low bit of each 2-bit code
		nib   = 0x1111111111111111 // low bit of each 4-bit field
		low4  = 0x0F0F0F0F0F0F0F0F
	)
	var total uint64
	for i := 0; i < codeSize; i += 8 {
		x := binary.LittleEndian.Uint64(a[i:])
		y := binary.LittleEndian.Uint64(b[i:])
		t := x ^ y
		lo := t & lanes             // codes whose low bits differ
		hi := t >> 1 & lanes        // codes whose high bits differ
		both := lo & hi             // 0/3 or 1/2
		ends := ^(x ^ x>>1) & lanes // x is 0 or 3
		one := lo&^hi | both&^ends  // 0/1, 1/2, 2/3 and their mirrors
		two := hi &^ lo             // 0/2, 1/3
		six := both & ends          // 0/3
		// Weight = one + 2*(two|six) + 4*six, at most 6: 3 bits, so even
		// and odd codes go to separate 4-bit fields before adding.
		even := one&nib | (two|six)&nib<<1 | six&nib<<2
		odd := one>>2&nib | (two|six)>>2&nib<<1 | six>>2&nib<<2
		s := even + odd        // fields <= 12
		s = s&low4 + s>>4&low4 // bytes <= 24
		total += s * 0x0101010101010101 >> 56
	}
	return int(total)
}
