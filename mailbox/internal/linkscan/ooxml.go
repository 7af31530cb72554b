package linkscan

import (
	"archive/zip"
	"bytes"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxZipEntries caps the archive members looked at in one attachment.
const maxZipEntries = 500

// addOOXML records the external hyperlink targets of an Office Open XML
// package: the Target of each Relationship with TargetMode="External" in
// the package's .rels parts, and the URLs written in the document parts.
// What it inflates and the tags it reads are taken from the message's
// budget.
func (s *Set) addOOXML(b []byte) {
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
func (s *Set) addXMLText(data []byte) {
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
	s.AddText(text)
}

// addRels records the external targets of one relationships part.
func (s *Set) addRels(data []byte) {
	scanXML(data, &s.work, nil, func(name, attrs []byte, start, _ bool) {
		if !start || s.full || string(xmlLocal(name)) != "Relationship" {
			return
		}
		if mode, _ := xmlAttr(attrs, "TargetMode"); !strings.EqualFold(string(appendXMLText(nil, mode)), "External") {
			return
		}
		if target, ok := xmlAttr(attrs, "Target"); ok {
			s.AddHref(string(appendXMLText(nil, target)))
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
