package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/api"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// ansi matches terminal escape sequences.
var ansi = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// TestProgressBar: the bar drawn on a terminal counts the copies done of
// those selected, ends complete, and shows a count alone when the total is
// not known.
func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	b := newProgressWidth(context.Background(), &out, "soft_delete X", 4, 120)
	b.update(&remediation.Record{Status: remediation.StatusRunning, Counts: remediation.Counts{Succeeded: 1}})
	b.finish(&remediation.Record{Status: remediation.StatusCompleted, Counts: remediation.Counts{Succeeded: 3, NotFound: 1}})
	text := ansi.ReplaceAllString(out.String(), "")
	assert.Contains(t, text, "soft_delete X")
	assert.Contains(t, text, "4 / 4 copies")
	assert.Contains(t, text, "100 %")
	assert.Contains(t, text, "completed")

	out.Reset()
	b = newProgressWidth(context.Background(), &out, "release Y", 0, 120)
	b.update(&remediation.Record{Status: remediation.StatusRunning, Counts: remediation.Counts{Succeeded: 2}})
	b.finish(&remediation.Record{Status: remediation.StatusCompleted, Counts: remediation.Counts{Succeeded: 5}})
	assert.Contains(t, ansi.ReplaceAllString(out.String(), ""), "5 copies")

	// More copies than expected: the total follows.
	out.Reset()
	b = newProgressWidth(context.Background(), &out, "soft_delete Z", 2, 120)
	b.finish(&remediation.Record{Status: remediation.StatusCompleted, Counts: remediation.Counts{Succeeded: 3}})
	assert.Contains(t, ansi.ReplaceAllString(out.String(), ""), "3 / 3 copies")

	var nilBar *progressBar
	nilBar.update(&remediation.Record{})
	nilBar.finish(nil)
}

// TestNoBarOffTerminal: commands whose standard error is not a terminal
// (a pipe, a file, a script) print no bar and no progress at all, with or
// without -json; the record is printed as before.
func TestNoBarOffTerminal(t *testing.T) {
	tenant := mock.New(nil)
	for _, u := range e2eUsers {
		require.NoError(t, tenant.AddUser(u))
	}
	for _, id := range []string{"a@evil.example", "b@evil.example"} {
		_, err := tenant.Deliver(context.Background(), []byte(plainEML(id, "Invoice", e2eUsers...)), nil)
		require.NoError(t, err)
	}
	engine, err := remediation.New(tenant, tenant, journal.NewMemory(), nil)
	require.NoError(t, err)
	tok, err := api.NewToken()
	require.NoError(t, err)
	auth, err := api.NewTokens([]api.Token{{Name: "analyst", SHA256: api.HashToken(tok), Roles: []api.Role{api.RoleAnalyst}}})
	require.NoError(t, err)
	h, err := api.New(engine, api.Options{Auth: auth})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("ERADICATE_URL", srv.URL)
	t.Setenv("ERADICATE_TOKEN", tok)

	cmd := func(args ...string) (string, string) {
		var out, errb bytes.Buffer
		require.NoError(t, run(context.Background(), args, &out, &errb), "%s", errb.String())
		return out.String(), errb.String()
	}
	out, errs := cmd("remediate", "-action", "soft_delete", "-message-id", "a@evil.example")
	assert.Empty(t, errs, "no bar off a terminal")
	assert.Contains(t, out, "3 succeeded")
	id := strings.Fields(grepLine(out, "id"))[1]
	out, errs = cmd("undo", id, "-json")
	assert.Empty(t, errs)
	var rec remediation.Record
	require.NoError(t, json.Unmarshal([]byte(out), &rec), "-json prints the record alone: %q", out)
	assert.EqualValues(t, 3, rec.Counts.Succeeded)
	_, errs = cmd("remediate", "-action", "soft_delete", "-message-id", "b@evil.example", "-json")
	assert.Empty(t, errs)
}
