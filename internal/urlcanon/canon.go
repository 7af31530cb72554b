package urlcanon

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Errors returned by [Canonicalize].
var (
	// ErrNotWeb means the link has a scheme other than http, https or ftp
	// (mailto:, tel:, javascript:, data:, cid: ...).
	ErrNotWeb = errors.New("urlcanon: not a web URL")
	// ErrNoHost means the URL has no host once canonicalised.
	ErrNoHost = errors.New("urlcanon: URL has no host")
)

// MaxLen is the longest input [Canonicalize] accepts, and the longest
// canonical form it returns; longer links are refused with ErrTooLong, so
// that attacker-made monsters cost nothing.
const MaxLen = 16 << 10

// ErrTooLong means the URL is longer than [MaxLen].
var ErrTooLong = errors.New("urlcanon: URL too long")

// URL is a canonical URL split into the parts clustering uses.
type URL struct {
	Scheme string // "http", "https" or "ftp"
	Host   string // canonical host, escaped
	Path   string // canonical path, starting with "/"
	// Query is the canonical query without "?"; "" also when there is
	// none (see HasQuery).
	Query string
	// HasQuery tells whether a "?" was present at all ("/q?" differs
	// from "/q").
	HasQuery bool
}

// String returns the canonical form, scheme://host/path[?query].
func (u URL) String() string {
	var b strings.Builder
	b.Grow(len(u.Scheme) + 3 + len(u.Host) + len(u.Path) + 1 + len(u.Query))
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host)
	b.WriteString(u.Path)
	if u.HasQuery {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	return b.String()
}

// RegistrableDomain returns the host's registrable domain (eTLD+1, e.g.
// "example.co.uk" for "a.b.example.co.uk") by the public suffix list, the
// address itself for an IP host, and the host when it has no registrable
// part (a public suffix, or a single label).
func (u URL) RegistrableDomain() string { return RegistrableDomain(u.Host) }

