package linkscan

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestURLsInText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"plain", "go to http://example.com/a now", []string{"http://example.com/a"}},
		{"trailing punctuation", "see https://example.com/a/b. Or https://example.com/c, or https://example.com/d!?", []string{"https://example.com/a/b", "https://example.com/c", "https://example.com/d"}},
		{"angle brackets", "<http://example.com/x>", []string{"http://example.com/x"}},
		{"URL: prefix", "<URL:http://example.com/y>", []string{"http://example.com/y"}},
		{"parentheses around", "(http://example.com/z)", []string{"http://example.com/z"}},
		{"balanced parentheses kept", "http://en.example.org/wiki/Foo_(bar)", []string{"http://en.example.org/wiki/Foo_(bar)"}},
		{"balanced then unbalanced", "(see http://en.example.org/wiki/Foo_(bar))", []string{"http://en.example.org/wiki/Foo_(bar)"}},
		{"square brackets", "[https://example.com/q?a=1]", []string{"https://example.com/q?a=1"}},
		{"quotes", `"https://example.com/quoted" 'https://example.com/single'`, []string{"https://example.com/quoted", "https://example.com/single"}},
		{"www", "visit www.example.com/page; thanks", []string{"www.example.com/page"}},
		{"www upper case", "WWW.EXAMPLE.COM", []string{"WWW.EXAMPLE.COM"}},
		{"www inside a word is not a URL", "awww.example.com foo@www.example.com", nil},
		{"www inside a URL is not listed twice", "http://www.example.com/", []string{"http://www.example.com/"}},
		{"ftp and upper-case scheme", "FTP://files.example.com/x HTTPS://A.example.com", []string{"FTP://files.example.com/x", "HTTPS://A.example.com"}},
		{"other schemes ignored", "mailto:a@example.com file:///etc/passwd javascript://x", nil},
		{"scheme without host", "http:// and https://", nil},
		{"duplicates listed once", "http://a.example.com http://a.example.com", []string{"http://a.example.com"}},
		{"no-break space ends a URL", "http://a.example.com/x\u00a0next", []string{"http://a.example.com/x"}},
		{"prefix glued to a word", "Linkhttp://glued.example.com", []string{"http://glued.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			s.AddText([]byte(tt.text))
			assert.Equal(t, tt.want, s.list)
		})
	}
}

func TestURLsInHTML(t *testing.T) {
	tests := []struct {
		name string
		html string
		want []string
	}{
		{"anchor with entities", `<a href="https://example.com/?a=1&amp;b=2">x</a>`, []string{"https://example.com/?a=1&b=2"}},
		{"area, form, button, iframe", `<map><area href="http://a.example.com/"></map><form action="https://f.example.com/post"><button formaction="https://b.example.com/"></button></form><iframe src="https://i.example.com/"></iframe>`,
			[]string{"http://a.example.com/", "https://f.example.com/post", "https://b.example.com/", "https://i.example.com/"}},
		{"images and style sheets are not links", `<img src="https://img.example.com/t.gif"><link rel=stylesheet href="https://css.example.com/s.css"><style>body{background:url(https://bg.example.com/x.png)}</style>`, nil},
		{"text URLs", `<p>Go to https://text.example.com/page.</p><!-- http://comment.example.com/ -->`, []string{"https://text.example.com/page"}},
		{"script text", `<script>location="https://js.example.com/r"</script>`, []string{"https://js.example.com/r"}},
		{"meta refresh", `<meta http-equiv="Refresh" content="0; URL='https://refresh.example.com/'">`, []string{"https://refresh.example.com/"}},
		{"whitespace in href", "<a href=\" https://ws.example.com/a\n/b \">x</a>", []string{"https://ws.example.com/a/b"}},
		{"relative, mailto, anchors ignored", `<a href="/local">a</a><a href="#top">b</a><a href="mailto:x@example.com">c</a><a href="cid:logo">d</a>`, nil},
		{"www href", `<a href="www.example.com">x</a>`, []string{"www.example.com"}},
		{"unterminated markup", `<a href="https://open.example.com/`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Set
			s.AddHTML([]byte(tt.html))
			assert.Equal(t, tt.want, s.list)
		})
	}
}

