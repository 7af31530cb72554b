package linkscan

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// addXMLTextDecoder is the encoding/xml implementation addXMLText
// replaced; the scanner must find the same URLs in well-formed parts.
func (s *Set) addXMLTextDecoder(data []byte) {
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
	}
	s.AddText(text)
}

func TestAddXMLTextReadsLikeEncodingXML(t *testing.T) {
	docs := []string{
		`<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>see https://a.example/x</w:t></w:r></w:p><w:p><w:r><w:t>https://b.example/y</w:t></w:r></w:p></w:body></w:document>`,
		`<?xml version="1.0"?><!-- https://comment.example/ --><w:p><w:r><w:t>https://split</w:t></w:r><w:r><w:t>.example/run</w:t></w:r></w:p>`,
		`<w:p><w:instrText xml:space="preserve"> HYPERLINK &quot;https://field.example/x?a=1&amp;b=2&quot; </w:instrText></w:p>`,
		`<w:p><w:fldSimple w:instr=' HYPERLINK "https://simple.example/&#x41;&#66;" '><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>`,
		`<w:p><w:hyperlink w:instr="HYPERLINK https://empty.example/a" w:a=">"/>https://after.example/</w:p>`,
		`<x:si><x:t><![CDATA[https://cdata.example/a&b<c]]></x:t></x:si><x:si><x:t>https://two.example/&lt;&gt;&apos;</x:t></x:si>`,
		`<w:tbl><w:tc><w:p><w:t>https://cell.example/1</w:t></w:p></w:tc><w:tc><w:t>https://cell.example/2</w:t></w:tc></w:tbl>`,
		`<w:p><w:t>https://unknown.example/&nbsp;x &#xZZ; &#99999999;</w:t></w:p>`,
		`<a:p><a:r><a:t>www.pptx.example/slide</a:t></a:r></a:p><a:p/><a:p><a:t>https://x.example/</a:t></a:p>`,
	}
	for _, d := range docs {
		var got, want Set
		got.addXMLText([]byte(d))
		want.addXMLTextDecoder([]byte(d))
		assert.Equal(t, want.list, got.list, "%s", d)
	}
	var s Set
	s.addXMLText([]byte(docs[0] + strings.Repeat("<w:p/>", 10)))
	assert.Equal(t, 2, len(s.list))
}

// FuzzAddXMLText checks that the scanner never panics, stays within the
// token budget, and finds the URLs encoding/xml finds in parts that parse
// strictly.
func FuzzAddXMLText(f *testing.F) {
	f.Add(`<w:p><w:r><w:t>https://a.example/x</w:t></w:r></w:p>`)
	f.Add(`<w:p><w:fldSimple w:instr='HYPERLINK "https://b.example/"'/></w:p>`)
	f.Add(`<x:si><x:t><![CDATA[https://c.example/&]]></x:t></x:si>`)
	f.Add(`<a b=">">&amp;https://d.example/&#x41;</a>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var got Set
		got.addXMLText([]byte(doc))
		if got.work.tokens > MaxTokensPerMessage {
			t.Fatalf("%d tokens read", got.work.tokens)
		}
		if strings.ContainsAny(doc, "\r") || strings.Contains(doc, "<!") {
			return // line ends and declarations differ without changing URLs
		}
		d := xml.NewDecoder(strings.NewReader(doc))
		for {
			_, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					return
				}
				break
			}
		}
		var want Set
		want.addXMLTextDecoder([]byte(doc))
		if !slicesEqual(got.list, want.list) {
			t.Fatalf("scanner %q, encoding/xml %q", got.list, want.list)
		}
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
