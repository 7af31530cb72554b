package urlcanon

import (
	"encoding/base64"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// MaxUnwrap is how many nested rewriters [Unwrap] removes at most.
const MaxUnwrap = 5

// Unwrap returns the link a rewriter wrapped in raw, repeatedly (a Safe
// Links URL around a urldefense URL is unwrapped twice), and how many
// layers it removed. A link that is not rewritten, or whose rewriter keeps
// the target on its own server (Mimecast), is returned unchanged with 0.
func Unwrap(raw string) (string, int) {
	s := strings.TrimSpace(raw)
	n := 0
	for n < MaxUnwrap {
		inner, ok := unwrapOnce(s)
		if !ok || inner == "" || inner == s || !isLink(inner) {
			// What a rewriter carries is a link; anything else (a
			// stray "%" in a url= parameter) leaves the wrapper as it is.
			break
		}
		s = strings.TrimSpace(inner)
		n++
	}
	if n == 0 {
		return raw, 0
	}
	return s, n
}

// unwrapOnce removes one rewriter layer.
func unwrapOnce(s string) (string, bool) {
	if len(s) > MaxLen {
		return "", false
	}
	if !maybeRewriter(s) {
		return "", false
	}
	host, path, query := splitRaw(s)
	switch {
	case strings.HasSuffix(host, ".safelinks.protection.outlook.com"):
		return queryParam(query, "url")
	case host == "urldefense.proofpoint.com" || host == "urldefense.com" || host == "urldefense.us":
		switch {
		case strings.HasPrefix(path, "/v1/url"):
			return queryParam(query, "u")
		case strings.HasPrefix(path, "/v2/url"):
			return unwrapProofpointV2(query)
		}
		if i := strings.Index(s, "/v3/__"); i >= 0 {
			return unwrapProofpointV3(s[i:])
		}
	case isGoogleHost(host) && path == "/url":
		if v, ok := queryParam(query, "q"); ok && hasWebScheme(v) {
			return v, true
		}
		return queryParam(query, "url")
	case host == "linkprotect.cudasvc.com" && strings.HasPrefix(path, "/url"):
		return queryParam(query, "a")
	case host == "secure-web.cisco.com":
		return unwrapCisco(path, query)
	case strings.HasSuffix(host, ".trendmicro.com") && strings.Contains(path, "/clicktime/"):
		return queryParam(query, "url")
	case strings.HasSuffix(host, ".protection.sophos.com"):
		return unwrapSophos(query)
	}
	return "", false
}

// maybeRewriter is a quick test, without allocating, that s is an http(s)
// URL whose host could be one of the rewriters unwrapOnce knows.
func maybeRewriter(s string) bool {
	var rest string
	switch {
	case len(s) > 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	case len(s) > 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	default:
		return false
	}
	end := 0
	for end < len(rest) && rest[end] != '/' && rest[end] != '?' && rest[end] != '#' && rest[end] != '\\' {
		end++
	}
	host := rest[:end]
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	// Every suffix below ends in "com": most hosts fail that at once.
	if n := len(host); n >= 3 && host[n-3]|0x20 == 'c' && host[n-2]|0x20 == 'o' && host[n-1]|0x20 == 'm' {
		if hasRewriterSuffix(host) {
			return true
		}
	}
	h := host
	if len(h) > 4 && strings.EqualFold(h[:4], "www.") {
		h = h[4:]
	}
	return len(h) > 7 && strings.EqualFold(h[:7], "google.") || len(h) > 11 && strings.EqualFold(h[:11], "urldefense.")
}

// hasRewriterSuffix reports whether host ends, in any case, with the
// domain of a rewriter unwrapOnce knows.
func hasRewriterSuffix(host string) bool {
	for _, suffix := range []string{"safelinks.protection.outlook.com", "urldefense.proofpoint.com", "urldefense.com",
		"cudasvc.com", "secure-web.cisco.com", "trendmicro.com", "protection.sophos.com"} {
		if len(host) >= len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix) {
			return true
		}
	}
	return false
}

// isGoogleHost reports whether h is Google's search domain in some country
// ("google." and a public suffix, as google.com or google.co.uk), with or
// without "www.". A host of another domain that merely starts with
// "google." (google.attacker.example) is not: unwrapping it would give an
// attacker's link the key of the site it names.
func isGoogleHost(h string) bool {
	h = strings.TrimPrefix(h, "www.")
	if !strings.HasPrefix(h, "google.") {
		return false
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	return err == nil && d == h
}

// isLink reports whether an unwrapped value is a link: it has a web
// scheme or starts with "www.".
func isLink(s string) bool {
	return hasWebScheme(s) || len(s) >= 4 && strings.EqualFold(s[:4], "www.")
}

func hasWebScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "ftp://")
}

