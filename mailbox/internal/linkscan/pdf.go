package linkscan

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"sort"
	"strconv"
)

// addPDF records the URIs of the link actions (/URI, PDF 32000-1 section
// 12.6.4.7) in a PDF file, also those in compressed object streams (/Type
// /ObjStm, section 7.5.7).
//
// Phishing encrypts PDF lures to hide their links from scanners: with an
// empty user password, which every reader opens without asking, or with a
// password written in the message ("senha: 123"). A file encrypted by the
// standard security handler (RC4 and AES-128, revisions 2 to 4, PDF
// 32000-1 section 7.6.3; AES-256, revisions 5 and 6, ISO 32000-2 section
// 7.6.4) is decrypted when the empty password or one of passwords() opens
// it; the password is verified against the file's /U entry, so a wrong
// guess decrypts nothing. Other encrypted files yield no links.
func (s *Set) addPDF(b []byte, passwords func() []string) {
	crypt, encrypted := pdfSecurity(b, passwords, &s.work)
	if encrypted && crypt == nil {
		return
	}
	var objects pdfObjects // built when first needed
	var objStms []int      // where "/ObjStm" occurs, built when first needed
	if crypt != nil {
		objects = indexPDFObjects(b)
	}
	s.addPDFURIs(b, crypt, objects)
	for i := 0; i < len(b) && !s.work.exhausted() && !s.full; {
		k := bytes.Index(b[i:], []byte("stream"))
		if k < 0 {
			return
		}
		k += i
		i = k + len("stream")
		if k >= 3 && string(b[k-3:k]) == "end" {
			continue
		}
		// The stream data starts after an end of line.
		start := i
		if start < len(b) && b[start] == '\r' {
			start++
		}
		if start < len(b) && b[start] == '\n' {
			start++
		}
		if start == i {
			continue
		}
		// The stream dictionary precedes the keyword; most streams are
		// not object streams, which this cheap test rules out.
		if objStms == nil {
			objStms = indexAll(b, []byte("/ObjStm"))
		}
		if n := sort.SearchInts(objStms, k); n == 0 || objStms[n-1] < k-pdfDictWindow {
			continue
		}
		if objects == nil {
			objects = indexPDFObjects(b)
		}
		obj, gen, objAt := objects.objectAt(k)
		if objAt < 0 || k-objAt > pdfDictWindow {
			continue
		}
		dict := b[objAt:k]
		if !bytes.Contains(dict, []byte("/ObjStm")) || !bytes.Contains(dict, []byte("/FlateDecode")) {
			continue
		}
		end := bytes.Index(b[start:], []byte("endstream"))
		if end < 0 {
			end = len(b) - start
		}
		data := b[start : start+end]
		i = start + end
		if n, ok := pdfDirectInt(dict, "/Length"); ok && n >= 0 && n <= len(data) {
			data = data[:n]
		} else {
			data = bytes.TrimSuffix(data, []byte("\n"))
			data = bytes.TrimSuffix(data, []byte("\r"))
		}
		if crypt != nil {
			data = crypt.decrypt(obj, gen, data)
		}
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			continue
		}
		out := s.work.inflate(zr, 0)
		// Strings inside an object stream are not encrypted on their own.
		s.addPDFURIs(out, nil, nil)
	}
}

// addPDFURIs records the strings that follow /URI keys in b, decrypting
// them with crypt, when it is not nil, as strings of the objects that hold
// them.
func (s *Set) addPDFURIs(b []byte, crypt *pdfCrypt, objects pdfObjects) {
	for i := 0; i < len(b) && !s.full; {
		k := bytes.Index(b[i:], []byte("/URI"))
		if k < 0 {
			return
		}
		at := i + k
		j := at + len("/URI")
		i = j
		for j < len(b) && isPDFSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return
		}
		var str []byte
		switch {
		case b[j] == '(':
			str, i = pdfLiteral(b, j+1)
		case b[j] == '<' && (j+1 >= len(b) || b[j+1] != '<'):
			str, i = pdfHex(b, j+1)
		default:
			continue
		}
		if crypt != nil {
			if obj, gen, objAt := objects.objectAt(at); objAt >= 0 {
				str = crypt.decrypt(obj, gen, str)
			}
		}
		s.AddHref(string(str))
	}
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == 0
}

