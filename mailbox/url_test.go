package mailbox

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestURLCap(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxURLs+50; i++ {
		b.WriteString("http://h" + strconv.Itoa(i) + ".example.com/ ")
	}
	p, err := Parse([]byte("Content-Type: text/plain\n\n" + b.String()))
	require.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "more than 10000 URLs")
	assert.Len(t, p.URLs, MaxURLs)
	assert.Equal(t, "http://h0.example.com/", p.URLs[0])
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Example.COM", "http://example.com/"},
		{"https://example.com:443/a?b=C#frag", "https://example.com/a?b=C"},
		{"http://example.com:8080/", "http://example.com/"}, // the port is not part of the identity, as in clusters
		{"http://example.com:80", "http://example.com/"},
		{"ftp://Files.Example.com:21/x", "ftp://files.example.com/x"},
		{"  https://example.com/Path  ", "https://example.com/Path"},
		{"www.Example.com/a", "http://www.example.com/a"},
		{"http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"},
		{"https://example.com/a%2Fb?q=%41", "https://example.com/a/b?q=A"},
		{"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2FEvil.example%2Fa&data=x", "https://evil.example/a"},
		{"http://u:p@0x7f.1/./a/../b#x", "http://127.0.0.1/b"},
		{"mailto:A@Example.com", "mailto:A@Example.com"},
		{"not a url", "not a url"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, NormalizeURL(tt.in))
		})
	}
}
