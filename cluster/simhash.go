package cluster

import (
	"math/bits"
	"strings"
)

// Body fingerprint: a 64-bit SimHash (Charikar 2002) over two kinds of
// features, counted with equal weight:
//
//   - shingles of three consecutive words of the visible text (the text of
//     the HTML part outside tags, scripts and styles, or the plain text
//     when there is no HTML), lower-cased;
//   - shingles of four consecutive HTML tag names (closing tags marked),
//     which capture the layout of a template whatever its wording.
//
// SimHash rather than MinHash: one 64-bit word per message is all the
// index keeps (MinHash needs a hundred or so values for the same
// accuracy), and near-duplicates are found by splitting the 64 bits into
// four 16-bit bands: two fingerprints within Hamming distance 3 share at
// least one band exactly (pigeonhole), so LSH on the bands finds every
// pair within the default distance without comparing all pairs, as in
// Manku, Jain and Das Sarma, "Detecting near-duplicates for web
// crawling" (WWW 2007).

const (
	wordShingle  = 3
	tagShingle   = 4
	minFeatures  = 8
	maxFeatures  = 20000
	maxBodyBytes = 256 << 10
)

// BodyFingerprint returns the SimHash of a message body: html when it is
// not empty, else text. It returns 0 when the body has fewer than 8
// shingles, too little to say two bodies are alike. Only the first 256 KiB
// are read.
func BodyFingerprint(text, html string) uint64 {
	var s simhasher
	if html != "" {
		if len(html) > maxBodyBytes {
			html = html[:maxBodyBytes]
		}
		s.html(html)
	} else {
		if len(text) > maxBodyBytes {
			text = text[:maxBodyBytes]
		}
		s.text(text)
	}
	return s.sum()
}

// simhasher accumulates SimHash bit counts. For speed each feature adds
// eight 8-lane byte vectors (one lane per bit) that are flushed into the
// 64 counters before a lane can overflow.
type simhasher struct {
	acc     [8]uint64
	pending int
	counts  [64]int32
	n       int

	words [wordShingle]uint64
	nword int
	tags  [tagShingle]uint64
	ntag  int
}

// spreadTable holds spread(b) for every byte; it is computed once and
// never written afterwards.
var spreadTable = func() (t [256]uint64) {
	for i := range t {
		t[i] = spread(byte(i))
	}
	return t
}()

// spread puts bit k of b into the low bit of byte k.
func spread(b byte) uint64 {
	x := uint64(b)
	x = (x | x<<28) & 0x0000000F0000000F
	x = (x | x<<14) & 0x0003000300030003
	x = (x | x<<7) & 0x0101010101010101
	return x
}

func (s *simhasher) add(h uint64) {
	if s.n >= maxFeatures {
		return
	}
	h = mix64(h)
	s.acc[0] += spreadTable[byte(h)]
	s.acc[1] += spreadTable[byte(h>>8)]
	s.acc[2] += spreadTable[byte(h>>16)]
	s.acc[3] += spreadTable[byte(h>>24)]
	s.acc[4] += spreadTable[byte(h>>32)]
	s.acc[5] += spreadTable[byte(h>>40)]
	s.acc[6] += spreadTable[byte(h>>48)]
	s.acc[7] += spreadTable[byte(h>>56)]
	s.n++
	s.pending++
	if s.pending == 255 {
		s.flush()
	}
}

func (s *simhasher) flush() {
	for j, a := range s.acc {
		for k := 0; k < 8; k++ {
			s.counts[j*8+k] += int32(a >> (8 * k) & 0xff)
		}
		s.acc[j] = 0
	}
	s.pending = 0
}

func (s *simhasher) sum() uint64 {
	if s.n < minFeatures {
		return 0
	}
	s.flush()
	var out uint64
	for i, c := range s.counts {
		if 2*int(c) > s.n {
			out |= 1 << i
		}
	}
	if out == 0 {
		out = 1
	}
	return out
}

func (s *simhasher) word(h uint64) {
	s.words[0], s.words[1], s.words[2] = s.words[1], s.words[2], h
	s.nword++
	if s.nword >= wordShingle {
		s.add(s.words[0]*0x9E3779B97F4A7C15 ^ bits.RotateLeft64(s.words[1], 21)*0xC2B2AE3D27D4EB4F ^ bits.RotateLeft64(s.words[2], 42))
	}
}

