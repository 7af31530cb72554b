package linkscan

import (
	"bytes"
	"strings"
)

// AddAttachment records the links inside an attached file whose type
// carries them in a form that can be read without rendering:
//
//   - PDF: the URI of every link action (see [Set.addPDF]);
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
func (s *Set) AddAttachment(filename, mt string, content []byte, passwords func() []string) {
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
		hasAnySuffix(name, ".htm", ".html", ".xhtml", ".shtml") || LooksLikeHTML(head):
		s.AddHTML(content)
	case strings.HasPrefix(mt, "text/") || bytes.HasPrefix(content, []byte(`{\rtf`)) ||
		mt == "application/xml" || mt == "image/svg+xml" || mt == "application/json" ||
		hasAnySuffix(name, ".svg", ".xml", ".txt", ".rtf", ".url"):
		s.AddText(content)
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

// LooksLikeHTML reports whether head, after leading white space, starts
// with an HTML doctype or one of the html, head, body, script, meta, div
// or table tags.
func LooksLikeHTML(head []byte) bool {
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
