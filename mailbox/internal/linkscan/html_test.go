package linkscan

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/net/html"
)

// TestAddHTMLEntities checks that the references appendUnescaped decodes
// itself are there, so that the common values do not take the slow path.
func TestAddHTMLEntities(t *testing.T) {
	for _, name := range []string{"amp;", "lt;", "gt;", "quot;", "nbsp;", "rsquo;", "eacute;"} {
		assert.Contains(t, htmlEntities, name)
	}
	assert.Equal(t, '€', windows1252[0])
	for _, tc := range []struct {
		in        string
		attribute bool
	}{
		{"a&amp;b&lt;&gt;&quot;&nbsp;&#39;&#x27;&#8217;", false},
		{"a&amp;b&lt;&gt;&quot;&nbsp;&#39;&#x27;&#8217;", true},
		{"?a=1&b=2&lang=en", true},
	} {
		out, ok := appendUnescaped(nil, []byte(tc.in), tc.attribute)
		assert.True(t, ok, tc.in)
		if !tc.attribute {
			assert.Equal(t, html.UnescapeString(tc.in), string(out), tc.in)
		}
	}
}

// TestAddHTMLSafeRedirect checks that a link kept only in Gmail's
// data-saferedirecturl, its href empty, is found.
func TestAddHTMLSafeRedirect(t *testing.T) {
	var s Set
	s.AddHTML([]byte(`<a href="" target="_blank" data-saferedirecturl="https://www.google.com/url?q=https://lure.example/login&amp;source=gmail"><img src="https://cdn.example/logo.png"></a>`))
	assert.Equal(t, []string{"https://www.google.com/url?q=https://lure.example/login&source=gmail"}, s.list)
}

// TestAddHTMLScriptWritten checks that the links of HTML a page's script
// writes from an encoded string are found, and that malformed literals
// are skipped.
func TestAddHTMLScriptWritten(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"unescape", `<script>document.write(unescape("%3Cform%20action%3D%22https%3A//evil.example/post%22%3E%u0041"))</script>`, []string{"https://evil.example/post"}},
		{"decodeURIComponent", `<script>document.write(decodeURIComponent('%3Ca%20href%3D%22http%3A%2F%2Fb.example%2Fx%22%3E'));</script>`, []string{"http://b.example/x"}},
		{"atob", "<script>document.write(atob(`PGEgaHJlZj0iaHR0cHM6Ly9jLmV4YW1wbGUveSI+`))</script>", []string{"https://c.example/y"}},
		{"nested", `<script>document.write(unescape("%3Cscript%3Edocument.write(atob('PGEgaHJlZj0iaHR0cHM6Ly9jLmV4YW1wbGUveSI+'))%3C/script%3E"))</script>`, []string{"https://c.example/y"}},
		{"not a literal", `<script>document.write(unescape(x))</script>`, nil},
		{"unterminated", `<script>unescape("%3Ca%20href%3D%22http%3A//d.example/%22%3E`, nil},
		{"bad base64", `<script>atob("***")</script>`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Set
			s.AddHTML([]byte(tc.doc))
			assert.Equal(t, tc.want, s.list)
		})
	}
}

func FuzzAddScriptWritten(f *testing.F) {
	f.Add([]byte(`<script>document.write(unescape("%3Ca%20href%3D%22https%3A//e.example/%22%3E"))</script>`))
	f.Add([]byte("atob('PGEgaHJlZj0iaHR0cHM6Ly9jLmV4YW1wbGUveSI+') decodeURI(\"%u%2\")"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		var s Set
		s.AddScriptWritten(doc)
		if len(s.list) > MaxURLs {
			t.Fatalf("%d URLs", len(s.list))
		}
		if s.work.inflated > MaxInflatePerMessage {
			t.Fatalf("decoded %d bytes", s.work.inflated)
		}
	})
}
