package linkscan

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// AddHTML records the links of an HTML document: the href of a and area
// elements, the action of form elements and the formaction of
// buttons and inputs, the src of frame and iframe elements, the URL of a
// meta refresh, and the URLs written in its text (scripts included,
// style sheets and comments not). Image sources, style sheets and icons
// are not links a reader follows and are not collected: every newsletter
// carries dozens of logos and tracking pixels.
// Attribute values and text are entity-decoded.
//
// The document is read in place by a scanner that splits it into text,
// tags, comments and raw text exactly where the tokenizer of
// golang.org/x/net/html splits it, without building tokens: it jumps from
// one '<' to the next with bytes.IndexByte and reads the attributes of a
// tag (quoted values may hold '>') the way that tokenizer does. It
// follows the tokenizer in the details that decide what is text:
//   - comments (<!-- -->), doctypes and bogus comments (<! >, <? >, </ >,
//     and CDATA sections, which the tokenizer reads as bogus comments)
//     are skipped; "</>" is skipped too;
//   - after the start tag of script, style, textarea, title, xmp, iframe,
//     noembed, noframes or noscript, everything up to the matching end tag
//     ("</name" followed by white space, '/' or '>', in any case) is one
//     raw text, and after plaintext the rest of the document is; the end
//     of a script follows the script data states of the HTML standard
//     ("<!--" and a nested "<script" hide "</script");
//   - a tag that the document ends in the middle of ends the document, and
//     the text before it is read;
//   - a style element's text is not read, unless its start tag is
//     self-closing ("<style/>"), which the tokenizer does not treat as a
//     style start.
//
// Text is decoded as the tokenizer's Text decodes it: character
// references are replaced (not in script, style and the other raw text
// elements) and, in raw text, NUL by U+FFFD; line breaks are kept as
// written, which yields the same URLs since CR and LF both end one.
// Attribute values are decoded with the rules for attributes (a named
// reference without ';' before '=' is kept). The common references are
// decoded here; a value or text with another named reference is decoded
// by golang.org/x/net/html itself (html.UnescapeString, or a tokenizer
// over the one attribute), so the result is that package's in every case.
//
// The tests hold AddHTML to the tokenizer-based implementation it
// replaced (linkscantest.AddHTMLTokenizer): the same URLs in the same
// order for tricky documents, for the HTML of the shared corpus and under
// fuzzing (FuzzAddHTMLDifferential).
//
// Then it reads the HTML the document's scripts write from encoded
// strings ([Set.AddScriptWritten]).
func (s *Set) AddHTML(doc []byte) {
	s.scanHTML(doc)
	s.AddScriptWritten(doc)
}

// scanHTML records the links of doc as AddHTML does, without reading
// what its scripts write.
func (s *Set) scanHTML(doc []byte) {
	h := htmlScanner{doc: doc}
	h.scan(s)
}

// htmlText returns the text of an HTML document as AddHTML reads it
// (entities decoded, comments and style sheets left out, scripts and
// other raw text kept), tags removed, the boundaries of the blocks
// blockTag names as line breaks.
func htmlText(doc string) string {
	var s Set
	out := make([]byte, 0, len(doc)/2)
	h := htmlScanner{doc: []byte(doc), plain: &out}
	h.scan(&s)
	return string(out)
}

// scan reads h.doc into s, or into h.plain when it is set.
func (h *htmlScanner) scan(s *Set) {
	doc := h.doc
	text := 0 // start of the text not read yet
	for i := 0; !s.full; {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 || i+j+1 >= len(doc) {
			h.text(s, doc[text:], htmlData)
			return
		}
		k := i + j
		c := doc[k+1]
		end := 0
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			h.text(s, doc[text:k], htmlData)
			end = h.startTag(s, k+1)
			if h.plain != nil {
				h.blockBreak(k+1, end)
			}
		case c == '/':
			h.text(s, doc[text:k], htmlData)
			end = h.endTag(k + 2)
			if h.plain != nil {
				h.blockBreak(k+2, end)
			}
		case c == '!' || c == '?':
			h.text(s, doc[text:k], htmlData)
			end = markupEnd(doc, k)
		default:
			// Not markup: the '<' is text.
			i = k + 1
			continue
		}
		if end < 0 {
			return
		}
		i, text = end, end
	}
}

