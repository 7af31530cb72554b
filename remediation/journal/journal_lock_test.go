package journal_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// TestFileJournalSecondOpenIsRefused: two FileJournals on one file each
// appended at their own idea of its end, so that records vanished on
// reopening without an error. The second open is refused, naming the
// file, while the first is open, also after a rewrite replaced the file;
// after Close the file opens again with every entry.
func TestFileJournalSecondOpenIsRefused(t *testing.T) {
	if !journal.Locking {
		t.Skip("no journal lock on this platform")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	j, err := journal.OpenFile(path, nil)
	require.NoError(t, err)
	entries := sampleEntries()
	require.NoError(t, j.Append(ctx, entries[:2]...))

	refused := func(when string) {
		t.Helper()
		j2, err := journal.OpenFile(path, nil)
		if err == nil {
			j2.Close()
		}
		require.ErrorIs(t, err, journal.ErrLocked, when)
		assert.Contains(t, err.Error(), path, "the error names the file")
	}
	refused("while open")
	// A refused open touches nothing: not a rewrite's file either.
	require.NoError(t, os.WriteFile(path+".compact", []byte("a rewrite under way"), 0o600))
	refused("with a rewrite's file")
	_, err = os.Stat(path + ".compact")
	require.NoError(t, err, "a refused open removed the rewrite's file")
	require.NoError(t, os.Remove(path+".compact"))

	// A rewrite renames a new file over the journal: the lock stays.
	_, _, err = j.Rewrite(ctx, func(*remediation.Entry) bool { return true })
	require.NoError(t, err)
	refused("after a rewrite")
	require.NoError(t, j.Append(ctx, entries[2:]...))
	require.NoError(t, j.Close())

	j, err = journal.OpenFile(path, nil)
	require.NoError(t, err, "Close releases the lock")
	defer j.Close()
	assert.Len(t, replayAll(t, j), len(entries), "every entry survives")
}

// TestFileJournalSecondProcessIsRefused: the lock holds across processes.
// The test binary runs itself as the second opener.
func TestFileJournalSecondProcessIsRefused(t *testing.T) {
	if path := os.Getenv("ERADICATE_TEST_OPEN_JOURNAL"); path != "" {
		// The child: report what opening gave.
		j, err := journal.OpenFile(path, nil)
		if err != nil {
			os.Stdout.WriteString("open error: " + err.Error() + "\n")
			os.Exit(0)
		}
		j.Close()
		os.Stdout.WriteString("opened\n")
		os.Exit(0)
	}
	if !journal.Locking {
		t.Skip("no journal lock on this platform")
	}
	if testing.Short() {
		t.Skip("-short: no child process")
	}
	path := filepath.Join(t.TempDir(), "journal")
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileJournalSecondProcessIsRefused$")
		cmd.Env = append(os.Environ(), "ERADICATE_TEST_OPEN_JOURNAL="+path)
		out, err := cmd.Output()
		require.NoError(t, err)
		return string(out)
	}
	j, err := journal.OpenFile(path, nil)
	require.NoError(t, err)
	out := child()
	assert.True(t, strings.HasPrefix(out, "open error: "+journal.ErrLocked.Error()+": "+path), "child: %s", out)
	require.NoError(t, j.Close())
	assert.Equal(t, "opened\n", child(), "Close releases the lock for other processes")
}
