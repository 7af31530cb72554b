package journal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

func chainKey(t *testing.T) *journal.Key {
	t.Helper()
	k, err := journal.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return k
}

// The journals with a key pass the suite too: seals change nothing of
// what is appended and replayed.
func TestSealedMemoryJournalConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
		return &journaltest.Harness{Journal: journal.NewSealedMemory(chainKey(t))}
	})
}

func TestSealedFileJournalConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
		return fileHarness(t, func(t *testing.T) *journal.FileOptions { return &journal.FileOptions{Key: chainKey(t)} })
	})
}
