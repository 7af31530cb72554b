package mailbox

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// addHTMLTokenizer is the implementation of addHTML that read the
// document with the tokenizer of golang.org/x/net/html, kept as the
// reference the scanner of addHTML must agree with: for every document
// both record the same URLs in the same order.
//
// It is that implementation as it was but for the search of "url=" in a
// meta refresh: it took the offset in a lower-cased copy of the content
// and sliced the content with it, which panicked or cut the URL wrongly
// when lower-casing changed the length before "url=" (an invalid UTF-8
// byte becomes U+FFFD). Both implementations now use indexRefreshURL.
func (s *urlSet) addHTMLTokenizer(doc []byte) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	inStyle := false
	for !s.full {
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
					s.addText(raw)
				} else {
					s.addText(z.Text())
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
				if ka == want {
					if a == atom.Meta {
						content = string(v)
					} else {
						s.addHrefBytes(v)
					}
				}
			}
			if refresh {
				// content="5; url=http://example.com/"
				if i := indexRefreshURL(content); i >= 0 {
					s.addHref(strings.Trim(strings.TrimSpace(content[i+4:]), `'"`))
				}
			}
		}
	}
}