// splitRaw returns the lower-cased host, the raw path and the raw query
// of an http(s) URL, without the validation (and allocations) of
// url.Parse: rewritten links are often not quite valid.
func splitRaw(s string) (host, path, query string) {
	rest := s
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	end := indexPathOrQuery(rest)
	host, rest = rest[:end], rest[end:]
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(host)
	path, query, _ = strings.Cut(rest, "?")
	return host, path, query
}

// queryParam returns the first value of the query parameter name in the
// raw query q, decoded; it scans q instead of building the whole map.
func queryParam(q, name string) (string, bool) {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			if uk, ok := queryUnescape(k); !ok || uk != name {
				continue
			}
		}
		dv, ok := queryUnescape(v)
		if !ok || dv == "" {
			return "", false
		}
		return dv, true
	}
	return "", false
}

// queryUnescape decodes a query component as url.QueryUnescape does ('+'
// is a space, "%XX" a byte) in one pass, except that a "%" not followed by
// two hex digits is kept as it is, as browsers do, so that a stray "%"
// cannot keep a link wrapped (and the canonical form, which escapes that
// "%", unwraps as the link did). s itself is returned when there is
// nothing to decode; ok is always true.
func queryUnescape(s string) (string, bool) {
	i := 0
	for i < len(s) && s[i] != '%' && s[i] != '+' {
		i++
	}
	if i == len(s) {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				b.WriteByte('%')
				continue
			}
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		case '+':
			b.WriteByte(' ')
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// unwrapProofpointV2 decodes /v2/url?u=...: "-" stands for "%" and "_" for
// "/", then the result is percent-decoded.
func unwrapProofpointV2(query string) (string, bool) {
	v, ok := queryParam(query, "u")
	if !ok {
		return "", false
	}
	v = strings.NewReplacer("-", "%", "_", "/").Replace(v)
	out, err := url.PathUnescape(v)
	if err != nil {
		return "", false
	}
	return out, true
}

// v3RunLength maps the character after "**" to the length of the run of
// characters it stands for: A=2, B=3, ... z=53, 0..9, '-', '_'.
func v3RunLength(c byte) int {
	const runValues = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(runValues, c)
	if i < 0 {
		return -1
	}
	return i + 2
}

// unwrapProofpointV3 decodes "/v3/__URL__;BYTES!...": URL is percent-decoded
// and each "*" in it replaced by the next character of BYTES
// (base64url-decoded), each "**X" by a run of characters whose length X
// encodes.
func unwrapProofpointV3(s string) (string, bool) {
	s = strings.TrimPrefix(s, "/v3/__")
	end := strings.Index(s, "__;")
	if end < 0 {
		return "", false
	}
	enc := s[:end]
	rest := s[end+3:]
	bang := strings.IndexByte(rest, '!')
	if bang < 0 {
		return "", false
	}
	encBytes := rest[:bang]
	encoded, err := url.PathUnescape(enc)
	if err != nil {
		encoded = enc
	}
	dec, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(encBytes, "="))
	if err != nil {
		return "", false
	}
	repl := []rune(string(dec))
	var b strings.Builder
	b.Grow(len(encoded))
	for i := 0; i < len(encoded); i++ {
		if encoded[i] != '*' {
			b.WriteByte(encoded[i])
			continue
		}
		n := 1
		if i+2 < len(encoded) && encoded[i+1] == '*' {
			n = v3RunLength(encoded[i+2])
			if n < 0 {
				return "", false
			}
			i += 2
		}
		if n > len(repl) {
			return "", false
		}
		b.WriteString(string(repl[:n]))
		repl = repl[n:]
	}
	return b.String(), true
}

// unwrapCisco reads https://secure-web.cisco.com/TOKEN/ENCODED-URL: the
// last part of the path is the percent-encoded original link.
func unwrapCisco(p, query string) (string, bool) {
	for _, prefix := range []string{"http%3A", "https%3A", "http%3a", "https%3a", "http:", "https:"} {
		if i := strings.Index(p, "/"+prefix); i >= 0 {
			v, err := url.PathUnescape(p[i+1:])
			if err != nil {
				return "", false
			}
			if query != "" && !strings.Contains(v, "?") {
				v += "?" + query
			}
			return v, true
		}
	}
	return "", false
}

// unwrapSophos reads https://*.protection.sophos.com/?d=...&u=BASE64&...:
// u is the original link in base64.
func unwrapSophos(query string) (string, bool) {
	v, ok := queryParam(query, "u")
	if !ok {
		return "", false
	}
	v = strings.TrimRight(v, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && hasWebScheme(string(b)) {
			return string(b), true
		}
	}
	return "", false
}