// pdfDictWindow is how far before its stream keyword a stream dictionary
// is looked for.
const pdfDictWindow = 4096

// pdfObjects indexes where the objects of a PDF file open ("N G obj") and
// close ("endobj"), so that the object holding a position is found by a
// binary search rather than by scanning back.
type pdfObjects []pdfMark

// pdfMark is an "obj" or "endobj" keyword; obj is -1 for endobj.
type pdfMark struct {
	at       int // index of N, or of "endobj"
	obj, gen int
}

// indexPDFObjects scans b once for object keywords.
func indexPDFObjects(b []byte) pdfObjects {
	var marks pdfObjects
	for off := 0; off < len(b); {
		k := bytes.Index(b[off:], []byte("obj"))
		if k < 0 {
			break
		}
		k += off
		off = k + 3
		if k >= 3 && string(b[k-3:k]) == "end" {
			marks = append(marks, pdfMark{at: k - 3, obj: -1})
			continue
		}
		// Two integers before "obj".
		j := k
		for j > 0 && k-j < 16 && isPDFSpace(b[j-1]) {
			j--
		}
		ge := j
		for j > 0 && ge-j < 6 && '0' <= b[j-1] && b[j-1] <= '9' {
			j--
		}
		if j == ge {
			continue
		}
		g, _ := strconv.Atoi(string(b[j:ge]))
		for j > 0 && ge-j < 24 && isPDFSpace(b[j-1]) {
			j--
		}
		oe := j
		for j > 0 && oe-j < 11 && '0' <= b[j-1] && b[j-1] <= '9' {
			j--
		}
		if j == oe {
			continue
		}
		o, _ := strconv.Atoi(string(b[j:oe]))
		marks = append(marks, pdfMark{at: j, obj: o, gen: g})
	}
	return marks
}

// objectAt returns the object holding position at: its number and
// generation and where it opens; idx is -1 when at is not inside an
// object.
func (marks pdfObjects) objectAt(at int) (obj, gen, idx int) {
	i := sort.Search(len(marks), func(i int) bool { return marks[i].at >= at }) - 1
	if i < 0 || marks[i].obj < 0 {
		return 0, 0, -1
	}
	return marks[i].obj, marks[i].gen, marks[i].at
}

// indexAll returns the positions of every occurrence of sep in b.
func indexAll(b, sep []byte) []int {
	out := []int{}
	for off := 0; off <= len(b); {
		k := bytes.Index(b[off:], sep)
		if k < 0 {
			break
		}
		out = append(out, off+k)
		off += k + len(sep)
	}
	return out
}

// lastIndex is bytes.LastIndex by forward searches, which use the fast
// vectorised bytes.Index rather than a Rabin-Karp scan.
func lastIndex(b, sep []byte) int {
	last := -1
	for off := 0; off <= len(b); {
		k := bytes.Index(b[off:], sep)
		if k < 0 {
			break
		}
		last = off + k
		off = last + 1
	}
	return last
}

// pdfDictValue returns the bytes that follow key in dict (after white
// space), or nil. The key must not continue with more name characters,
// so "/O" does not find "/OE".
func pdfDictValue(dict []byte, key string) []byte {
	for i := 0; i < len(dict); {
		k := bytes.Index(dict[i:], []byte(key))
		if k < 0 {
			return nil
		}
		j := i + k + len(key)
		i = j
		if j < len(dict) && (isSchemeChar(dict[j]) || dict[j] == '_') {
			continue
		}
		for j < len(dict) && isPDFSpace(dict[j]) {
			j++
		}
		return dict[j:]
	}
	return nil
}

