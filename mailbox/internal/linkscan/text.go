package linkscan

import (
	"bytes"
	"strings"
)

// MaxURLs caps the URLs a [Set] collects; it is mailbox.MaxURLs.
const MaxURLs = 10000

// maxURLLen caps the length of one URL; longer candidates are cut there.
const maxURLLen = 8192

// Set collects the distinct URLs of one message in order of first
// appearance, up to MaxURLs, and holds the message's budget for reading
// its attached files. Its zero value is empty.
type Set struct {
	list []string
	seen map[string]struct{}
	full bool
	// work is what reading attached files has spent of the message's
	// budget.
	work budget
}

// URLs returns the URLs recorded, in order of first appearance.
func (s *Set) URLs() []string { return s.list }

// Full reports whether URLs beyond MaxURLs were ignored.
func (s *Set) Full() bool { return s.full }

// Truncated reports whether the budget for attached files ran out, so
// that files or parts of files were not read.
func (s *Set) Truncated() bool { return s.work.truncated }

// linearSeen is how many URLs a Set compares one by one before it
// indexes them in a map: most messages have a few links.
const linearSeen = 16

// add records u unless it was seen. It reports false once the set is full.
func (s *Set) add(u string) bool {
	if s.contains(u) {
		return true
	}
	return s.addNew(u)
}

// addNew is add for a u that is not in the set.
func (s *Set) addNew(u string) bool {
	if len(s.list) >= MaxURLs {
		s.full = true
		return false
	}
	if s.list == nil {
		s.list = make([]string, 0, 8)
	}
	s.list = append(s.list, u)
	if s.seen != nil {
		s.seen[u] = struct{}{}
	} else if len(s.list) > linearSeen {
		s.seen = make(map[string]struct{}, 8*linearSeen)
		for _, v := range s.list {
			s.seen[v] = struct{}{}
		}
	}
	return true
}

// contains reports whether u was recorded.
func (s *Set) contains(u string) bool {
	if s.seen != nil {
		_, ok := s.seen[u]
		return ok
	}
	for _, v := range s.list {
		if v == u {
			return true
		}
	}
	return false
}

// containsBytes is contains for a []byte, without converting it.
func (s *Set) containsBytes(u []byte) bool {
	if s.seen != nil {
		_, ok := s.seen[string(u)]
		return ok
	}
	for _, v := range s.list {
		if v == string(u) {
			return true
		}
	}
	return false
}

// AddHrefBytes is AddHref for a decoded attribute value; it copies v only
// when it is a link not seen yet.
func (s *Set) AddHrefBytes(v []byte) {
	v = bytes.TrimSpace(v)
	if bytes.IndexByte(v, '\n') >= 0 || bytes.IndexByte(v, '\r') >= 0 || bytes.IndexByte(v, '\t') >= 0 {
		s.AddHref(string(v))
		return
	}
	if len(v) > maxURLLen {
		v = v[:maxURLLen]
	}
	if hasLinkPrefixBytes(v) && !s.containsBytes(v) {
		s.addNew(string(v))
	}
}

// AddHref records an attribute value that is a link when it is an
// absolute http, https or ftp URL or starts with "www.". Tabs and line
// breaks inside the value are removed, as browsers do (WHATWG URL
// standard, basic URL parser).
func (s *Set) AddHref(v string) {
	v = strings.TrimSpace(v)
	if hasTabOrNewline(v) {
		v = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, v)
	}
	if len(v) > maxURLLen {
		v = v[:maxURLLen]
	}
	if hasLinkPrefix(v) {
		s.add(v)
	}
}

// hasTabOrNewline reports whether v contains a tab, CR or LF.
func hasTabOrNewline(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\t' || c == '\r' || c == '\n' {
			return true
		}
	}
	return false
}

// hasLinkPrefix reports whether v starts with http://, https://, ftp://
// or www. (any case) followed by something.
func hasLinkPrefix(v string) bool {
	for _, p := range [...]string{"http://", "https://", "ftp://", "www."} {
		if len(v) > len(p) && strings.EqualFold(v[:len(p)], p) {
			return true
		}
	}
	return false
}

// hasLinkPrefixBytes is hasLinkPrefix for a []byte. The prefixes are
// ASCII, and a non-ASCII rune is never the same length in bytes as the
// ASCII letter it folds to, so comparing ASCII letters without case is
// what strings.EqualFold does here.
func hasLinkPrefixBytes(v []byte) bool {
	for _, p := range [...]string{"http://", "https://", "ftp://", "www."} {
		if len(v) > len(p) && equalFoldASCII(v[:len(p)], p) {
			return true
		}
	}
	return false
}

