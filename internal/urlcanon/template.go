package urlcanon

import "strings"

// Placeholders [Template] puts in place of variable path segments.
const (
	PlaceNum   = "{num}"   // digits only
	PlaceHex   = "{hex}"   // 8 or more hex digits, at least one a-f
	PlaceUUID  = "{uuid}"  // 8-4-4-4-12 hex digits
	PlaceEmail = "{email}" // local@domain.tld
	PlaceB64   = "{b64}"   // 12 or more base64 / base64url characters mixing cases and digits
)

// Template returns the path with every variable segment replaced by a
// placeholder, and how many segments were replaced. A segment with a short
// file extension keeps it: "/inv/8f3a9c0d11.php" becomes "/inv/{hex}.php".
// path is a canonical path as [Parse] returns it.
func Template(path string) (string, int) {
	if path == "" || path == "/" {
		return "/", 0
	}
	// The builder is started at the first variable segment: most paths
	// have none and are returned as they are.
	var b strings.Builder
	vars := 0
	rest := path
	for len(rest) > 0 {
		if rest[0] == '/' {
			if vars > 0 {
				b.WriteByte('/')
			}
			rest = rest[1:]
			continue
		}
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		seg := rest[:end]
		done := len(path) - len(rest) // bytes of path before seg
		rest = rest[end:]
		stem, ext := seg, ""
		if i := strings.LastIndexByte(seg, '.'); i > 0 && len(seg)-i <= 6 && isAlnum(seg[i+1:]) {
			stem, ext = seg[:i], seg[i:]
		}
		p := classify(stem)
		if p == "" {
			p, ext = classify(seg), ""
		}
		switch {
		case p != "":
			if vars == 0 {
				b.Grow(len(path))
				b.WriteString(path[:done])
			}
			b.WriteString(p)
			b.WriteString(ext)
			vars++
		case vars > 0:
			b.WriteString(seg)
		}
	}
	if vars == 0 {
		return path, 0
	}
	return b.String(), vars
}

// classify returns the placeholder for a variable segment, "" for a
// literal one.
func classify(s string) string {
	if s == "" {
		return ""
	}
	if allIn(s, isDigit) {
		return PlaceNum
	}
	if isUUID(s) {
		return PlaceUUID
	}
	if isEmail(s) {
		return PlaceEmail
	}
	if len(s) >= 8 && allIn(s, isHex) {
		return PlaceHex
	}
	if len(s) >= 12 && allIn(s, isB64) {
		var upper, lower, digit bool
		for i := 0; i < len(s); i++ {
			c := s[i]
			upper = upper || c >= 'A' && c <= 'Z'
			lower = lower || c >= 'a' && c <= 'z'
			digit = digit || isDigit(c)
		}
		n := 0
		for _, v := range []bool{upper, lower, digit} {
			if v {
				n++
			}
		}
		if n >= 2 && (digit || upper && lower && hasCaseChanges(s, 3)) {
			return PlaceB64
		}
	}
	return ""
}

// hasCaseChanges reports whether s switches between upper and lower case
// at least n times, which words ("LoginPage") rarely do and tokens do.
func hasCaseChanges(s string, n int) bool {
	changes := 0
	prevUpper := s[0] >= 'A' && s[0] <= 'Z'
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if !prevUpper {
				changes++
			}
			prevUpper = true
		} else if c >= 'a' && c <= 'z' {
			if prevUpper {
				changes++
			}
			prevUpper = false
		}
	}
	return changes >= n
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') {
		return false
	}
	dom := s[at+1:]
	dot := strings.LastIndexByte(dom, '.')
	return dot > 0 && dot < len(dom)-1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isB64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '+' || c == '=' || c == '-' || c == '_'
}

func isAlnum(s string) bool {
	return s != "" && allIn(s, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) })
}

func allIn(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}
