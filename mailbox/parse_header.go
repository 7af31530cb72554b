package mailbox

import (
	"bytes"
	"io"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
)

// maxHeaderFields caps the header fields kept per header block; a hostile
// message cannot make Parse keep millions of them.
const maxHeaderFields = 10000

// rawField is one header field as written: the name and the unfolded value
// (line breaks of folded lines removed, the folding white space kept).
type rawField struct {
	key   string
	value string
}

// header is a header block in order.
type header []rawField

// get returns the value of the first field named key (case-insensitive).
func (h header) get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// has reports whether a field named key is present.
func (h header) has(key string) bool {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return true
		}
	}
	return false
}

// readHeader splits b into its header block and body. It is lenient in the
// way common mail readers are: LF and CRLF line ends are both accepted, a
// leading mbox "From " line is skipped, a name may be followed by white
// space before the colon, and a line that is neither a field nor a
// continuation ends the header and starts the body (RFC 5322 section 2.2
// requires the empty line; mail in the wild sometimes lacks it). Problems
// are reported through note; the header and body are always returned.
func readHeader(b []byte, note func(string)) (header, []byte) {
	var h header
	// The field being read: its value spans b[valStart:valEnd], line
	// breaks of continuation lines included (folded is true then).
	key := ""
	valStart, valEnd := 0, 0
	folded := false
	flush := func() {
		if key == "" {
			return
		}
		v := b[valStart:valEnd]
		if folded {
			v = unfold(v)
		}
		h = append(h, rawField{key: key, value: string(v)})
		key = ""
	}
	i := 0
	first := true
	dropped := false
	for i < len(b) {
		end := bytes.IndexByte(b[i:], '\n')
		lineEnd, next := len(b), len(b)
		if end >= 0 {
			lineEnd, next = i+end, i+end+1
		}
		if lineEnd > i && b[lineEnd-1] == '\r' {
			lineEnd--
		}
		line := b[i:lineEnd]
		if len(line) == 0 {
			flush()
			return h, b[next:]
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key != "" {
				valEnd = lineEnd
				folded = true
			} else if first {
				note("header starts with a continuation line")
			}
			first = false
			i = next
			continue
		}
		if bytes.HasPrefix(line, []byte("From ")) || bytes.HasPrefix(line, []byte(">From ")) {
			// An mbox separator line, usually first, sometimes after
			// fields a forwarding tool added.
			first = false
			i = next
			continue
		}
		first = false
		flush()
		colon := bytes.IndexByte(line, ':')
		name := ""
		if colon > 0 {
			name = string(bytes.TrimRight(line[:colon], " \t"))
		}
		if !validFieldName(name) || bytes.HasPrefix(line, []byte("--")) {
			// A line starting with "--" is a multipart delimiter, never a
			// field.
			note("header line without a field name; the body starts there")
			return h, b[i:]
		}
		if len(h) >= maxHeaderFields {
			if !dropped {
				dropped = true
				note("more than 10000 header fields; the rest are ignored")
			}
			i = next
			continue
		}
		key, valStart, valEnd, folded = name, i+colon+1, lineEnd, false
		i = next
	}
	flush()
	if len(b) > 0 {
		note("no empty line after the header: the message has no body")
	}
	return h, nil
}

// unfold removes the line breaks (CR and LF) of a folded field value and
// keeps the white space that follows them (RFC 5322 section 2.2.3).
func unfold(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return out
}

// validFieldName reports whether s is a field name: printable US-ASCII
// except colon (RFC 5322 section 2.2).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// decodeText decodes RFC 2047 encoded words in a header value and trims
// the surrounding white space. Bytes that are not UTF-8 (raw 8-bit headers)
// are read as ISO-8859-1.
func decodeText(v string) string {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "=?") {
		v = decodeWords(v)
	}
	return toUTF8(v)
}