// pdfDirectInt reads an integer value of key in dict; ok is false when
// the value is absent, not an integer or an indirect reference.
func pdfDirectInt(dict []byte, key string) (int, bool) {
	v := pdfDictValue(dict, key)
	j := 0
	if j < len(v) && (v[j] == '-' || v[j] == '+') {
		j++
	}
	for j < len(v) && '0' <= v[j] && v[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(v[:j]))
	if err != nil {
		return 0, false
	}
	// "12 0 R" is a reference, not the number 12.
	rest := bytes.TrimLeft(v[j:], " \r\n\t")
	if len(rest) > 0 && '0' <= rest[0] && rest[0] <= '9' {
		r := bytes.TrimLeft(rest, "0123456789")
		if r = bytes.TrimLeft(r, " \r\n\t"); len(r) > 0 && r[0] == 'R' {
			return 0, false
		}
	}
	return n, true
}

// pdfDictString reads a string value of key in dict.
func pdfDictString(dict []byte, key string) []byte {
	v := pdfDictValue(dict, key)
	switch {
	case len(v) > 0 && v[0] == '(':
		s, _ := pdfLiteral(v, 1)
		return s
	case len(v) > 1 && v[0] == '<' && v[1] != '<':
		s, _ := pdfHex(v, 1)
		return s
	}
	return nil
}

// pdfCrypt decrypts the strings and streams of an encrypted PDF.
type pdfCrypt struct {
	key    []byte
	aes    bool // AES-CBC with the IV in the first 16 bytes
	aesV3  bool // the file key is used as is (AES-256)
	keyLen int  // bytes of the file key (revisions 2 to 4)
}

// pdfPadding pads passwords (PDF 32000-1 section 7.6.3.3, algorithm 2).
var pdfPadding = []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")

// pdfSecurity returns the decryption of an encrypted PDF. encrypted
// reports whether the file has an encryption dictionary; crypt is nil when
// it has none, when the handler is not the standard one, or when neither
// the empty password nor any of passwords() is the user password.
func pdfSecurity(b []byte, passwords func() []string, work *budget) (crypt *pdfCrypt, encrypted bool) {
	at := lastIndex(b, []byte("/Encrypt"))
	if at < 0 {
		return nil, false
	}
	v := bytes.TrimLeft(b[at+len("/Encrypt"):], " \r\n\t")
	var dict []byte
	if bytes.HasPrefix(v, []byte("<<")) {
		end := bytes.Index(v, []byte(">>"))
		if end < 0 {
			return nil, true
		}
		dict = v[:end]
	} else {
		f := bytes.Fields(v[:min(len(v), 32)])
		if len(f) < 3 || !bytes.HasPrefix(f[2], []byte("R")) {
			return nil, false
		}
		head := append(append(append([]byte{}, f[0]...), ' '), f[1]...)
		head = append(head, " obj"...)
		var start int
		for off := 0; ; {
			k := bytes.Index(b[off:], head)
			if k < 0 {
				return nil, true
			}
			start = off + k
			if start == 0 || isPDFSpace(b[start-1]) {
				break
			}
			off = start + 1
		}
		end := bytes.Index(b[start:], []byte("endobj"))
		if end < 0 {
			end = min(len(b)-start, 4096)
		}
		dict = b[start : start+end]
	}
	if f := pdfDictValue(dict, "/Filter"); !bytes.HasPrefix(f, []byte("/Standard")) {
		return nil, true
	}
	sec := pdfStandard{
		r:  0,
		o:  pdfDictString(dict, "/O"),
		u:  pdfDictString(dict, "/U"),
		ue: pdfDictString(dict, "/UE"),
		id: pdfFileID(b),
	}
	sec.r, _ = pdfDirectInt(dict, "/R")
	sec.p, _ = pdfDirectInt(dict, "/P")
	length, ok := pdfDirectInt(dict, "/Length")
	if !ok || sec.r == 2 {
		length = 40
	}
	sec.n = length / 8
	if sec.n < 5 || sec.n > 16 {
		sec.n = 5
	}
	sec.noMeta = bytes.HasPrefix(pdfDictValue(dict, "/EncryptMetadata"), []byte("false"))
	sec.aes = bytes.Contains(dict, []byte("/AESV2"))
	// Each password tried costs a key derivation, taken from the
	// message's budget: AES-256 (revisions 5 and 6) costs the most.
	cost := pdfPasswordTokens / 64
	if sec.r >= 5 {
		cost = pdfPasswordTokens
	}
	if !work.take(cost) {
		return nil, true
	}
	if c := sec.open(""); c != nil {
		return c, true
	}
	if passwords == nil {
		return nil, true
	}
	for _, pw := range passwords() {
		if !work.take(cost) {
			return nil, true
		}
		if c := sec.open(pw); c != nil {
			return c, true
		}
	}
	return nil, true
}

