package mailbox

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on the work done to find links inside attached files. They bound
// what a decompression bomb can cost.
const (
	// maxInflate caps the decompressed bytes read from one attachment.
	maxInflate = 16 << 20
	// maxZipEntries caps the archive members looked at in one attachment.
	maxZipEntries = 500
)

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
// the package's .rels parts.
func (s *urlSet) addOOXML(b []byte) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	budget := int64(maxInflate)
	for n, f := range zr.File {
		if n >= maxZipEntries || budget <= 0 || s.full {
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
		data, _ := io.ReadAll(io.LimitReader(rc, budget))
		rc.Close()
		budget -= int64(len(data))
		if rels {
			s.addRels(data)
		} else {
			s.addXMLText(data)
		}
	}
}

// addXMLText records the URLs written in the character data of an Office
// XML part: the document text, where runs of one paragraph are joined, and
// field instructions such as HYPERLINK "https://example.com/".
func (s *urlSet) addXMLText(data []byte) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	var text []byte
	for {
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			switch t.Name.Local {
			case "p", "si", "tc", "instrText", "fldSimple", "hyperlink":
				text = append(text, '\n')
			}
		case xml.StartElement:
			if t.Name.Local == "fldSimple" || t.Name.Local == "hyperlink" {
				for _, a := range t.Attr {
					if a.Name.Local == "instr" {
						text = append(text, a.Value...)
						text = append(text, '\n')
					}
				}
			}
		}
		if len(text) > maxInflate {
			break
		}
	}
	s.addText(text)
}

// addRels records the external targets of one relationships part.
func (s *urlSet) addRels(data []byte) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	for !s.full {
		tok, err := d.RawToken()
		if err != nil {
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" {
			continue
		}
		var target string
		external := false
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "Target":
				target = a.Value
			case "TargetMode":
				external = strings.EqualFold(a.Value, "External")
			}
		}
		if external {
			s.addHref(target)
		}
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