// htmlScanner holds the state of AddHTML. The Set is passed to its
// methods rather than held: escape analysis does not tell one field of a
// struct from another, and the scratch slices stored here would make the
// set, and the parser holding it, escape to the heap.
type htmlScanner struct {
	doc   []byte
	attrs []htmlAttr // attributes of the current tag
	buf   []byte     // decoded text or attribute value
	nul   []byte     // raw text with NUL replaced
	// plain, when set, receives the decoded text instead of the Set
	// (see htmlText); links are not read then.
	plain *[]byte
}

// blockBreak writes a line break to h.plain, which is set, when the tag whose name
// starts at i, read up to end (-1 when the document ended in it), is one
// of blockTags (none of which is followed by raw text).
func (h *htmlScanner) blockBreak(i, end int) {
	if end < 0 {
		return
	}
	name := h.doc[i:tagNameEnd(h.doc, i)]
	for _, b := range blockTags {
		if equalFoldASCII(name, b) {
			*h.plain = append(*h.plain, '\n')
			return
		}
	}
}

// blockTags are the tags whose start and end are line breaks in htmlText.
var blockTags = [...]string{"br", "p", "div", "tr", "td", "li", "pre", "hr", "table"}

// htmlAttr locates an attribute of a tag in the document: its key is
// doc[k0:k1] and its value, before decoding, doc[v0:v1]. quote is the
// quote around the value, 0 when there is none.
type htmlAttr struct {
	k0, k1, v0, v1 int
	quote          byte
}

// Kinds of text, which decide how it is decoded.
const (
	htmlData    = iota // ordinary text: references decoded
	htmlRawText        // script, style, xmp...: NUL replaced
	htmlRCDATA         // textarea, title: NUL replaced, references decoded
)

// htmlTag describes a tag AddHTML looks at: link is the attribute that
// holds a link ("content" for meta), raw the kind of the text that
// follows the start tag when it is raw text, and name the lower-case
// name of the tag.
type htmlTag struct {
	name, link string
	raw        int
}

// The tags AddHTML looks at, by the index lookupTag returns.
var htmlTags = [...]htmlTag{
	{},
	tagA:         {name: "a", link: "href"},
	tagArea:      {name: "area", link: "href"},
	tagForm:      {name: "form", link: "action"},
	tagButton:    {name: "button", link: "formaction"},
	tagInput:     {name: "input", link: "formaction"},
	tagFrame:     {name: "frame", link: "src"},
	tagIframe:    {name: "iframe", link: "src", raw: htmlRawText},
	tagMeta:      {name: "meta", link: "content"},
	tagStyle:     {name: "style", raw: htmlRawText},
	tagScript:    {name: "script", raw: htmlRawText},
	tagTextarea:  {name: "textarea", raw: htmlRCDATA},
	tagTitle:     {name: "title", raw: htmlRCDATA},
	tagNoembed:   {name: "noembed", raw: htmlRawText},
	tagNoframes:  {name: "noframes", raw: htmlRawText},
	tagNoscript:  {name: "noscript", raw: htmlRawText},
	tagXmp:       {name: "xmp", raw: htmlRawText},
	tagPlaintext: {name: "plaintext", raw: htmlRawText},
}

const (
	tagA = 1 + iota
	tagArea
	tagForm
	tagButton
	tagInput
	tagFrame
	tagIframe
	tagMeta
	tagStyle
	tagScript
	tagTextarea
	tagTitle
	tagNoembed
	tagNoframes
	tagNoscript
	tagXmp
	tagPlaintext
)

// lookupTag returns the index in htmlTags of the tag named name (any
// case), 0 for the tags AddHTML skips: most tags of a message (td, tr,
// div, span, img, br...) are told apart by their length and a byte or two.
func lookupTag(name []byte) int {
	var cand []int
	switch len(name) {
	case 1:
		if name[0]|0x20 == 'a' {
			return tagA
		}
		return 0
	case 3:
		cand = []int{tagXmp}
	case 4:
		cand = []int{tagArea, tagForm, tagMeta}
	case 5:
		cand = []int{tagFrame, tagInput, tagStyle, tagTitle}
	case 6:
		cand = []int{tagButton, tagIframe, tagScript}
	case 7:
		cand = []int{tagNoembed}
	case 8:
		cand = []int{tagNoframes, tagNoscript, tagTextarea}
	case 9:
		cand = []int{tagPlaintext}
	default:
		return 0
	}
	for _, t := range cand {
		if equalFoldASCII(name, htmlTags[t].name) {
			return t
		}
	}
	return 0
}