func TestURLsInPDF(t *testing.T) {
	var objStm bytes.Buffer
	zw := zlib.NewWriter(&objStm)
	_, err := zw.Write([]byte("<</A<</S/URI/URI(https://compressed.example.com/a)>>>>"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	pdf := "%PDF-1.5\n" +
		"1 0 obj <</A <</S /URI /URI (https://plain.example.com/\\(x\\)\\061)>>>> endobj\n" +
		"2 0 obj <</A <</S /URI /URI <68747470733A2F2F6865782E6578616D706C652E636F6D2F>>>>> endobj\n" +
		"3 0 obj <</A <</S /URI /URI (tel:+15555550100)>>>> endobj\n" +
		"4 0 obj <</Type /ObjStm /N 1 /First 0 /Filter /FlateDecode /Length " + strconv.Itoa(objStm.Len()) + ">>\nstream\n" +
		objStm.String() + "\nendstream\nendobj\n%%EOF\n"
	var s Set
	s.AddAttachment("doc.pdf", "application/octet-stream", []byte(pdf), nil)
	assert.Equal(t, []string{"https://plain.example.com/(x)1", "https://hex.example.com/", "https://compressed.example.com/a"}, s.list)
}

func TestURLsInOOXML(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, content string) {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(content))
		require.NoError(t, err)
	}
	add("[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`)
	add("word/_rels/document.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://rel.example.com/?a=1&amp;b=2" TargetMode="External"/>`+
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`)
	add("word/document.xml", `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`+
		`<w:p><w:r><w:instrText> HYPERLINK &quot;https://field.example.com/x&quot; </w:instrText></w:r></w:p>`+
		`<w:p><w:r><w:t>Visit https://split</w:t></w:r><w:r><w:t>.example.com/run today</w:t></w:r></w:p></w:body></w:document>`)
	require.NoError(t, zw.Close())

	var s Set
	s.AddAttachment("x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", buf.Bytes(), nil)
	assert.ElementsMatch(t, []string{"https://rel.example.com/?a=1&b=2", "https://field.example.com/x", "https://split.example.com/run"}, s.list)
}

func TestPasswordCandidates(t *testing.T) {
	tests := []struct {
		name, text, html string
		want             []string
	}{
		{"portuguese", "Senha de acesso: 123\nCódigo: 999", "", []string{"123", "999", "de", "acesso", "Código"}},
		{"far from the cue", "SENHA DE ACESSO AO PDF: 123", "", []string{"123", "DE", "ACESSO", "AO", "PDF"}},
		{"sentence ends", "Your password is below. Thanks for your order", "", []string{"is", "below"}},
		{"next line", "Password to open the file:\n\n  Qx9-2024  \nregards", "", []string{"Qx9-2024", "to", "open", "the", "file"}},
		{"no-break space", "senha:\u00a0abc", "", []string{"abc"}},
		{"english in HTML", "", "<p>The password is <b>Xy7!</b></p><p>next line</p>", []string{"Xy7", "is", "next", "line"}},
		{"none", "hello world", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, PasswordCandidates(tt.text, tt.html))
		})
	}
}

func TestHTMLText(t *testing.T) {
	doc := `<html><head><title>Fatura</title><style>p{color:red}</style></head><body>` +
		`<!-- senha: not this --><div>Senha&nbsp;de acesso:<br>A&amp;B-7</div>` +
		`<a href="http://x.example/">link</a><TD>cell</td><script>var s="code"</script>`
	assert.Equal(t, "Fatura\nSenha\u00a0de acesso:\nA&B-7\nlink\ncell\nvar s=\"code\"", htmlText(doc))
	assert.Equal(t, "no tags", htmlText("no tags"))
	assert.Equal(t, "cut ", htmlText("cut <p class='x"), "a tag the document ends in is not text")
}

func FuzzPasswordCandidates(f *testing.F) {
	f.Add("SENHA DE ACESSO AO PDF: 123", "")
	f.Add("Password:\n\n Qx9 \n", "<p>senha:&nbsp;abc</p>")
	f.Add("pw=pw=pw pass code. next\n", "<b>Passwort</b>")
	f.Fuzz(func(t *testing.T, text, htmlDoc string) {
		got := PasswordCandidates(text, htmlDoc)
		if len(got) > maxPasswords {
			t.Fatalf("%d candidates", len(got))
		}
		seen := map[string]bool{}
		for _, p := range got {
			if p == "" || len(p) > 32 || seen[p] {
				t.Fatalf("bad candidate %q in %q", p, got)
			}
			seen[p] = true
		}
	})
}