// RegistrableDomain returns the eTLD+1 of a lower-case host name, the host
// itself for an IP address or when the host has no registrable part.
func RegistrableDomain(host string) string {
	host = strings.TrimSuffix(host, ".")
	if host == "" || strings.HasPrefix(host, "[") {
		return host
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// Canonicalize returns raw in the canonical form of the Safe Browsing API
// (see the package documentation). A link without a scheme is read as
// http. It does not unwrap rewriters: call [Unwrap] first, or use [Clean].
func Canonicalize(raw string) (string, error) {
	u, err := Parse(raw)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Clean unwraps raw with [Unwrap] and canonicalises the result; it
// returns the canonical URL and the number of rewriters removed.
func Clean(raw string) (URL, int, error) {
	inner, n := Unwrap(raw)
	u, err := Parse(inner)
	return u, n, err
}

// Parse canonicalises raw as [Canonicalize] does and returns the parts.
func Parse(raw string) (URL, error) {
	if len(raw) > MaxLen {
		return URL{}, ErrTooLong
	}
	s := trimSpaceASCII(raw)
	if hasTabOrNewline(s) {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	scheme, rest, err := splitScheme(s)
	if err != nil {
		return URL{}, err
	}
	authEnd := indexPathOrQuery(rest)
	authority, rest := rest[:authEnd], rest[authEnd:]
	var path, query string
	hasQuery := false
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, query, hasQuery = rest[:i], rest[i+1:], true
	} else {
		path = rest
	}
	host, err := canonHost(authority)
	if err != nil {
		return URL{}, err
	}
	u := URL{Scheme: scheme, Host: host, Path: canonPath(path), HasQuery: hasQuery}
	if hasQuery {
		u.Query = escape(unescapeAll(query), escQuery)
	}
	// Escaping can make the canonical form longer than the input; one
	// longer than MaxLen is refused, so that every canonical URL
	// canonicalises again (to itself).
	if len(u.Scheme)+len("://")+len(u.Host)+len(u.Path)+1+len(u.Query) > MaxLen {
		return URL{}, ErrTooLong
	}
	return u, nil
}

// splitScheme returns the lower-cased scheme and what follows "://". A
// string without "://" is read as an http URL unless it starts with a
// known non-web scheme such as "mailto:".
func splitScheme(s string) (string, string, error) {
	i := 0
	for i < len(s) && isSchemeChar(s[i], i == 0) {
		i++
	}
	if i > 0 && strings.HasPrefix(s[i:], "://") {
		scheme := strings.ToLower(s[:i])
		switch scheme {
		case "http", "https", "ftp":
			return scheme, s[i+3:], nil
		}
		return "", "", ErrNotWeb
	}
	if i > 0 && i < len(s) && s[i] == ':' {
		// "mailto:x", "javascript:...", "data:...": a scheme without "//".
		// A host:port ("example.com:8080/") has a dot or digits only after.
		if !strings.Contains(s[:i], ".") && !allDigitsUntilSlash(s[i+1:]) {
			return "", "", ErrNotWeb
		}
	}
	if strings.HasPrefix(s, "//") {
		s = s[2:]
	}
	return "http", s, nil
}

func isSchemeChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return true
	case first:
		return false
	case c >= '0' && c <= '9', c == '+', c == '-', c == '.':
		return true
	}
	return false
}

func allDigitsUntilSlash(s string) bool {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n > 0 && (n == len(s) || s[n] == '/' || s[n] == '?')
}

// canonHost canonicalises the authority of a URL: user information and
// port are dropped, the host is unescaped, lower-cased, its dots cleaned
// and numeric forms read as IPv4.
func canonHost(authority string) (string, error) {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host := authority
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			host = host[:i+1]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = unescapeAll(host)
	host = lowerASCII(host)
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		if a, err := netip.ParseAddr(host[1 : len(host)-1]); err == nil && a.Is6() {
			return "[" + a.String() + "]", nil
		}
	}
	host = cleanDots(host)
	if host == "" {
		return "", ErrNoHost
	}
	if ip, ok := parseIPv4(host); ok {
		return ip, nil
	}
	if !isASCII(host) && utf8.ValidString(host) {
		if a, err := idna.Lookup.ToASCII(host); err == nil && a != "" && isASCII(a) {
			host = cleanDots(lowerASCII(a))
			if host == "" {
				return "", ErrNoHost
			}
			// Mapping can leave a numeric host ("\u00ad2130706433"
			// loses its soft hyphen): read it as IPv4 now, or a second
			// pass would.
			if ip, ok := parseIPv4(host); ok {
				return ip, nil
			}
		}
	}
	return escape(host, escHost), nil
}

// cleanDots strips leading and trailing dots and collapses runs of dots.
func cleanDots(h string) string {
	h = strings.Trim(h, ".")
	if !strings.Contains(h, "..") {
		return h
	}
	var b strings.Builder
	b.Grow(len(h))
	for i := 0; i < len(h); i++ {
		if h[i] == '.' && i > 0 && h[i-1] == '.' {
			continue
		}
		b.WriteByte(h[i])
	}
	return b.String()
}

// parseIPv4 reads h the way inet_aton does: one to four parts, each
// decimal, octal (leading 0) or hexadecimal (0x); the last part fills the
// remaining bytes. It returns the dotted-quad form.
func parseIPv4(h string) (string, bool) {
	if h == "" || strings.Count(h, ".") > 3 {
		return "", false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !isHex(c) && c != '.' && c != 'x' && c != 'X' {
			return "", false
		}
	}
	parts := strings.Split(h, ".")
	var vals [4]uint64
	for i, p := range parts {
		v, ok := parseIPPart(p)
		if !ok {
			return "", false
		}
		vals[i] = v
	}
	n := len(parts)
	for i := 0; i < n-1; i++ {
		if vals[i] > 255 {
			return "", false
		}
	}
	last := vals[n-1]
	if last >= 1<<(8*(5-n)) {
		return "", false
	}
	var ip uint32
	for i := 0; i < n-1; i++ {
		ip |= uint32(vals[i]) << (24 - 8*i)
	}
	ip |= uint32(last)
	return strconv.Itoa(int(ip>>24)) + "." + strconv.Itoa(int(ip>>16&0xff)) + "." +
		strconv.Itoa(int(ip>>8&0xff)) + "." + strconv.Itoa(int(ip&0xff)), true
}

