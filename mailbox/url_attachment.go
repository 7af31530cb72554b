package mailbox

import (
	"archive/zip"
	"bytes"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxZipEntries caps the archive members looked at in one attachment.
const maxZipEntries = 500

// addAttachmentURLs records the links inside an attached file whose type
// carries them in a form that can be read without rendering:
//
//   - PDF: the URI of every link action (see [urlSet.addPDF]);
//   - Office Open XML (docx, xlsx, pptx): the external hyperlink targets of
//     the package relationships (ECMA-376 part 2), and the URLs written in
//     the text and field instructions (HYPERLINK) of the document parts;
//   - HTML files, whatever their declared type (name ending .htm, .html,
//     .xhtml, .shtml or content starting like HTML): as HTML;
//   - RTF, XML, SVG and other text: as plain text.
//
// Other types (images, archives that are not Office documents, unknown
// binaries) are not read.
//
// passwords returns the passwords to try on an encrypted file; it is
// called only when one needs them.
func (s *urlSet) addAttachmentURLs(filename, mt string, content []byte, passwords func() []string) {
	head := content
	if len(head) > 1024 {
		head = head[:1024]
	}
	name := strings.ToLower(filename)
	switch {
	case bytes.Contains(head, []byte("%PDF-")):
		s.addPDF(content, passwords)
	case bytes.HasPrefix(content, []byte("PK\x03\x04")):
		s.addOOXML(content)
	case mt == "text/html" || mt == "application/xhtml+xml" ||
		hasAnySuffix(name, ".htm", ".html", ".xhtml", ".shtml") || looksLikeHTML(head):
		s.addHTML(content)
	case strings.HasPrefix(mt, "text/") || bytes.HasPrefix(content, []byte(`{\rtf`)) ||
		mt == "application/xml" || mt == "image/svg+xml" || mt == "application/json" ||
		hasAnySuffix(name, ".svg", ".xml", ".txt", ".rtf", ".url"):
		s.addText(content)
	}
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// looksLikeHTML reports whether head, after leading white space, starts
// with an HTML doctype or one of the html, head, body, script, meta, div
// or table tags.
func looksLikeHTML(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if len(head) < 2 || head[0] != '<' {
		return false
	}
	lower := bytes.ToLower(head[:min(len(head), 16)])
	for _, p := range [...]string{"<!doctype html", "<html", "<head", "<body", "<script", "<meta", "<div", "<table", "<!--"} {
		if bytes.HasPrefix(lower, []byte(p)) {
			return true
		}
	}
	return false
}

// pdfLiteral reads a PDF literal string (PDF 32000-1 section 7.3.4.2)
// starting after its "(" at i; it returns the string and the index after
// the closing ")".
func pdfLiteral(b []byte, i int) ([]byte, int) {
	var out []byte
	depth := 1
	for i < len(b) && len(out) < maxURLLen {
		c := b[i]
		i++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return out, i
			}
		case '\\':
			if i >= len(b) {
				return out, i
			}
			e := b[i]
			i++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r', '\n':
				if e == '\r' && i < len(b) && b[i] == '\n' {
					i++
				}
				continue
			default:
				if '0' <= e && e <= '7' {
					v := int(e - '0')
					for n := 0; n < 2 && i < len(b) && '0' <= b[i] && b[i] <= '7'; n++ {
						v = v*8 + int(b[i]-'0')
						i++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return out, i
}

// pdfHex reads a PDF hexadecimal string starting after its "<" at i.
func pdfHex(b []byte, i int) ([]byte, int) {
	var out []byte
	var hi byte
	odd := false
	for i < len(b) && len(out) < maxURLLen {
		c := b[i]
		i++
		if c == '>' {
			break
		}
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if odd {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	if odd {
		out = append(out, hi<<4)
	}
	return out, i
}

// addOOXML records the external hyperlink targets of an Office Open XML
// package: the Target of each Relationship with TargetMode="External" in
// the package's .rels parts, and the URLs written in the document parts.
// What it inflates and the tags it reads are taken from the message's
// budget.
func (s *urlSet) addOOXML(b []byte) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	for n, f := range zr.File {
		if s.full || s.work.exhausted() {
			return
		}
		if n >= maxZipEntries {
			s.work.truncated = true
			return
		}
		rels := path.Ext(f.Name) == ".rels"
		content := path.Ext(f.Name) == ".xml" && (strings.HasPrefix(f.Name, "word/") ||
			strings.HasPrefix(f.Name, "xl/") || strings.HasPrefix(f.Name, "ppt/"))
		if !rels && !content {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			continue
		}
		hint := 0
		if f.UncompressedSize64 < MaxInflatePerMessage {
			hint = int(f.UncompressedSize64)
		}
		data := s.work.inflate(rc, hint)
		rc.Close()
		if rels {
			s.addRels(data)
		} else {
			s.addXMLText(data)
		}
	}
}

// Office XML parts are read by a lenient scanner rather than by
// encoding/xml, whose tokens cost a dozen bytes of garbage per byte of
// markup: a decompression bomb of repetitive markup is what makes that
// cost count. The scanner splits a part into character data (entity
// references decoded, CDATA sections taken as they are) and tags
// (comments, processing instructions and declarations skipped; attribute
// values may be quoted with ' or " and hold '>'). It does not check that
// the document is well formed: it reads on where encoding/xml would stop.

// xmlEndsLine are the elements whose end separates the text before it from
// the text after it: paragraphs, shared strings, table cells, field
// instructions, simple fields and hyperlinks.
var xmlEndsLine = map[string]bool{"p": true, "si": true, "tc": true, "instrText": true, "fldSimple": true, "hyperlink": true}

// addXMLText records the URLs written in the character data of an Office
// XML part: the document text, where runs of one paragraph are joined, and
// field instructions such as HYPERLINK "https://example.com/" (also in the
// instr attribute of fldSimple and hyperlink elements).
func (s *urlSet) addXMLText(data []byte) {
	var text []byte
	scanXML(data, &s.work, func(t []byte) {
		text = appendXMLText(text, t)
	}, func(name, attrs []byte, start, end bool) {
		local := xmlLocal(name)
		if start && (string(local) == "fldSimple" || string(local) == "hyperlink") {
			if v, ok := xmlAttr(attrs, "instr"); ok {
				text = appendXMLText(text, v)
				text = append(text, '\n')
			}
		}
		if end && xmlEndsLine[string(local)] {
			text = append(text, '\n')
		}
	})
	s.addText(text)
}

// addRels records the external targets of one relationships part.
func (s *urlSet) addRels(data []byte) {
	scanXML(data, &s.work, nil, func(name, attrs []byte, start, _ bool) {
		if !start || s.full || string(xmlLocal(name)) != "Relationship" {
			return
		}
		if mode, _ := xmlAttr(attrs, "TargetMode"); !strings.EqualFold(string(appendXMLText(nil, mode)), "External") {
			return
		}
		if target, ok := xmlAttr(attrs, "Target"); ok {
			s.addHref(string(appendXMLText(nil, target)))
		}
	})
}

// scanXML reads an XML document: text gets each run of character data as
// written, entity references not decoded (the content of a CDATA section
// comes with '&' escaped, so that [appendXMLText] gives it back); tag gets
// each element tag with its qualified name and its raw attributes, start
// and end telling a start tag, an end tag, or both for an empty-element
// tag. Each tag, comment,
// processing instruction or declaration takes a token of b; the scan stops
// when none is left.
func scanXML(data []byte, b *budget, text func([]byte), tag func(name, attrs []byte, start, end bool)) {
	emit := func(t []byte) {
		if text != nil && len(t) > 0 {
			text(t)
		}
	}
	for i := 0; i < len(data); {
		lt := bytes.IndexByte(data[i:], '<')
		if lt < 0 {
			emit(data[i:])
			return
		}
		emit(data[i : i+lt])
		i += lt
		if !b.take(1) {
			return
		}
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(data, i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				emit(escapeXMLText(rest[9:]))
				return
			}
			emit(escapeXMLText(rest[9 : 9+end]))
			i += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipPast(data, i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			i = skipPast(data, i+2, ">")
		default:
			end := xmlTagEnd(data, i+1)
			body := data[i+1 : end]
			if end < len(data) {
				end++ // the '>'
			}
			i = end
			closing := len(body) > 0 && body[0] == '/'
			if closing {
				body = body[1:]
			}
			empty := !closing && len(body) > 0 && body[len(body)-1] == '/'
			if empty {
				body = body[:len(body)-1]
			}
			n := 0
			for n < len(body) && !isXMLSpace(body[n]) {
				n++
			}
			if n > 0 && tag != nil {
				tag(body[:n], body[n:], !closing, closing || empty)
			}
		}
	}
}

// skipPast returns the index after the first sep at or after i, or
// len(data).
func skipPast(data []byte, i int, sep string) int {
	if i > len(data) {
		return len(data)
	}
	k := bytes.Index(data[i:], []byte(sep))
	if k < 0 {
		return len(data)
	}
	return i + k + len(sep)
}

// xmlTagEnd returns the index of the '>' that ends the tag whose name
// starts at i, skipping quoted attribute values, or len(data).
func xmlTagEnd(data []byte, i int) int {
	var quote byte
	for ; i < len(data); i++ {
		c := data[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return len(data)
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// xmlLocal returns the local part of a qualified name ("w:p" gives "p")
// as encoding/xml splits it: after the first colon, unless that colon
// starts or ends the name, which is then local as a whole.
func xmlLocal(name []byte) []byte {
	if k := bytes.IndexByte(name, ':'); k >= 1 && k <= len(name)-2 {
		return name[k+1:]
	}
	return name
}

// xmlAttr returns the raw value of the attribute whose local name is name
// in the attributes of a tag (entity references not decoded).
func xmlAttr(attrs []byte, name string) ([]byte, bool) {
	for i := 0; i < len(attrs); {
		for i < len(attrs) && (isXMLSpace(attrs[i]) || attrs[i] == '/') {
			i++
		}
		k := i
		for i < len(attrs) && attrs[i] != '=' && !isXMLSpace(attrs[i]) {
			i++
		}
		key := attrs[k:i]
		for i < len(attrs) && isXMLSpace(attrs[i]) {
			i++
		}
		if i >= len(attrs) || attrs[i] != '=' {
			if i == k {
				i++
			}
			continue
		}
		i++
		for i < len(attrs) && isXMLSpace(attrs[i]) {
			i++
		}
		var val []byte
		if i < len(attrs) && (attrs[i] == '"' || attrs[i] == '\'') {
			q := attrs[i]
			end := bytes.IndexByte(attrs[i+1:], q)
			if end < 0 {
				end = len(attrs) - i - 1
			}
			val = attrs[i+1 : i+1+end]
			i += end + 2
		} else {
			v := i
			for i < len(attrs) && !isXMLSpace(attrs[i]) {
				i++
			}
			val = attrs[v:i]
		}
		if string(xmlLocal(key)) == name {
			return val, true
		}
	}
	return nil, false
}

// escapeXMLText returns CDATA content in the form appendXMLText decodes
// back to it: '&' written as "&amp;".
func escapeXMLText(t []byte) []byte {
	if bytes.IndexByte(t, '&') < 0 {
		return t
	}
	return bytes.ReplaceAll(t, []byte("&"), []byte("&amp;"))
}

// appendXMLText appends character data or an attribute value to dst with
// its entity references decoded: the five predefined entities and
// character references; any other reference is kept as written.
func appendXMLText(dst, t []byte) []byte {
	for {
		amp := bytes.IndexByte(t, '&')
		if amp < 0 {
			return append(dst, t...)
		}
		dst = append(dst, t[:amp]...)
		t = t[amp:]
		semi := bytes.IndexByte(t[:min(len(t), 12)], ';')
		if semi < 0 {
			dst = append(dst, '&')
			t = t[1:]
			continue
		}
		name := string(t[1:semi])
		switch {
		case name == "amp":
			dst = append(dst, '&')
		case name == "lt":
			dst = append(dst, '<')
		case name == "gt":
			dst = append(dst, '>')
		case name == "quot":
			dst = append(dst, '"')
		case name == "apos":
			dst = append(dst, '\'')
		case len(name) > 1 && name[0] == '#':
			var r uint64
			var err error
			if name[1] == 'x' {
				r, err = strconv.ParseUint(name[2:], 16, 32)
			} else {
				r, err = strconv.ParseUint(name[1:], 10, 32)
			}
			if err != nil || r > unicode.MaxRune {
				dst = append(dst, t[:semi+1]...)
			} else {
				dst = utf8.AppendRune(dst, rune(r))
			}
		default:
			dst = append(dst, t[:semi+1]...)
		}
		t = t[semi+1:]
	}
}

// passwordWords introduce a password in the text of a message, in the
// languages phishing lures are written in most.
var passwordWords = []string{
	"password", "passwort", "passwd", "passcode", "pass code", "senha", "contraseña", "contrasena",
	"clave", "mot de passe", "wachtwoord", "parola", "heslo", "hasło", "haslo", "lösenord",
	"salasana", "adgangskode", "passord", "jelszó", "пароль", "密码", "密碼", "パスワード", "비밀번호",
	"pwd", "pw",
}

// maxPasswords caps the passwords tried on one file.
const maxPasswords = 16

// passwordCandidates returns the words that follow a password keyword
// (see passwordWords) on the same line of the text or of the HTML's text,
// trimmed of punctuation, distinct, at most maxPasswords: "Senha de
// acesso: 123" yields "de", "acesso" and "123". Each is tried and checked
// against the file, so a wrong one costs a hash.
func passwordCandidates(text, htmlDoc string) []string {
	src := text
	if htmlDoc != "" {
		src += "\n" + htmlText(htmlDoc)
	}
	lower := strings.ToLower(src)
	var out []string
	seen := make(map[string]bool)
	for _, w := range passwordWords {
		for off, hits := 0, 0; len(out) < maxPasswords && hits < 100; hits++ {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			k += off + len(w)
			off = k
			line := lower[k:]
			if len(src) == len(lower) {
				// Lower-casing kept the offsets: take the words as
				// written.
				line = src[k:]
			}
			line = line[:min(len(line), 120)]
			if nl := strings.IndexByte(line, '\n'); nl >= 0 {
				line = line[:nl]
			}
			for i, f := range strings.FieldsFunc(line, func(r rune) bool {
				return r == ' ' || r == '\t' || r == '\r' || r == ':' || r == '=' || r == '\u00a0'
			}) {
				if i >= 4 {
					break
				}
				f = strings.Trim(f, `.,;!?()[]{}"'*<>«»“”`)
				if f != "" && len(f) <= 32 && !seen[f] && len(out) < maxPasswords {
					seen[f] = true
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// htmlText returns the text of an HTML document, tags removed, block
// boundaries as line breaks.
func htmlText(doc string) string {
	z := html.NewTokenizer(strings.NewReader(doc))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Br, atom.P, atom.Div, atom.Tr, atom.Li, atom.Pre, atom.Hr, atom.Td, atom.Table:
				b.WriteByte('\n')
			}
		}
	}
}