// pdfStandard holds the entries of a standard security handler's
// encryption dictionary.
type pdfStandard struct {
	r, p, n  int
	o, u, ue []byte
	id       []byte
	noMeta   bool
	aes      bool
}

// open returns the decryption for the user password pw, or nil when pw is
// not the user password.
func (sec *pdfStandard) open(pw string) *pdfCrypt {
	switch {
	case sec.r >= 2 && sec.r <= 4:
		if len(sec.o) < 32 || len(sec.u) < 16 {
			return nil
		}
		// Algorithm 2: the file key.
		padded := append([]byte(pw), pdfPadding...)[:32]
		h := md5.New()
		h.Write(padded)
		h.Write(sec.o[:32])
		var pb [4]byte
		binary.LittleEndian.PutUint32(pb[:], uint32(int32(sec.p)))
		h.Write(pb[:])
		h.Write(sec.id)
		if sec.r >= 4 && sec.noMeta {
			h.Write([]byte{0xff, 0xff, 0xff, 0xff})
		}
		sum := h.Sum(nil)
		n := sec.n
		if sec.r >= 3 {
			for range 50 {
				s := md5.Sum(sum[:n])
				sum = s[:]
			}
		}
		key := sum[:n]
		// Algorithms 4 and 5: the /U entry the key must reproduce.
		var u []byte
		if sec.r == 2 {
			u = make([]byte, 32)
			rc, _ := rc4.NewCipher(key)
			rc.XORKeyStream(u, pdfPadding)
		} else {
			h := md5.New()
			h.Write(pdfPadding)
			h.Write(sec.id)
			u = h.Sum(nil)
			k := make([]byte, n)
			for i := 0; i < 20; i++ {
				for j := range k {
					k[j] = key[j] ^ byte(i)
				}
				rc, _ := rc4.NewCipher(k)
				rc.XORKeyStream(u, u)
			}
			u = u[:16]
		}
		if !bytes.Equal(u, sec.u[:len(u)]) {
			return nil
		}
		return &pdfCrypt{key: key, keyLen: n, aes: sec.aes}
	case sec.r == 5 || sec.r == 6:
		if len(sec.u) < 48 || len(sec.ue) < 32 {
			return nil
		}
		pwb := []byte(pw)
		if len(pwb) > 127 {
			pwb = pwb[:127]
		}
		hashR := func(salt []byte) []byte {
			if sec.r == 5 {
				s := sha256.Sum256(append(append([]byte{}, pwb...), salt...))
				return s[:]
			}
			return pdfHashR6(pwb, salt, nil)
		}
		if !bytes.Equal(hashR(sec.u[32:40]), sec.u[:32]) {
			return nil
		}
		block, err := aes.NewCipher(hashR(sec.u[40:48]))
		if err != nil {
			return nil
		}
		fileKey := make([]byte, 32)
		cipher.NewCBCDecrypter(block, make([]byte, 16)).CryptBlocks(fileKey, sec.ue[:32])
		return &pdfCrypt{key: fileKey, aes: true, aesV3: true}
	}
	return nil
}

// pdfFileID returns the first element of the trailer's /ID array.
func pdfFileID(b []byte) []byte {
	at := lastIndex(b, []byte("/ID"))
	for tries := 0; at >= 0 && tries < 8; tries++ {
		v := bytes.TrimLeft(b[at+3:], " \r\n\t")
		if len(v) > 0 && v[0] == '[' {
			v = bytes.TrimLeft(v[1:], " \r\n\t")
			switch {
			case len(v) > 0 && v[0] == '<':
				s, _ := pdfHex(v, 1)
				return s
			case len(v) > 0 && v[0] == '(':
				s, _ := pdfLiteral(v, 1)
				return s
			}
		}
		at = lastIndex(b[:at], []byte("/ID"))
	}
	return nil
}