func parseIPPart(p string) (uint64, bool) {
	if p == "" || len(p) > 12 {
		return 0, false
	}
	base := 10
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true
		}
	case len(p) > 1 && p[0] == '0':
		base, p = 8, p[1:]
	}
	v, err := strconv.ParseUint(p, base, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// canonPath unescapes the path, resolves "." and ".." segments, collapses
// empty segments and escapes it again.
func canonPath(p string) string {
	p = unescapeAll(p)
	if p == "" || p == "/" {
		return "/"
	}
	if isCanonPath(p) {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			trailing = last
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = last
		default:
			out = append(out, s)
			trailing = false
		}
	}
	var b strings.Builder
	b.Grow(len(p) + 8)
	for _, s := range out {
		b.WriteByte('/')
		b.WriteString(escape(s, escPath))
	}
	if trailing || len(out) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// isCanonPath reports whether canonPath returns the unescaped path p as
// it is: p starts with "/", has no empty segment but the last, no "." or
// ".." segment and no byte to escape.
func isCanonPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	segStart := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			if needsEscape(p[i], escPath) {
				return false
			}
			continue
		}
		seg := p[segStart:i]
		if seg == "" && i < len(p) || seg == "." || seg == ".." {
			return false
		}
		segStart = i + 1
	}
	return true
}

// trimSpaceASCII is strings.Trim(s, " \t\r\n\f\v") without building
// the cut set on every call.
func trimSpaceASCII(s string) string {
	for len(s) > 0 && isSpaceASCII(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpaceASCII(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpaceASCII(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// hasTabOrNewline reports whether s contains a tab, CR or LF.
func hasTabOrNewline(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\t' || c == '\r' || c == '\n' {
			return true
		}
	}
	return false
}

// indexPathOrQuery returns the index of the first '/', '?' or '\' of s,
// or len(s) when there is none.
func indexPathOrQuery(s string) int {
	for i := 0; i < len(s); i++ {
		// A backslash ends the authority as a slash does: browsers read
		// http URLs so (WHATWG URL standard), and https://evil\@bank/
		// goes to evil, not to bank.
		if s[i] == '/' || s[i] == '?' || s[i] == '\\' {
			return i
		}
	}
	return len(s)
}

// unescapeAll percent-decodes s until no escape is left, in one pass: a
// decoded byte may complete a new escape with what precedes it, which is
// decoded in turn, as repeated unescaping would.
func unescapeAll(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		for n := len(out); n >= 3 && out[n-3] == '%' && isHex(out[n-2]) && isHex(out[n-1]); n = len(out) {
			c := unhex(out[n-2])<<4 | unhex(out[n-1])
			out = out[:n-3]
			out = append(out, c)
		}
	}
	return string(out)
}

type escMode int

const (
	escPath escMode = iota
	escQuery
	escHost
)

// escape percent-escapes bytes <= 0x20, >= 0x7f, '#' and '%', plus '?' in
// a path and '/', '?', '@', ':' in a host, so that the result reads back
// the same.
func escape(s string, mode escMode) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i], mode) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c, mode) {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func needsEscape(c byte, mode escMode) bool {
	if c <= 0x20 || c >= 0x7f || c == '#' || c == '%' {
		return true
	}
	switch mode {
	case escPath:
		return c == '?'
	case escHost:
		return c == '/' || c == '?' || c == '@' || c == ':'
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