// decodeWords decodes the encoded words (RFC 2047 section 2) in v, more
// leniently than mime.WordDecoder, which gives up on the whole value at
// the first fault: a word that does not parse is kept as written and the
// others are still decoded; base64 is read as in bodies (bad padding
// tolerated); white space between adjacent encoded words is dropped
// (section 6.2) and their bytes are joined before charset conversion, so a
// character split across two words survives; a word in an unknown charset
// is read as UTF-8 when valid, else as ISO-8859-1. The language suffix of
// RFC 2231 section 5 ("utf-8*en") is ignored.
func decodeWords(v string) string {
	var out strings.Builder
	var pending []byte // decoded bytes of adjacent words in pendingCS
	pendingCS := ""
	flush := func() {
		if pending == nil {
			return
		}
		d, ok := charsetDecode(pendingCS, pending)
		if !ok {
			d = pending
		}
		out.WriteString(toUTF8(string(d)))
		pending = nil
	}
	afterWord := false
	for i := 0; i < len(v); {
		k := strings.Index(v[i:], "=?")
		if k < 0 {
			flush()
			out.WriteString(v[i:])
			break
		}
		between := v[i : i+k]
		cs, enc, text, end, ok := encodedWord(v, i+k)
		if !ok {
			flush()
			out.WriteString(v[i : i+k+2])
			i += k + 2
			afterWord = false
			continue
		}
		if !afterWord || strings.Trim(between, " \t\r\n") != "" {
			flush()
			out.WriteString(between)
		}
		var decoded []byte
		if enc == 'b' {
			decoded, _ = decodeBase64([]byte(text))
		} else {
			decoded = decodeQWord(text)
		}
		if pending != nil && !strings.EqualFold(cs, pendingCS) {
			flush()
		}
		pendingCS = cs
		pending = append(pending, decoded...)
		if pending == nil {
			pending = []byte{}
		}
		i = end
		afterWord = true
	}
	flush()
	return out.String()
}

// encodedWord reads the encoded word "=?charset?encoding?text?=" at v[at:];
// enc is 'b' or 'q', end the index after the word.
func encodedWord(v string, at int) (cs string, enc byte, text string, end int, ok bool) {
	rest := v[at+2:]
	q1 := strings.IndexByte(rest, '?')
	if q1 <= 0 || q1 > 64 || strings.ContainsAny(rest[:q1], " \t\r\n") {
		return "", 0, "", 0, false
	}
	cs = rest[:q1]
	if star := strings.IndexByte(cs, '*'); star >= 0 {
		cs = cs[:star]
	}
	if len(rest) < q1+3 || rest[q1+2] != '?' {
		return "", 0, "", 0, false
	}
	switch rest[q1+1] {
	case 'b', 'B':
		enc = 'b'
	case 'q', 'Q':
		enc = 'q'
	default:
		return "", 0, "", 0, false
	}
	body := rest[q1+3:]
	e := strings.Index(body, "?=")
	if e < 0 {
		return "", 0, "", 0, false
	}
	return cs, enc, body[:e], at + 2 + q1 + 3 + e + 2, true
}

// decodeQWord decodes the Q encoding (RFC 2047 section 4.2): "_" is a
// space, "=XX" a byte; a malformed escape is kept as written.
func decodeQWord(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s):
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// toUTF8 returns s unchanged when it is valid UTF-8, and otherwise reads
// it as ISO-8859-1.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(rune(s[i]))
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// parseAddresses returns the lower-cased addresses of an address-list
// header value, and the decoded display name of the first one, read by
// go-message (net/mail's RFC 5322 parser with every charset). When the
// value is not a valid RFC 5322 address list it falls back to picking out
// what looks like addresses, as mail clients do.
func parseAddresses(v string) (addrs []string, firstName string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, ""
	}
	if list, err := gomail.ParseAddressList(v); err == nil {
		for i, a := range list {
			if i == 0 {
				firstName = decodeText(a.Name)
			}
			if a.Address != "" {
				addrs = append(addrs, strings.ToLower(a.Address))
			}
		}
		return addrs, firstName
	}
	return looseAddresses(v)
}

// looseAddresses picks addresses out of a malformed address list: the
// contents of angle brackets, or else the words containing "@".
func looseAddresses(v string) (addrs []string, firstName string) {
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		firstName = decodeText(strings.Trim(strings.TrimSpace(v[:lt]), `"' `))
		rest := v
		for {
			lt := strings.IndexByte(rest, '<')
			if lt < 0 {
				break
			}
			gt := strings.IndexByte(rest[lt:], '>')
			if gt < 0 {
				break
			}
			a := strings.TrimSpace(rest[lt+1 : lt+gt])
			if strings.Contains(a, "@") {
				addrs = append(addrs, strings.ToLower(a))
			}
			rest = rest[lt+gt+1:]
		}
	}
	if len(addrs) == 0 {
		for _, w := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')'
		}) {
			w = strings.Trim(w, `'[]`)
			if at := strings.IndexByte(w, '@'); at > 0 && at < len(w)-1 {
				addrs = append(addrs, strings.ToLower(w))
			}
		}
	}
	return addrs, firstName
}

// parseMessageID returns the first msg-id of v without angle brackets, or
// the trimmed value when it has none.
func parseMessageID(v string) string {
	v = strings.TrimSpace(v)
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		if gt := strings.IndexByte(v[lt:], '>'); gt > 0 {
			return strings.TrimSpace(v[lt+1 : lt+gt])
		}
		return strings.TrimSpace(v[lt+1:])
	}
	if f := strings.Fields(v); len(f) > 0 {
		return f[0]
	}
	return ""
}