// pdfHashR6 is algorithm 2.B of ISO 32000-2 section 7.6.4.3.4.
func pdfHashR6(password, salt, udata []byte) []byte {
	h := sha256.New()
	h.Write(password)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	// k1 and e are reused by every round: K is 32, 48 or 64 bytes.
	maxUnit := len(password) + 64 + len(udata)
	k1 := make([]byte, 0, 64*maxUnit)
	e := make([]byte, 64*maxUnit)
	for round := 0; ; round++ {
		k1 = k1[:0]
		for range 64 {
			k1 = append(k1, password...)
			k1 = append(k1, k...)
			k1 = append(k1, udata...)
		}
		block, err := aes.NewCipher(k[:16])
		if err != nil {
			return k[:32]
		}
		e := e[:len(k1)]
		cipher.NewCBCEncrypter(block, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, c := range e[:16] {
			sum += int(c)
		}
		var hh hash.Hash
		switch sum % 3 {
		case 0:
			hh = sha256.New()
		case 1:
			hh = sha512.New384()
		default:
			hh = sha512.New()
		}
		hh.Write(e)
		k = hh.Sum(nil)
		if round >= 63 && int(e[len(e)-1]) <= round-31 {
			break
		}
	}
	return k[:32]
}

// decrypt decrypts the data of a string or stream of object obj,
// generation gen (algorithm 1 of PDF 32000-1 section 7.6.2). Data that
// cannot be decrypted is returned as is.
func (c *pdfCrypt) decrypt(obj, gen int, data []byte) []byte {
	key := c.key
	if !c.aesV3 {
		h := md5.New()
		h.Write(c.key)
		h.Write([]byte{byte(obj), byte(obj >> 8), byte(obj >> 16), byte(gen), byte(gen >> 8)})
		if c.aes {
			h.Write([]byte("sAlT"))
		}
		key = h.Sum(nil)[:min(c.keyLen+5, 16)]
	}
	if !c.aes {
		rc, err := rc4.NewCipher(key)
		if err != nil {
			return data
		}
		out := make([]byte, len(data))
		rc.XORKeyStream(out, data)
		return out
	}
	if len(data) < 32 {
		return data
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return data
	}
	body := data[16:]
	body = body[:len(body)/16*16]
	out := make([]byte, len(body))
	cipher.NewCBCDecrypter(block, data[:16]).CryptBlocks(out, body)
	if n := len(out); n > 0 {
		if pad := int(out[n-1]); pad >= 1 && pad <= 16 && pad <= n {
			out = out[:n-pad]
		}
	}
	return out
}

// pdfLiteral reads a PDF literal string (PDF 32000-1 section 7.3.4.2)
// starting after its "(" at i; it returns the string and the index after
// the closing ")".
func pdfLiteral(b []byte, i int) ([]byte, int) {
	var out []byte
	depth := 1
	for i < len(b) && len(out) < maxURLLen {
		c := b[i]
		i++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return out, i
			}
		case '\\':
			if i >= len(b) {
				return out, i
			}
			e := b[i]
			i++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r', '\n':
				if e == '\r' && i < len(b) && b[i] == '\n' {
					i++
				}
				continue
			default:
				if '0' <= e && e <= '7' {
					v := int(e - '0')
					for n := 0; n < 2 && i < len(b) && '0' <= b[i] && b[i] <= '7'; n++ {
						v = v*8 + int(b[i]-'0')
						i++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return out, i
}

// pdfHex reads a PDF hexadecimal string starting after its "<" at i.
func pdfHex(b []byte, i int) ([]byte, int) {
	var out []byte
	var hi byte
	odd := false
	for i < len(b) && len(out) < maxURLLen {
		c := b[i]
		i++
		if c == '>' {
			break
		}
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if odd {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	if odd {
		out = append(out, hi<<4)
	}
	return out, i
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