// isHTMLSpace reports whether c is white space for the tokenizer.
func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f'
}

// skipHTMLSpace returns the index of the first byte at or after i that is
// not white space.
func skipHTMLSpace(doc []byte, i int) int {
	for i < len(doc) && isHTMLSpace(doc[i]) {
		i++
	}
	return i
}

// readTag reads a start or end tag whose name starts at i, after "<" or
// "</", into h.attrs. It returns the index after the closing '>', -1 when
// the document ends first.
func (h *htmlScanner) readTag(i int) int {
	doc := h.doc
	h.attrs = h.attrs[:0]
	p := tagNameEnd(doc, i)
	for {
		if p = skipHTMLSpace(doc, p); p >= len(doc) {
			return -1
		}
		if doc[p] == '>' {
			return p + 1
		}
		// The key runs to white space, '/', '>' or a '=' that is not
		// its first byte.
		a := htmlAttr{k0: p}
		for ; ; p++ {
			if p >= len(doc) {
				return -1
			}
			c := doc[p]
			if c == '=' && p > a.k0 || c == '/' || c == '>' || isHTMLSpace(c) {
				break
			}
		}
		a.k1, a.v0, a.v1 = p, p, p
		if p = skipHTMLSpace(doc, p); p >= len(doc) {
			return -1
		}
		switch doc[p] {
		case '/':
			p++
		case '=':
			if p = skipHTMLSpace(doc, p+1); p >= len(doc) {
				return -1
			}
			switch q := doc[p]; q {
			case '>':
			case '"', '\'':
				e := bytes.IndexByte(doc[p+1:], q)
				if e < 0 {
					return -1
				}
				a.v0, a.v1, a.quote = p+1, p+1+e, q
				p = a.v1 + 1
			default:
				// Unquoted: up to white space or '>'.
				a.v0 = p
				for p++; ; p++ {
					if p >= len(doc) {
						return -1
					}
					if c := doc[p]; c == '>' || isHTMLSpace(c) {
						break
					}
				}
				a.v1 = p
				if doc[p] != '>' {
					p++
				}
			}
		}
		if a.k1 > a.k0 {
			h.attrs = append(h.attrs, a)
		}
	}
}

// tagNameEnd returns the end of the tag name that starts at i: the index
// of the first white space, '/' or '>' after i, len(doc) when there is
// none.
func tagNameEnd(doc []byte, i int) int {
	for i++; i < len(doc); i++ {
		if c := doc[i]; c == '>' || c == '/' || isHTMLSpace(c) {
			break
		}
	}
	return i
}

// skipTag returns the index after the tag whose name starts at i when no
// quote comes before the first '>': no quoted value can hold that '>', so
// it ends the tag. It returns 0 when a quote comes first (readTag tells
// then), and -1 when doc has no '>', where the tag never ends.
func skipTag(doc []byte, i int) int {
	e := bytes.IndexByte(doc[i:], '>')
	if e < 0 {
		return -1
	}
	for _, c := range doc[i : i+e] {
		if c == '"' || c == '\'' {
			return 0
		}
	}
	return i + e + 1
}

// startTag reads the start tag whose name starts at i and, for the tags
// of raw text, the text after it. It returns the index after what it
// read, -1 when the document ends in the tag.
func (h *htmlScanner) startTag(s *Set, i int) int {
	doc := h.doc
	tag := lookupTag(doc[i:tagNameEnd(doc, i)])
	if tag == 0 {
		if end := skipTag(doc, i); end != 0 {
			return end
		}
	}
	t := &htmlTags[tag]
	end := h.readTag(i)
	if end < 0 {
		return -1
	}
	if t.link != "" && h.plain == nil {
		h.links(s, t.link)
	}
	if t.raw == 0 {
		return end
	}
	var rawEnd int
	switch {
	case tag == tagPlaintext:
		rawEnd = len(doc)
	case tag == tagScript:
		rawEnd = scriptEnd(doc, end)
	default:
		rawEnd = rawTextEnd(doc, end, t.name)
	}
	if tag == tagStyle {
		// The tokenizer reports <style/> as a self-closing tag, which
		// does not start a style sheet, though raw text follows it. The
		// '/' before '>' does not close the tag when it ends an unquoted
		// value (<style a=/>).
		n := len(h.attrs)
		selfClosing := doc[end-2] == '/' && (n == 0 || end-2 != h.attrs[n-1].v1-1)
		if !selfClosing {
			return rawEnd
		}
	}
	if !s.full {
		h.text(s, doc[end:rawEnd], t.raw)
	}
	return rawEnd
}

