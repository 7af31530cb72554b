package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// sealedJournal writes a journal sealed with a new key through an engine
// that soft-deletes a message and undoes it; it returns the journal's and
// the key's files and the head exported after the first action.
func sealedJournal(t *testing.T, dir string) (path, keyFile string, first journal.Head, firstSize int64) {
	t.Helper()
	ctx := context.Background()
	path, keyFile = filepath.Join(dir, "journal"), filepath.Join(dir, "journal.key")
	key, err := journal.WriteKeyFile(keyFile)
	require.NoError(t, err)
	tenant := mock.New(nil)
	for _, u := range e2eUsers {
		require.NoError(t, tenant.AddUser(u))
	}
	_, err = tenant.Deliver(ctx, []byte(plainEML("invoice@evil.example", "Invoice", e2eUsers...)), nil)
	require.NoError(t, err)
	j, err := journal.OpenFile(path, &journal.FileOptions{Key: key})
	require.NoError(t, err)
	e, err := remediation.New(tenant, tenant, j, nil)
	require.NoError(t, err)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"invoice@evil.example"}}}})
	require.NoError(t, err)
	first, err = j.Head()
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	firstSize = st.Size()
	_, err = e.Undo(ctx, rec.ID, "analyst")
	require.NoError(t, err)
	require.NoError(t, j.Close())
	return path, keyFile, first, firstSize
}

func runVerify(t *testing.T, args ...string) (verifyReport, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"verify", "-json"}, args...), &out, &errb)
	var rep verifyReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "verify -json printed %q (%s)", out.String(), errb.String())
	var table bytes.Buffer
	_ = run(context.Background(), append([]string{"verify"}, args...), &table, &errb)
	return rep, table.String(), err
}

// TestVerify: verify reports a sealed journal's chain as a table or JSON,
// checks exported heads, and exits non-zero on a journal whose entries
// were changed or cut off, naming the first bad entry.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	path, keyFile, first, firstSize := sealedJournal(t, dir)

	rep, table, err := runVerify(t, "-journal", path, "-key", keyFile, "-head", first.String())
	require.NoError(t, err)
	assert.True(t, rep.OK)
	assert.Equal(t, 1, rep.HeadsChecked)
	assert.Greater(t, rep.Entries, first.Entries, "the undo came after the exported head")
	head, err := journal.ParseHead(rep.Head)
	require.NoError(t, err)
	assert.Equal(t, rep.Entries, head.Entries)
	assert.Contains(t, table, "chain          ok")

	// The same through the config, with heads read from a log.
	cfg := filepath.Join(dir, "eradicate.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("journal = \""+path+"\"\njournal_key = \""+keyFile+"\"\n"), 0o600))
	logf := filepath.Join(dir, "serve.log")
	require.NoError(t, os.WriteFile(logf, []byte("time=x level=INFO msg=\"journal head\" head=\""+first.String()+"\"\nother line\n"), 0o600))
	rep2, _, err := runVerify(t, "-config", cfg, "-heads", logf)
	require.NoError(t, err)
	assert.Equal(t, rep.Head, rep2.Head)
	assert.Equal(t, 1, rep2.HeadsChecked)

	// Changed: one byte of an entry flipped.
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	changed := filepath.Join(dir, "changed")
	bad := bytes.Clone(raw)
	i := bytes.Index(bad, []byte("invoice@evil.example"))
	require.Positive(t, i)
	bad[i] = 'I'
	require.NoError(t, os.WriteFile(changed, bad, 0o600))
	rep, table, err = runVerify(t, "-journal", changed, "-key", keyFile)
	require.ErrorIs(t, err, errChainBroken)
	assert.False(t, rep.OK)
	assert.NotEmpty(t, rep.Error)
	assert.Contains(t, table, "BROKEN")

	// Cut short: the undo's writes removed. The chain that is left
	// verifies alone; the head exported after the undo shows the cut.
	last := rep2.Head
	cut := filepath.Join(dir, "cut")
	require.NoError(t, os.WriteFile(cut, raw[:firstSize], 0o600))
	rep, _, err = runVerify(t, "-journal", cut, "-key", keyFile)
	require.NoError(t, err)
	assert.Equal(t, first.String(), rep.Head)
	rep, table, err = runVerify(t, "-journal", cut, "-key", keyFile, "-head", last)
	require.ErrorIs(t, err, errChainBroken)
	require.NotNil(t, rep.BrokenAt, "%+v", rep)
	assert.Equal(t, first.Entries, *rep.BrokenAt, "the first entry missing")
	assert.Contains(t, table, "first bad entry")

	// Forged: entries appended by a writer without the key.
	forged := filepath.Join(dir, "forged")
	require.NoError(t, os.WriteFile(forged, raw, 0o600))
	fj, err := journal.OpenFile(forged, nil)
	require.NoError(t, err)
	e, err := remediation.New(mock.New(nil), nil, fj, nil)
	require.NoError(t, err)
	_, err = e.Propose(context.Background(), remediation.Request{Action: remediation.HardDelete, Actor: "intruder",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"x@y"}}}})
	require.NoError(t, err)
	require.NoError(t, fj.Close())
	rep, _, err = runVerify(t, "-journal", forged, "-key", keyFile)
	require.ErrorIs(t, err, errChainBroken)
	require.NotNil(t, rep.BrokenAt, "%+v", rep)
	assert.Equal(t, head.Entries, *rep.BrokenAt, "the first forged entry")
	assert.Contains(t, rep.Error, "no MAC")

	// Usage errors are not a broken chain.
	_, err = runVerifyRaw("-journal", forged)
	require.ErrorContains(t, err, "-journal needs -key")
	require.NotErrorIs(t, err, errChainBroken)
	_, err = runVerifyRaw("-config", filepath.Join(dir, "missing.toml"))
	require.Error(t, err)
	require.NotErrorIs(t, err, errChainBroken)
}

func runVerifyRaw(args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"verify"}, args...), &out, &errb)
	return out.String(), err
}

// TestLogHeads: serve logs a sealed journal's head when it changed, not
// when it did not.
func TestLogHeads(t *testing.T) {
	dir := t.TempDir()
	key, err := journal.WriteKeyFile(filepath.Join(dir, "key"))
	require.NoError(t, err)
	j, err := journal.OpenFile(filepath.Join(dir, "journal"), &journal.FileOptions{Key: key})
	require.NoError(t, err)
	defer j.Close()
	tenant := mock.New(nil)
	require.NoError(t, tenant.AddUser(e2eUsers[0]))
	_, err = tenant.Deliver(context.Background(), []byte(plainEML("x@evil.example", "x", e2eUsers[0])), nil)
	require.NoError(t, err)
	e, err := remediation.New(tenant, tenant, j, nil)
	require.NoError(t, err)

	logs := &bytes.Buffer{}
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); logHeads(ctx, 10*time.Millisecond, j, log) }()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	assert.Empty(t, logs.String(), "nothing changed, nothing logged")
	mu.Unlock()
	_, err = e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"x@evil.example"}}}})
	require.NoError(t, err)
	h, err := j.Head()
	require.NoError(t, err)
	eventually(t, "the new head is logged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), h.String())
	})
	mu.Lock()
	n := strings.Count(logs.String(), "msg=\"journal head\"")
	mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	assert.Equal(t, n, strings.Count(logs.String(), "msg=\"journal head\""), "an unchanged head is not logged again")
	mu.Unlock()
	cancel()
	<-done
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
