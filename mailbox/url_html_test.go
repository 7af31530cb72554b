package mailbox

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan"
	"github.com/eradicate-dev/eradicate/mailbox/internal/linkscan/linkscantest"
)

// TestParseMetaRefreshLowerCaseLonger is the case where the
// tokenizer-based reading of HTML links panicked: a meta refresh whose
// content grows when lower-cased (each invalid UTF-8 byte becomes U+FFFD)
// before "url=". The URL is found whatever comes before "url=".
func TestParseMetaRefreshLowerCaseLonger(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"000\xfeURL=", ""},
		{"\xfe\xfe\xfe\xfe\xfe\xfeurl=http://x.example/", "http://x.example/"},
		{"0;\xfe\xfeUrL=http://y.example/", "http://y.example/"},
		{"ȺȺȺȺurl=http://shorter.example/", "http://shorter.example/"},
	} {
		raw := "Content-Type: text/html\r\n\r\n<meta http-equiv=refresh content=\"" + tc.content + "\"><a href=\"http://after.example/\">"
		var p *Parsed
		require.NotPanics(t, func() { p, _ = Parse([]byte(raw)) }, "%q", tc.content)
		want := []string{"http://after.example/"}
		if tc.want != "" {
			want = []string{tc.want, "http://after.example/"}
		}
		assert.Equal(t, want, p.URLs, "%q", tc.content)
	}
}

// htmlParts returns the documents Parse hands to linkscan's AddHTML for
// raw: the text/html parts, in their charset converted to UTF-8, and the
// attachments read as HTML, at any depth.
func htmlParts(raw []byte) [][]byte {
	var out [][]byte
	nop := func(string) {}
	var walk func(h header, body []byte, depth int)
	walk = func(h header, body []byte, depth int) {
		if depth > MaxDepth {
			return
		}
		mt, params := parseMediaValue(h.get("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") {
			parts, _ := splitMultipart(body, params["boundary"])
			if parts == nil {
				if alt := guessBoundary(body); alt != "" {
					parts, _ = splitMultipart(body, alt)
				}
			}
			for _, part := range parts {
				ph, pbody := readHeader(part, nop)
				walk(ph, pbody, depth+1)
			}
			return
		}
		content, _ := decodeTransfer(h.get("Content-Transfer-Encoding"), body)
		if mt == "message/rfc822" || mt == "message/global" {
			ih, ibody := readHeader(content, nop)
			walk(ih, ibody, depth+1)
			return
		}
		_, dparams := parseMediaValue(h.get("Content-Disposition"))
		name := strings.ToLower(dparams["filename"] + params["name"])
		head := content[:min(len(content), 1024)]
		switch {
		case mt == "text/html":
			t, _ := charsetDecode(params["charset"], content)
			out = append(out, t)
		case mt == "application/xhtml+xml" || hasAnySuffix(name, ".htm", ".html", ".xhtml", ".shtml") || linkscan.LooksLikeHTML(head):
			out = append(out, content)
		}
	}
	h, body := readHeader(raw, nop)
	walk(h, body, 0)
	return out
}

// TestAddHTMLCorpus compares linkscan's AddHTML with the oracle on every
// HTML part of the shared corpus, and on every message read whole as HTML.
func TestAddHTMLCorpus(t *testing.T) {
	dir := corpus.Dir(t)
	var messages, parts, partBytes, wholeBytes, urls int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		messages++
		for i, doc := range htmlParts(raw) {
			parts++
			partBytes += len(doc)
			linkscantest.CheckSameURLs(t, fmt.Sprintf("%s HTML part %d", rel, i), doc)
			got, _ := linkscantest.URLs(doc, false)
			urls += len(got)
		}
		wholeBytes += len(raw)
		linkscantest.CheckSameURLs(t, rel+" whole", raw)
		return nil
	})
	require.NoError(t, err)
	t.Logf("%d files; %d HTML parts (%d bytes, %d URLs); %d bytes read whole", messages, parts, partBytes, urls, wholeBytes)
	require.NotZero(t, parts)
}

// hasAnySuffix reports whether s ends with one of suffixes.
func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}
