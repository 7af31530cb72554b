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

func TestMemoryJournalConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
		return &journaltest.Harness{Journal: journal.NewMemory()}
	})
}

func TestFileJournalConformance(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness { return fileHarness(t, nil) })
}

// fileHarness is the suite's harness of a file journal opened with opts.
func fileHarness(t *testing.T, opts func(t *testing.T) *journal.FileOptions) *journaltest.Harness {
	path := filepath.Join(t.TempDir(), "journal")
	open := func(t *testing.T) (remediation.Journal, error) {
		var o *journal.FileOptions
		if opts != nil {
			o = opts(t)
		}
		j, err := journal.OpenFile(path, o)
		if err != nil {
			return nil, err // not a nil *journal.File in a non-nil Journal
		}
		return j, nil
	}
	j, err := open(t)
	require.NoError(t, err)
	return &journaltest.Harness{
		Journal: j,
		Reopen:  open,
		// A crash in the middle of the last group commit: its last
		// bytes never reached the disk.
		TearLastWrite: func(t *testing.T) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, st.Size()-3))
		},
		Exclusive: journal.Locking,
	}
}