// parseReturnPath returns the address of a Return-Path value, "" for the
// null reverse-path "<>".
func parseReturnPath(v string) string {
	v = strings.TrimSpace(v)
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		rest := v[lt+1:]
		if gt := strings.IndexByte(rest, '>'); gt >= 0 {
			rest = rest[:gt]
		}
		return strings.ToLower(strings.TrimSpace(rest))
	}
	if f := strings.Fields(v); len(f) > 0 {
		return strings.ToLower(f[0])
	}
	return ""
}

// dateLayouts are tried, in order, on Date values net/mail cannot read.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04:05 -0700 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon, January 2, 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon, Jan 2 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15.04.05 -0700",
	"Monday, 2 Jan 2006 15:04:05 -0700",
	"Monday, January 2, 2006 3:04 PM",
	"Monday, January 2, 2006 3:04:05 PM -0700",
	time.RFC3339,
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"02.01.2006 15:04:05 -0700",
	"02.01.2006 15:04:05",
	"2 Jan 06 3:04:05 PM",
	"2 Jan 2006 3:04:05 PM",
	"Mon, 2 Jan 2006 3:04:05 PM -0700",
	"Mon, 2 Jan 06 3:04:05 PM",
	"1/2/2006 3:04:05 PM",
}

// maxDateLen caps the Date values parseDate reads; real ones, comments
// included, are far shorter.
const maxDateLen = 256

// parseDate reads a Date value leniently; it returns the zero time when
// nothing fits.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxDateLen {
		return time.Time{}
	}
	if t, ok := fastDate(v); ok {
		return t
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	// Drop comments, collapse white space, and a day name or offset
	// spelled in unusual ways.
	for {
		lp := strings.LastIndexByte(v, '(')
		if lp < 0 {
			break
		}
		rp := strings.IndexByte(v[lp:], ')')
		if rp < 0 {
			v = v[:lp]
		} else {
			v = v[:lp] + v[lp+rp+1:]
		}
	}
	v = strings.Join(strings.Fields(v), " ")
	v = strings.ReplaceAll(v, ",,", ",")
	v = strings.ReplaceAll(v, " ,", ",")
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	// A day name without a comma ("Mon 2 Jan 2006 ...").
	if sp := strings.IndexByte(v, ' '); sp == 3 && !strings.Contains(v[:sp], ",") {
		if t, err := mail.ParseDate(v[:sp] + "," + v[sp:]); err == nil {
			return t
		}
	}
	return time.Time{}
}

// charsetDecode converts b from the named charset to UTF-8. ok is false
// when the charset is unknown; b is then returned unchanged.
func charsetDecode(name string, b []byte) (out []byte, ok bool) {
	n := strings.ToLower(strings.Trim(strings.TrimSpace(name), `"'`))
	switch n {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "us_ascii", "ansi_x3.4-1968":
		return b, true
	}
	r, err := charset.Reader(n, bytes.NewReader(b))
	if err != nil {
		return b, false
	}
	d, err := io.ReadAll(r)
	if err != nil {
		return b, false
	}
	return d, true
}

// fillHeader sets the header fields of p from h.
func fillHeader(p *Parsed, h header) {
	p.Headers = make([]HeaderField, 0, len(h))
	var haveFrom, haveRP, haveID, haveSubject, haveDate bool
	for _, f := range h {
		p.Headers = append(p.Headers, HeaderField{Key: f.key, Value: decodeText(f.value)})
		switch strings.ToLower(f.key) {
		case "subject":
			if !haveSubject {
				haveSubject = true
				p.Subject = p.Headers[len(p.Headers)-1].Value
			}
		case "from":
			if !haveFrom {
				haveFrom = true
				addrs, name := parseAddresses(f.value)
				if len(addrs) > 0 {
					p.From = addrs[0]
				}
				p.FromName = name
			}
		case "return-path":
			if !haveRP {
				haveRP = true
				p.EnvelopeFrom = parseReturnPath(f.value)
			}
		case "reply-to":
			a, _ := parseAddresses(f.value)
			p.ReplyTo = append(p.ReplyTo, a...)
		case "to":
			a, _ := parseAddresses(f.value)
			p.To = append(p.To, a...)
		case "cc":
			a, _ := parseAddresses(f.value)
			p.Cc = append(p.Cc, a...)
		case "bcc":
			a, _ := parseAddresses(f.value)
			p.Bcc = append(p.Bcc, a...)
		case "message-id":
			if !haveID {
				haveID = true
				p.MessageID = parseMessageID(f.value)
			}
		case "date":
			if !haveDate {
				haveDate = true
				p.Date = parseDate(f.value)
			}
		case "received":
			p.Received = append(p.Received, strings.TrimSpace(f.value))
		}
	}
}
