package mailbox_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/corpus"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// manifestEntry is one line of the corpus MANIFEST.jsonl.
type manifestEntry struct {
	File        string `json:"file"`
	NURLs       int    `json:"n_urls"`
	Attachments []struct {
		Name   string `json:"name"`
		Type   string `json:"type"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	} `json:"attachments"`
	CalMethod string `json:"cal_method"`
}

func readManifest(t *testing.T, dir string) map[string]manifestEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.jsonl"))
	require.NoError(t, err)
	defer f.Close()
	out := make(map[string]manifestEntry)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e manifestEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e))
		out[e.File] = e
	}
	require.NoError(t, sc.Err())
	return out
}

// looksLikeMessage reports whether b starts with a header field (or an
// mbox From line), so that README and TSV files are not parsed.
func looksLikeMessage(b []byte) bool {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if bytes.HasPrefix(line, []byte("From ")) {
		return true
	}
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// TestCorpusParse parses every message of the shared corpus and checks the
// attachments against the corpus manifest.
func TestCorpusParse(t *testing.T) {
	dir := corpus.Dir(t)
	manifest := readManifest(t, dir)

	var messages, withURLs, withAtts, withCals, withErrs int
	var potTotal, potWithURLs int
	seen := make(map[string]bool)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.HasSuffix(rel, ".eml") && !looksLikeMessage(raw) {
			return nil
		}
		messages++
		p, perr := mailbox.Parse(raw)
		require.NotNil(t, p, rel)
		if perr != nil {
			withErrs++
			require.ErrorIs(t, perr, mailbox.ErrMalformed, rel)
			t.Logf("%s: %v", rel, perr)
		}
		assert.Equal(t, len(raw), p.Size, rel)
		if len(p.URLs) > 0 {
			withURLs++
		}
		if len(p.Attachments) > 0 {
			withAtts++
		}
		if len(p.Calendars) > 0 {
			withCals++
		}
		if strings.HasPrefix(rel, "phishing/phishing_pot/") {
			potTotal++
			if len(p.URLs) > 0 {
				potWithURLs++
			}
		}
		m, ok := manifest[rel]
		if !ok {
			return nil
		}
		seen[rel] = true
		have := make(map[string]mailbox.Attachment, len(p.Attachments))
		for _, a := range p.Attachments {
			have[a.SHA256] = a
		}
		for _, want := range m.Attachments {
			got, ok := have[want.SHA256]
			if assert.True(t, ok, "%s: attachment %q (%s, %d bytes, %s) not found; have %v", rel, want.Name, want.Type, want.Size, want.SHA256, summarize(p.Attachments)) {
				assert.Equal(t, want.Size, got.Size, "%s: %s", rel, want.Name)
			}
		}
		if m.CalMethod != "" {
			assert.NotEmpty(t, p.Calendars, "%s: manifest has an iCalendar METHOD %s", rel, m.CalMethod)
		}
		return nil
	})
	require.NoError(t, err)

	for file := range manifest {
		if !seen[file] {
			if _, err := os.Stat(filepath.Join(dir, file)); errors.Is(err, fs.ErrNotExist) {
				t.Logf("manifest lists %s, which is not in the corpus", file)
			}
		}
	}
	t.Logf("messages %d, with URLs %d, with attachments %d, with calendar parts %d, with errors %d",
		messages, withURLs, withAtts, withCals, withErrs)
	t.Logf("phishing_pot: %d of %d with URLs", potWithURLs, potTotal)
	require.NotZero(t, messages)
	require.NotZero(t, potTotal)
	require.GreaterOrEqual(t, float64(potWithURLs), 0.9*float64(potTotal), "URLs found in too few phishing_pot messages")
}

func summarize(atts []mailbox.Attachment) []string {
	var out []string
	for _, a := range atts {
		out = append(out, a.Filename+" "+a.MediaType+" "+a.SHA256[:12])
	}
	return out
}
