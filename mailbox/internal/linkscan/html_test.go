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