// equalFoldASCII reports whether b equals the lower-case ASCII string p,
// ignoring the case of ASCII letters.
func equalFoldASCII(b []byte, p string) bool {
	if len(b) != len(p) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// AddText records the URLs written in plain text: http://, https:// and
// ftp:// URLs and www.-prefixed host names. A URL ends at white space, a
// control character or one of <>"`; trailing punctuation (.,;:!?'*) and
// closing brackets without a matching opening one are not part of it, so
// "(see http://example.com/a_(b).)" yields "http://example.com/a_(b)".
func (s *Set) AddText(text []byte) {
	sep := -2 // index of the next "://" at or after i; -1 when none; -2 unknown
	for i := 0; i < len(text) && !s.full; {
		if sep == -2 || (sep >= 0 && sep < i) {
			sep = bytes.Index(text[i:], []byte("://"))
			if sep >= 0 {
				sep += i
			}
		}
		lim := len(text)
		if sep >= 0 {
			lim = sep
		}
		www := indexWWW(text, i, lim)
		var start, end int
		switch {
		case www >= 0:
			i = www + 4
			if www > 0 {
				if c := text[www-1]; isSchemeChar(c) || c == '/' || c == '@' || c == '_' || c == '%' {
					continue
				}
			}
			start, end = www, scanURL(text, www+4)
			if end == www+4 {
				continue
			}
		case sep >= 0:
			i = sep + 3
			switch {
			case hasSuffixFold(text[:sep], "https"):
				start = sep - 5
			case hasSuffixFold(text[:sep], "http"):
				start = sep - 4
			case hasSuffixFold(text[:sep], "ftp"):
				start = sep - 3
			default:
				continue
			}
			end = scanURL(text, sep+3)
			if end == sep+3 {
				continue
			}
		default:
			return
		}
		end = trimURLEnd(text, start, end)
		if end > start {
			s.add(string(text[start:end]))
		}
		if end > i {
			i = end
		}
	}
}

// indexWWW returns the index of the first "www." of any case in b[i:lim+3]
// that starts before lim, or -1.
func indexWWW(b []byte, i, lim int) int {
	for j := i + 3; j < len(b) && j < lim+3; {
		d := bytes.IndexByte(b[j:min(lim+3, len(b))], '.')
		if d < 0 {
			return -1
		}
		j += d
		if b[j-3]|0x20 == 'w' && b[j-2]|0x20 == 'w' && b[j-1]|0x20 == 'w' {
			return j - 3
		}
		j++
	}
	return -1
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func hasSuffixFold(b []byte, suffix string) bool {
	return len(b) >= len(suffix) && strings.EqualFold(string(b[len(b)-len(suffix):]), suffix)
}

// scanURL returns the end of the URL characters starting at i.
func scanURL(b []byte, i int) int {
	for i < len(b) {
		c := b[i]
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '`' {
			break
		}
		// U+00A0 NO-BREAK SPACE and U+3000 IDEOGRAPHIC SPACE end a URL too.
		if c == 0xc2 && i+1 < len(b) && b[i+1] == 0xa0 {
			break
		}
		if c == 0xe3 && i+2 < len(b) && b[i+1] == 0x80 && b[i+2] == 0x80 {
			break
		}
		i++
	}
	return i
}

// trimURLEnd drops trailing punctuation and unbalanced closing brackets
// from b[start:end] and returns the new end.
func trimURLEnd(b []byte, start, end int) int {
	if end-start > maxURLLen {
		end = start + maxURLLen
	}
	u := b[start:end]
	// Brackets still open in u: a closing one at the end is trimmed only
	// when it has no opening partner.
	var open [3]int // ( [ {
	for _, c := range u {
		switch c {
		case '(':
			open[0]++
		case ')':
			open[0]--
		case '[':
			open[1]++
		case ']':
			open[1]--
		case '{':
			open[2]++
		case '}':
			open[2]--
		}
	}
	for end > start {
		c := b[end-1]
		k := -1
		switch c {
		case '.', ',', ';', ':', '!', '?', '\'', '*':
			end--
			continue
		case ')':
			k = 0
		case ']':
			k = 1
		case '}':
			k = 2
		}
		if k >= 0 && open[k] < 0 {
			open[k]++
			end--
			continue
		}
		break
	}
	return end
}
