// Package linkscantest holds the reference the HTML scanner of linkscan
// is tested against: the tokenizer-based reading it replaced, and a
// check that both record the same URLs.
package linkscantest

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan"
)

// AddHTMLTokenizer is the implementation of [linkscan.Set.AddHTML] that
// read the document with the tokenizer of golang.org/x/net/html, kept as
// the reference the scanner of AddHTML must agree with: for every
// document both record the same URLs in the same order.
//
// It is that implementation as it was but for the search of "url=" in a
// meta refresh: it took the offset in a lower-cased copy of the content
// and sliced the content with it, which panicked or cut the URL wrongly
// when lower-casing changed the length before "url=" (an invalid UTF-8
// byte becomes U+FFFD). Both implementations now use
// [linkscan.IndexRefreshURL].
//
// Like AddHTML it then reads what the document's scripts write
// ([linkscan.Set.AddScriptWritten]).
func AddHTMLTokenizer(s *linkscan.Set, doc []byte) {
	addHTMLTokenizer(s, doc)
	s.AddScriptWritten(doc)
}

func addHTMLTokenizer(s *linkscan.Set, doc []byte) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	inStyle := false
	for !s.Full() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if !inStyle {
				// Text decodes entities, replaces NUL in raw text and
				// turns CR LF and CR into LF. Without '&' and NUL only the
				// line breaks differ, and they end a URL either way: the
				// raw bytes yield the same URLs without the copy.
				if raw := z.Raw(); bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, 0) < 0 {
					s.AddText(raw)
				} else {
					s.AddText(z.Text())
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) == atom.Style {
				inStyle = false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Style && tt == html.StartTagToken {
				inStyle = true
			}
			var want atom.Atom
			switch a {
			case atom.A, atom.Area:
				want = atom.Href
			case atom.Form:
				want = atom.Action
			case atom.Button, atom.Input:
				want = atom.Formaction
			case atom.Iframe, atom.Frame:
				want = atom.Src
			case atom.Meta:
				want = atom.Content
			default:
				continue
			}
			refresh := false
			var content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				ka := atom.Lookup(k)
				if a == atom.Meta && ka == atom.HttpEquiv && strings.EqualFold(strings.TrimSpace(string(v)), "refresh") {
					refresh = true
				}
				if ka == want || want == atom.Href && strings.EqualFold(string(k), "data-saferedirecturl") {
					if a == atom.Meta {
						content = string(v)
					} else {
						s.AddHrefBytes(v)
					}
				}
			}
			if refresh {
				// content="5; url=http://example.com/"
				if i := linkscan.IndexRefreshURL(content); i >= 0 {
					s.AddHref(strings.Trim(strings.TrimSpace(content[i+4:]), `'"`))
				}
			}
		}
	}
}

// URLs runs [linkscan.Set.AddHTML], or when oracle is set
// [AddHTMLTokenizer], on doc, and returns the URLs recorded and whether
// the set is full.
func URLs(doc []byte, oracle bool) ([]string, bool) {
	var s linkscan.Set
	if oracle {
		AddHTMLTokenizer(&s, bytes.Clone(doc))
	} else {
		s.AddHTML(doc)
	}
	return s.URLs(), s.Full()
}

// CheckSameURLs fails t when [linkscan.Set.AddHTML] and
// [AddHTMLTokenizer] record different URLs for doc, or when AddHTML
// changes doc; name says which document it is.
func CheckSameURLs(t testing.TB, name string, doc []byte) {
	t.Helper()
	orig := bytes.Clone(doc)
	want, wantFull := URLs(doc, true)
	got, gotFull := URLs(doc, false)
	if !slices.Equal(got, want) || gotFull != wantFull {
		t.Fatalf("%s: AddHTML differs from the tokenizer on %s\n got %q (full %v)\nwant %q (full %v)",
			name, clipDoc(doc), got, gotFull, want, wantFull)
	}
	if !bytes.Equal(doc, orig) {
		t.Fatalf("%s: AddHTML changed its input %s", name, clipDoc(orig))
	}
}

func clipDoc(doc []byte) string {
	if len(doc) > 2000 {
		return strconv.Quote(string(doc[:2000])) + "..."
	}
	return strconv.Quote(string(doc))
}