func (s *simhasher) tag(h uint64) {
	s.tags[0], s.tags[1], s.tags[2], s.tags[3] = s.tags[1], s.tags[2], s.tags[3], h
	s.ntag++
	if s.ntag >= tagShingle {
		s.add(0x5bd1e995 ^ s.tags[0]*0x9E3779B97F4A7C15 ^ bits.RotateLeft64(s.tags[1], 16)*0xC2B2AE3D27D4EB4F ^
			bits.RotateLeft64(s.tags[2], 32)*0x165667B19E3779F9 ^ bits.RotateLeft64(s.tags[3], 48))
	}
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// text feeds the words of plain text.
func (s *simhasher) text(t string) {
	s.textRange(t, 0, len(t))
}

// wordByte maps a byte to its lower-case form when it belongs to a word
// (ASCII letters and digits, non-ASCII bytes) and to 0 otherwise; it is
// computed once and never written afterwards.
var wordByte = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		switch {
		case c >= 'A' && c <= 'Z':
			t[i] = c + 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c >= 0x80:
			t[i] = c
		}
	}
	return t
}()

// textRange feeds the words of t[from:to]: runs of ASCII letters and digits
// or non-ASCII bytes; an HTML entity (&name;) separates words.
func (s *simhasher) textRange(t string, from, to int) {
	t = t[:to]
	for i := from; i < len(t); {
		c := t[i]
		if wordByte[c] != 0 {
			// A word: hash it to its end in one tight loop.
			h := uint64(fnvOffset)
			for ; i < len(t); i++ {
				w := wordByte[t[i]]
				if w == 0 {
					break
				}
				h = (h ^ uint64(w)) * fnvPrime
			}
			s.word(h)
			continue
		}
		i++
		if c == '&' {
			for j := i; j < len(t) && j < i+9; j++ {
				if t[j] == ';' {
					i = j + 1
					break
				}
			}
		}
	}
}

// html feeds the visible text and the tag sequence of an HTML document.
func (s *simhasher) html(t string) {
	textStart := 0
	i := 0
	for i < len(t) {
		lt := strings.IndexByte(t[i:], '<')
		if lt < 0 {
			break
		}
		i += lt
		s.textRange(t, textStart, i)
		// Comment.
		if i+4 <= len(t) && t[i+1] == '!' && t[i+2] == '-' && t[i+3] == '-' {
			end := indexFrom(t, "-->", i+4)
			if end < 0 {
				return
			}
			i = end + 3
			textStart = i
			continue
		}
		j := i + 1
		closing := j < len(t) && t[j] == '/'
		if closing {
			j++
		}
		h := uint64(fnvOffset)
		if closing {
			h = (h ^ '/') * fnvPrime
		}
		nameStart := j
		for j < len(t) && isTagNameChar(t[j]) {
			c := t[j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			h = (h ^ uint64(c)) * fnvPrime
			j++
		}
		name := t[nameStart:j]
		end := indexByteFrom(t, '>', j)
		if end < 0 {
			return
		}
		i = end + 1
		textStart = i
		if len(name) == 0 {
			continue
		}
		s.tag(h)
		if !closing && (equalFoldASCII(name, "script") || equalFoldASCII(name, "style")) {
			closeAt := indexFoldFrom(t, "</"+name, i)
			if closeAt < 0 {
				return
			}
			i = closeAt
			textStart = i
		}
	}
	s.textRange(t, textStart, len(t))
}

func isTagNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '!' || c == ':' || c == '-'
}

func indexByteFrom(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

func indexFrom(s, sub string, from int) int {
	if from > len(s) {
		return -1
	}
	if i := strings.Index(s[from:], sub); i >= 0 {
		return from + i
	}
	return -1
}

// indexFoldFrom finds sub (lower-case ASCII) in s from the index from,
// ignoring ASCII case.
func indexFoldFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		j := strings.IndexByte(s[i:len(s)-len(sub)+1], '<')
		if j < 0 {
			return -1
		}
		i += j
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// mix64 is the SplitMix64 finaliser: it spreads every input bit over the
// whole word, which SimHash needs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Hamming returns the number of differing bits of two fingerprints.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }
