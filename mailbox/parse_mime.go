package mailbox

import (
	"bytes"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// parseMediaValue reads a Content-Type or Content-Disposition value: the
// lower-cased value before the first ";" and its parameters, keys
// lower-cased. It accepts what mail in the wild contains: unquoted values
// with spaces, missing quotes, duplicate parameters (the first wins), RFC
// 2231 continuations and charsets (section 3 and 4) in any charset, and
// RFC 2047 encoded words inside quoted values (not allowed by RFC 2047
// section 5, but written by common clients).
func parseMediaValue(v string) (string, map[string]string) {
	v = strings.TrimSpace(v)
	semi := indexUnquoted(v, ';')
	base := v
	rest := ""
	if semi >= 0 {
		base, rest = v[:semi], v[semi+1:]
	}
	base = strings.ToLower(strings.TrimSpace(base))
	if strings.ContainsAny(base, " \t") {
		base = strings.Fields(base)[0]
	}
	if rest == "" {
		return base, nil
	}
	params := make(map[string]string)
	type section struct {
		n       int
		encoded bool
		value   string
	}
	var cont map[string][]section
	for rest != "" {
		var item string
		semi := indexUnquoted(rest, ';')
		if semi < 0 {
			item, rest = rest, ""
		} else {
			item, rest = rest[:semi], rest[semi+1:]
		}
		eq := strings.IndexByte(item, '=')
		if eq <= 0 {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(item[:eq]))
		val := unquote(strings.TrimSpace(item[eq+1:]))
		if key == "" {
			continue
		}
		if star := strings.IndexByte(key, '*'); star >= 0 {
			name := key[:star]
			spec := key[star+1:]
			encoded := strings.HasSuffix(spec, "*") || spec == ""
			spec = strings.TrimSuffix(spec, "*")
			n := 0
			if spec != "" {
				var err error
				if n, err = strconv.Atoi(spec); err != nil || n < 0 || n > 999 {
					continue
				}
			}
			if key == name+"*" {
				encoded = true
			}
			if cont == nil {
				cont = make(map[string][]section)
			}
			cont[name] = append(cont[name], section{n: n, encoded: encoded, value: val})
			continue
		}
		if _, dup := params[key]; !dup {
			params[key] = val
		}
	}
	for name, secs := range cont {
		sort.SliceStable(secs, func(i, j int) bool { return secs[i].n < secs[j].n })
		cs := ""
		var raw []byte
		for i, s := range secs {
			if i > 0 && s.n == secs[i-1].n {
				continue // a duplicate section
			}
			val := s.value
			if s.encoded {
				if i == 0 {
					// charset'language'value
					if q1 := strings.IndexByte(val, '\''); q1 >= 0 {
						if q2 := strings.IndexByte(val[q1+1:], '\''); q2 >= 0 {
							cs = val[:q1]
							val = val[q1+1+q2+1:]
						}
					}
				}
				raw = append(raw, percentDecode(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		if d, ok := charsetDecode(cs, raw); ok {
			raw = d
		}
		// An extended parameter wins over a plain one of the same name
		// (RFC 2231 section 4 lets senders give both).
		params[name] = toUTF8(string(raw))
	}
	for k, val := range params {
		if strings.Contains(val, "=?") {
			params[k] = decodeText(val)
		}
	}
	return base, params
}

// indexUnquoted returns the index of the first c in s outside a quoted
// string, or -1.
func indexUnquoted(s string, c byte) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case inQuote && s[i] == '\\':
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == c:
			return i
		}
	}
	return -1
}

// unquote removes the quotes of a quoted-string and its backslash escapes;
// an unquoted value is returned trimmed. An unterminated quote runs to the
// end.
func unquote(s string) string {
	if len(s) == 0 || s[0] != '"' {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			b.WriteByte(s[i])
			continue
		}
		if c == '"' {
			break
		}
		b.WriteByte(c)
	}
	return b.String()
}

// percentDecode decodes %XX escapes; a malformed escape is kept as written.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, s[i])
	}
	return out
}

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

// decodeTransfer undoes a Content-Transfer-Encoding. Unknown encodings and
// 7bit, 8bit and binary return src itself. problem describes what was
// wrong with the encoded data, "" when nothing was.
func decodeTransfer(enc string, src []byte) (out []byte, problem string) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return decodeBase64(src)
	case "quoted-printable":
		return decodeQP(src), ""
	case "", "7bit", "8bit", "binary":
		return src, ""
	case "x-uuencode", "uuencode", "x-uue", "uue":
		return decodeUU(src)
	default:
		return src, "unknown Content-Transfer-Encoding " + strconv.Quote(enc) + "; content kept as written"
	}
}

// identityTransfer reports whether a Content-Transfer-Encoding leaves the
// content as written (7bit, 8bit, binary or none).
func identityTransfer(enc string) bool {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

// looksQuotedPrintable reports whether content declared 7bit is really
// quoted-printable: it holds an encoded equals sign ("=3D", as in
// href=3D"...") and at least one soft line break (a line ending in "="),
// which unencoded text and HTML almost never do together.
func looksQuotedPrintable(b []byte) bool {
	if !bytes.Contains(b, []byte("=3D")) && !bytes.Contains(b, []byte("=3d")) {
		return false
	}
	return bytes.Contains(b, []byte("=\n")) || bytes.Contains(b, []byte("=\r\n"))
}

// decodeUU decodes uuencoded data: the lines between "begin <mode>
// <name>" and "end". Each line starts with a character giving its length
// in bytes; characters carry six bits each as (c-32)&63, so both space and
// backquote are zero. A short line is padded with zero bits.
func decodeUU(src []byte) ([]byte, string) {
	rest := src
	for {
		if len(rest) == 0 {
			return src, "uuencoded data without a begin line; content kept as written"
		}
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if bytes.HasPrefix(line, []byte("begin ")) {
			mode, _, _ := bytes.Cut(bytes.TrimPrefix(line, []byte("begin ")), []byte(" "))
			if _, err := strconv.ParseUint(string(mode), 8, 32); err == nil {
				break
			}
		}
	}
	out := make([]byte, 0, len(rest)*3/4)
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if string(bytes.TrimSpace(line)) == "end" {
			return out, ""
		}
		if len(line) == 0 {
			return out, "uuencoded data truncated"
		}
		n := int((line[0] - 32) & 63)
		var quad [4]byte
		for j := 1; n > 0; j += 4 {
			for k := range quad {
				quad[k] = 0
				if j+k < len(line) {
					quad[k] = (line[j+k] - 32) & 63
				}
			}
			chunk := [3]byte{quad[0]<<2 | quad[1]>>4, quad[1]<<4 | quad[2]>>2, quad[2]<<6 | quad[3]}
			take := min(n, 3)
			out = append(out, chunk[:take]...)
			n -= take
		}
	}
	return out, "uuencoded data without an end line"
}

// decodeBase64 decodes base64 leniently, as common mail readers do: line
// breaks and other characters outside the alphabet are skipped, decoding
// stops after the padding that completes a group, and missing padding is
// tolerated. A trailing single character (6 bits, no whole byte) is
// dropped.
func decodeBase64(src []byte) ([]byte, string) {
	// Room for every group plus a partial one at the end.
	dst := make([]byte, len(src)/4*3+3)
	// The standard decoder skips CR and LF; well-formed bodies take this
	// path.
	if n, err := base64.StdEncoding.Decode(dst, src); err == nil {
		return dst[:n], ""
	}
	var quad [4]byte
	qn, pads, n := 0, 0, 0
	bad := false
	for i, c := range src {
		if c == '=' {
			if qn >= 2 {
				pads++
				if qn+pads >= 4 {
					for _, c := range src[i+1:] {
						if b64Value[c] != 0xff {
							bad = true
							break
						}
					}
					break
				}
			}
			continue
		}
		v := b64Value[c]
		if v == 0xff {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				bad = true
			}
			continue
		}
		if pads > 0 {
			// Data after incomplete padding: the padding was stray.
			bad = true
			pads = 0
		}
		quad[qn] = v
		qn++
		if qn == 4 {
			dst[n] = quad[0]<<2 | quad[1]>>4
			dst[n+1] = quad[1]<<4 | quad[2]>>2
			dst[n+2] = quad[2]<<6 | quad[3]
			n += 3
			qn = 0
		}
	}
	problem := ""
	switch qn {
	case 1:
		problem = "base64 data ends with a lone character"
	case 2:
		dst[n] = quad[0]<<2 | quad[1]>>4
		n++
		if pads == 0 {
			problem = "base64 padding missing"
		}
	case 3:
		dst[n] = quad[0]<<2 | quad[1]>>4
		dst[n+1] = quad[1]<<4 | quad[2]>>2
		n += 2
		if pads == 0 {
			problem = "base64 padding missing"
		}
	}
	if bad && problem == "" {
		problem = "base64 data contains characters outside the alphabet or after the padding"
	}
	return dst[:n], problem
}

// b64Value maps a byte to its base64 value, 0xff for bytes outside the
// alphabet.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeQP decodes quoted-printable (RFC 2045 section 6.7) leniently: "="
// at the end of a line is a soft line break, "=XX" with hex digits of
// either case is a byte, "==" is "=", and any other "=" is kept as
// written. Line ends and trailing white space are kept.
func decodeQP(src []byte) []byte {
	out := make([]byte, 0, len(src))
	for i := 0; i < len(src); {
		c := src[i]
		if c != '=' {
			// Copy the run up to the next '='.
			j := i + 1
			for j < len(src) && src[j] != '=' {
				j++
			}
			out = append(out, src[i:j]...)
			i = j
			continue
		}
		i++
		if i >= len(src) {
			break
		}
		switch {
		case src[i] == '\n':
			i++
		case src[i] == '\r':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				i++
			}
		case src[i] == '=':
			out = append(out, '=')
			i++
		default:
			if i+1 < len(src) {
				if h, ok := unhex(src[i]); ok {
					if l, ok := unhex(src[i+1]); ok {
						out = append(out, h<<4|l)
						i += 2
						continue
					}
				}
			}
			out = append(out, '=')
		}
	}
	return out
}