// endTag reads what follows "</" at i: an end tag, "</>", or a bogus
// comment up to the next '>'. It returns the index after it, -1 when the
// document ends first.
func (h *htmlScanner) endTag(i int) int {
	doc := h.doc
	if i >= len(doc) {
		// "</" ends the document: it is text, without URLs.
		return -1
	}
	switch c := doc[i]; {
	case c == '>':
		return i + 1
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		if end := skipTag(doc, i); end != 0 {
			return end
		}
		return h.readTag(i)
	}
	if e := bytes.IndexByte(doc[i:], '>'); e >= 0 {
		return i + e + 1
	}
	return -1
}

// markupEnd returns the index after the comment, doctype or bogus comment
// starting with "<!" or "<?" at k, -1 when it runs to the end of doc.
func markupEnd(doc []byte, k int) int {
	p := k + 2
	if doc[k+1] == '!' {
		if p+1 >= len(doc) {
			return -1
		}
		if doc[p] == '-' && doc[p+1] == '-' {
			return commentEnd(doc, p+2)
		}
	}
	// A doctype, a processing instruction or a bogus comment ends at the
	// first '>'.
	if e := bytes.IndexByte(doc[p:], '>'); e >= 0 {
		return p + e + 1
	}
	return -1
}

// commentEnd returns the index after the comment whose text starts at p,
// after "<!--": after "-->", "--!>", or a '>' right at its start ("<!-->",
// "<!--->"); -1 when doc ends first.
func commentEnd(doc []byte, p int) int {
	dashes, beginning := 0, true
	for p < len(doc) {
		if dashes == 0 && !beginning {
			// Only a '-' can start the end now.
			e := bytes.IndexByte(doc[p:], '-')
			if e < 0 {
				return -1
			}
			p += e
		}
		c := doc[p]
		p++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return p
			}
		case '!':
			if dashes >= 2 {
				if p >= len(doc) {
					return -1
				}
				c = doc[p]
				p++
				if c == '>' {
					return p
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return -1
}

// rawEndTag reads the rest of an end tag "</name" followed by white
// space, '/' or '>' from p, after "</", comparing name (lower case)
// without regard to ASCII case. It returns the index of the '<' and ok
// when it is one; otherwise the index of the first byte that differs, or
// eof when doc ends first.
func rawEndTag(doc []byte, p int, name string) (q int, ok, eof bool) {
	for i := 0; i < len(name); i++ {
		if p >= len(doc) {
			return len(doc), false, true
		}
		if c := doc[p]; c != name[i] && c != name[i]-('a'-'A') {
			return p, false, false
		}
		p++
	}
	if p >= len(doc) {
		return len(doc), false, true
	}
	switch doc[p] {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		return p - 2 - len(name), true, false
	}
	return p, false, false
}

// rawTextEnd returns where the raw text of an element named name that
// starts at p ends: at the '<' of its end tag, or at the end of doc.
func rawTextEnd(doc []byte, p int, name string) int {
	for {
		j := bytes.IndexByte(doc[p:], '<')
		if j < 0 {
			return len(doc)
		}
		p += j + 1
		if p >= len(doc) {
			return len(doc)
		}
		if doc[p] != '/' {
			continue
		}
		q, ok, eof := rawEndTag(doc, p+1, name)
		if ok || eof {
			return q
		}
		p = q
	}
}

// scriptEnd returns where the text of a script element that starts at p
// ends: at the '<' of its end tag, or at the end of doc. It follows the
// script data states of the HTML standard as the tokenizer of
// golang.org/x/net/html implements them: inside "<!--", a "<script" tag
// hides the "</script>" that follows it.
func scriptEnd(doc []byte, p int) int {
	n := len(doc)
	var (
		c   byte
		j   int
		ok  bool
		eof bool
	)

scriptData:
	j = bytes.IndexByte(doc[p:], '<')
	if j < 0 {
		return n
	}
	p += j + 1
	goto scriptDataLessThanSign

scriptDataLessThanSign:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '/':
		goto scriptDataEndTagOpen
	case '!':
		goto scriptDataEscapeStart
	}
	p--
	goto scriptData

scriptDataEndTagOpen:
	if p, ok, eof = rawEndTag(doc, p, "script"); ok || eof {
		return p
	}
	goto scriptData

scriptDataEscapeStart:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	if c == '-' {
		goto scriptDataEscapeStartDash
	}
	p--
	goto scriptData

scriptDataEscapeStartDash:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	if c == '-' {
		goto scriptDataEscapedDashDash
	}
	p--
	goto scriptData

scriptDataEscaped:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataEscapedDash
	case '<':
		goto scriptDataEscapedLessThanSign
	}
	goto scriptDataEscaped

scriptDataEscapedDash:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataEscapedDashDash
	case '<':
		goto scriptDataEscapedLessThanSign
	}
	goto scriptDataEscaped

