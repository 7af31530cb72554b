package linkscan

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"
)

// scriptDecoders are the script functions that turn an encoded string
// literal into the HTML an attached page writes when opened
// (document.write(unescape("%3Cform%20action..."))), with how each
// decodes.
var scriptDecoders = [...]struct {
	name   string
	decode func([]byte) []byte
}{
	{"unescape", func(b []byte) []byte { return percentDecode(b, true) }},
	{"decodeURIComponent", func(b []byte) []byte { return percentDecode(b, false) }},
	{"decodeURI", func(b []byte) []byte { return percentDecode(b, false) }},
	{"atob", decodeBase64Literal},
}

// Limits of addScriptWritten: how deep encoded pages may nest, and how
// many string literals one document may have decoded.
const (
	maxScriptDepth    = 3
	maxScriptLiterals = 64
)

// AddScriptWritten records the links of the HTML that the scripts of a
// page write from encoded string literals: the literal argument of
// unescape, decodeURIComponent, decodeURI and atob, decoded and read as
// HTML (and its own encoded literals, up to maxScriptDepth levels).
// Phishing pages sent as attachments hide their form and links this way
// (document.write(unescape("%3Cform%20action..."))). The bytes decoded
// count against the message's inflate budget. [Set.AddHTML] calls it.
func (s *Set) AddScriptWritten(doc []byte) { s.addScriptWritten(doc, 0) }

func (s *Set) addScriptWritten(doc []byte, depth int) {
	if depth >= maxScriptDepth {
		return
	}
	literals := 0
	// One pass over the opening parentheses, rare in most documents,
	// each checked for a decoder's name before it.
	for i := 0; literals < maxScriptLiterals && !s.full && !s.work.exhausted(); {
		j := bytes.IndexByte(doc[i:], '(')
		if j < 0 {
			return
		}
		call := i + j
		i = call + 1
		decode := scriptDecoder(doc[:call])
		if decode == nil {
			continue
		}
		lit, _, ok := stringLiteral(doc[call+1:])
		if !ok || len(lit) == 0 {
			continue
		}
		literals++
		if s.work.inflated+len(lit) > MaxInflatePerMessage {
			s.work.truncated = true
			return
		}
		s.work.inflated += len(lit)
		page := decode(lit)
		s.scanHTML(page)
		s.addScriptWritten(page, depth+1)
	}
}

// scriptDecoder returns the decoder whose name ends before, or nil.
func scriptDecoder(before []byte) func([]byte) []byte {
	for _, d := range scriptDecoders {
		if bytes.HasSuffix(before, []byte(d.name)) {
			return d.decode
		}
	}
	return nil
}

// stringLiteral reads a JavaScript string literal ('…', "…" or `…`) at
// the start of b, after white space, and returns its body as written
// (escapes kept), what follows it, and whether there was one.
func stringLiteral(b []byte) (lit, rest []byte, ok bool) {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '"' && b[0] != '\'' && b[0] != '`' {
		return nil, b, false
	}
	q := b[0]
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case q:
			return b[1:i], b[i+1:], true
		}
	}
	return nil, b[1:], false
}

// percentDecode decodes %XX escapes, and with unicode the %uXXXX escapes
// of unescape, leaving malformed escapes as written.
func percentDecode(b []byte, unicode bool) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '%' {
			if unicode && i+5 < len(b) && (b[i+1] == 'u' || b[i+1] == 'U') {
				if r, ok := hexValue(b[i+2 : i+6]); ok {
					out = utf8.AppendRune(out, rune(r))
					i += 5
					continue
				}
			}
			if i+2 < len(b) {
				if v, ok := hexValue(b[i+1 : i+3]); ok {
					out = append(out, byte(v))
					i += 2
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// hexValue returns the value of the hex digits of b.
func hexValue(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// decodeBase64Literal decodes the base64 of atob, or returns nothing when
// the literal is not base64.
func decodeBase64Literal(b []byte) []byte {
	out, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		out, err = base64.RawStdEncoding.DecodeString(string(b))
		if err != nil {
			return nil
		}
	}
	return out
}
