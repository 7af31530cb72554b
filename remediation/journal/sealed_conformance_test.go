package journal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation"
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
		path := filepath.Join(t.TempDir(), "journal")
		open := func(t *testing.T) (remediation.Journal, error) {
			j, err := journal.OpenFile(path, &journal.FileOptions{Key: chainKey(t)})
			if err != nil {
				return nil, err
			}
			return j, nil
		}
		j, err := open(t)
		require.NoError(t, err)
		return &journaltest.Harness{
			Journal: j,
			Reopen:  open,
			TearLastWrite: func(t *testing.T) {
				st, err := os.Stat(path)
				require.NoError(t, err)
				require.NoError(t, os.Truncate(path, st.Size()-3))
			},
			Exclusive: journal.Locking,
		}
	})
}