scriptDataEscapedDashDash:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataEscapedDashDash
	case '<':
		goto scriptDataEscapedLessThanSign
	case '>':
		goto scriptData
	}
	goto scriptDataEscaped

scriptDataEscapedLessThanSign:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	if c == '/' {
		goto scriptDataEscapedEndTagOpen
	}
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
		goto scriptDataDoubleEscapeStart
	}
	p--
	goto scriptData

scriptDataEscapedEndTagOpen:
	if p, ok, eof = rawEndTag(doc, p, "script"); ok || eof {
		return p
	}
	goto scriptDataEscaped

scriptDataDoubleEscapeStart:
	p--
	for i := 0; i < len("script"); i++ {
		if p >= n {
			return n
		}
		c = doc[p]
		p++
		if c != "script"[i] && c != "SCRIPT"[i] {
			p--
			goto scriptDataEscaped
		}
	}
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case ' ', '\n', '\r', '\t', '\f', '/', '>':
		goto scriptDataDoubleEscaped
	}
	p--
	goto scriptDataEscaped

scriptDataDoubleEscaped:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataDoubleEscapedDash
	case '<':
		goto scriptDataDoubleEscapedLessThanSign
	}
	goto scriptDataDoubleEscaped

scriptDataDoubleEscapedDash:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataDoubleEscapedDashDash
	case '<':
		goto scriptDataDoubleEscapedLessThanSign
	}
	goto scriptDataDoubleEscaped

scriptDataDoubleEscapedDashDash:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	switch c {
	case '-':
		goto scriptDataDoubleEscapedDashDash
	case '<':
		goto scriptDataDoubleEscapedLessThanSign
	case '>':
		goto scriptData
	}
	goto scriptDataDoubleEscaped

scriptDataDoubleEscapedLessThanSign:
	if p >= n {
		return n
	}
	c = doc[p]
	p++
	if c == '/' {
		goto scriptDataDoubleEscapeEnd
	}
	p--
	goto scriptDataDoubleEscaped

scriptDataDoubleEscapeEnd:
	if p, ok, eof = rawEndTag(doc, p, "script"); ok {
		// "</script" and the byte after it end the double escape.
		p += len("</script>")
		goto scriptDataEscaped
	}
	if eof {
		return n
	}
	goto scriptDataDoubleEscaped
}

// text records the URLs of a text of the given kind.
func (h *htmlScanner) text(s *Set, t []byte, kind int) {
	if len(t) == 0 {
		return
	}
	decode := kind != htmlRawText && bytes.IndexByte(t, '&') >= 0
	nul := kind != htmlData && bytes.IndexByte(t, 0) >= 0
	if !decode && !nul {
		h.emit(s, t)
		return
	}
	if nul {
		h.nul = h.nul[:0]
		for {
			i := bytes.IndexByte(t, 0)
			if i < 0 {
				break
			}
			h.nul = append(append(h.nul, t[:i]...), "\ufffd"...)
			t = t[i+1:]
		}
		h.nul = append(h.nul, t...)
		t = h.nul
	}
	if decode {
		out, ok := appendUnescaped(h.buf[:0], t, false)
		if !ok {
			out = append(h.buf[:0], html.UnescapeString(string(t))...)
		}
		h.buf, t = out, out
	}
	h.emit(s, t)
}

// emit hands decoded text to h.plain when set, else to s.
func (h *htmlScanner) emit(s *Set, t []byte) {
	if h.plain != nil {
		*h.plain = append(*h.plain, t...)
		return
	}
	s.AddText(t)
}

// links records the links in the attributes of the current tag, h.attrs:
// the values of the attributes named want or, for want "content" (a meta
// element), the URL of a refresh.
//
// A link's data-saferedirecturl (Gmail's copy of the destination, wrapped
// in its redirector) is read too: HTML copied from a Gmail page keeps it,
// and phishing made that way may carry its link only there, the href
// left empty.
func (h *htmlScanner) links(s *Set, want string) {
	meta := want == "content"
	refresh := false
	var content string
	for _, a := range h.attrs {
		k := h.doc[a.k0:a.k1]
		if meta && equalFoldASCII(k, "http-equiv") &&
			strings.EqualFold(strings.TrimSpace(string(h.attrValue(a))), "refresh") {
			refresh = true
		}
		if equalFoldASCII(k, want) || want == "href" && equalFoldASCII(k, saferedirectAttr) {
			if meta {
				content = string(h.attrValue(a))
			} else {
				s.AddHrefBytes(h.attrValue(a))
			}
		}
	}
	if refresh {
		// content="5; url=http://example.com/"
		if i := IndexRefreshURL(content); i >= 0 {
			s.AddHref(strings.Trim(strings.TrimSpace(content[i+4:]), `'"`))
		}
	}
}

// saferedirectAttr is the attribute in which Gmail keeps a link's
// destination, wrapped in its redirector.
const saferedirectAttr = "data-saferedirecturl"

// IndexRefreshURL returns the index of "url=" in the content of a meta
// refresh, in any ASCII case, or -1. It searches content itself: an offset
// found in a lower-cased copy would be wrong wherever lower-casing changes
// the length (an invalid UTF-8 byte becomes the three bytes of U+FFFD).
func IndexRefreshURL(content string) int {
	for i := 0; i+4 <= len(content); i++ {
		if content[i]|0x20 == 'u' && content[i+1]|0x20 == 'r' && content[i+2]|0x20 == 'l' && content[i+3] == '=' {
			return i
		}
	}
	return -1
}

// attrValue returns the decoded value of a: line breaks (CR LF, CR)
// turned into LF and character references replaced, as the tokenizer's
// TagAttr does. The result is valid until the next call.
func (h *htmlScanner) attrValue(a htmlAttr) []byte {
	v := h.doc[a.v0:a.v1]
	amp, cr := bytes.IndexByte(v, '&') >= 0, bytes.IndexByte(v, '\r') >= 0
	if !amp && !cr {
		return v
	}
	b := v
	if cr {
		h.nul = convertNewlines(append(h.nul[:0], v...))
		b = h.nul
	}
	if amp {
		out, ok := appendUnescaped(h.buf[:0], b, true)
		if !ok {
			out = append(h.buf[:0], unescapeAttr(v, a.quote)...)
		}
		h.buf, b = out, out
	}
	return b
}

// convertNewlines turns CR LF and CR in b into LF, in place.
func convertNewlines(b []byte) []byte {
	j := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\r' {
			c = '\n'
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
		}
		b[j] = c
		j++
	}
	return b[:j]
}

// unescapeAttr decodes the attribute value v, written between quote
// (0: unquoted), with the tokenizer of golang.org/x/net/html, for the
// references appendUnescaped does not know.
func unescapeAttr(v []byte, quote byte) []byte {
	switch {
	case quote == 0 && bytes.IndexByte(v, '"') >= 0 && bytes.IndexByte(v, '\'') >= 0:
		// Written without quotes, v has neither white space nor '>'.
	case bytes.IndexByte(v, '"') < 0:
		quote = '"'
	default:
		quote = '\''
	}
	tag := make([]byte, 0, len(v)+len(`<a v="">`))
	tag = append(tag, "<a v="...)
	if quote != 0 {
		tag = append(tag, quote)
	}
	tag = append(tag, v...)
	if quote != 0 {
		tag = append(tag, quote)
	}
	tag = append(tag, '>')
	z := html.NewTokenizer(bytes.NewReader(tag))
	switch z.Next() {
	case html.StartTagToken, html.SelfClosingTagToken:
		if _, val, _ := z.TagAttr(); val != nil {
			return val
		}
	}
	return v
}

// htmlEntities maps the names of the character references that
// appendUnescaped decodes itself, ';' included, to their character.
// They are the common ones, and each is taken from html.UnescapeString.
var htmlEntities = func() map[string]rune {
	m := make(map[string]rune)
	for _, name := range strings.Fields("amp lt gt quot apos nbsp shy zwnj zwj lrm rlm ensp emsp thinsp " +
		"ndash mdash lsquo rsquo sbquo ldquo rdquo bdquo laquo raquo lsaquo rsaquo hellip bull middot " +
		"copy reg trade deg plusmn times divide euro pound yen cent sect para dagger " +
		"iexcl iquest frac12 frac14 frac34 sup1 sup2 sup3 micro " +
		"agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml " +
		"igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml oslash " +
		"ugrave uacute ucirc uuml yacute thorn szlig yuml " +
		"Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml " +
		"Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml Oslash " +
		"Ugrave Uacute Ucirc Uuml Yacute THORN " +
		"colon sol period comma excl quest num dollar percnt lpar rpar ast plus semi equals " +
		"commat lsqb rsqb lowbar grave lcub rcub verbar tilde hyphen") {
		name += ";"
		d := html.UnescapeString("&" + name)
		// One character means the whole name is a reference; a prefix
		// read as one leaves the rest of the name behind.
		r, size := utf8.DecodeRuneInString(d)
		if size == len(d) && r != utf8.RuneError && size <= len(name) {
			m[name] = r
		}
	}
	return m
}()

// windows1252 holds the characters that numeric references to 0x80-0x9F
// stand for, taken from html.UnescapeString.
var windows1252 = func() (t [32]rune) {
	for i := range t {
		t[i], _ = utf8.DecodeRuneInString(html.UnescapeString("&#" + strconv.Itoa(0x80+i) + ";"))
	}
	return t
}()

// appendUnescaped appends src to dst with its character references
// replaced as golang.org/x/net/html replaces them in text or, when
// attribute is set, in attribute values. It handles numeric references,
// the names in htmlEntities, and in attribute values a name without ';'
// followed by '=', which stays as written; ok is false when src has
// another reference.
func appendUnescaped(dst, src []byte, attribute bool) (_ []byte, ok bool) {
	for {
		i := bytes.IndexByte(src, '&')
		if i < 0 {
			return append(dst, src...), true
		}
		dst = append(dst, src[:i]...)
		src = src[i:]
		n := 0
		if dst, n = appendEntity(dst, src, attribute); n == 0 {
			return dst, false
		}
		src = src[n:]
	}
}

// appendEntity decodes the character reference at the start of s, which
// starts with '&', onto dst, and returns how many bytes of s it read; 0
// when it does not know the reference. It follows unescapeEntity of
// golang.org/x/net/html, quirks included: "&#9x" (a single decimal digit
// without ';') is not a reference.
func appendEntity(dst, s []byte, attribute bool) ([]byte, int) {
	if len(s) <= 1 {
		return append(dst, '&'), 1
	}
	i := 1
	if s[i] == '#' {
		if len(s) <= 3 {
			return append(dst, '&'), 1
		}
		i++
		c := s[i]
		hex := false
		if c == 'x' || c == 'X' {
			hex = true
			i++
		}
		x := rune(0)
		for i < len(s) {
			c = s[i]
			i++
			if hex {
				if '0' <= c && c <= '9' {
					x = 16*x + rune(c) - '0'
					continue
				} else if 'a' <= c && c <= 'f' {
					x = 16*x + rune(c) - 'a' + 10
					continue
				} else if 'A' <= c && c <= 'F' {
					x = 16*x + rune(c) - 'A' + 10
					continue
				}
			} else if '0' <= c && c <= '9' {
				x = 10*x + rune(c) - '0'
				continue
			}
			if c != ';' {
				i--
			}
			break
		}
		if i <= 3 {
			return append(dst, '&'), 1
		}
		if 0x80 <= x && x <= 0x9F {
			x = windows1252[x-0x80]
		} else if x == 0 || 0xD800 <= x && x <= 0xDFFF || x > 0x10FFFF {
			x = utf8.RuneError
		}
		return utf8.AppendRune(dst, x), i
	}
	for i < len(s) {
		c := s[i]
		i++
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if c != ';' {
			i--
		}
		break
	}
	name := s[1:i]
	switch {
	case len(name) == 0:
		return append(dst, '&'), 1
	case name[len(name)-1] == ';':
		if r, ok := htmlEntities[string(name)]; ok {
			return utf8.AppendRune(dst, r), i
		}
	case attribute && i < len(s) && s[i] == '=':
		// "&b=2" in a query: kept as written.
		return append(dst, s[:i]...), i
	}
	return dst, 0
}
