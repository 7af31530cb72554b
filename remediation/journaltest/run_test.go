package journaltest_test

import (
	"testing"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

// TestWithoutRewriter runs the suite against a journal that is a
// remediation.Journal and nothing more: the cases of the Rewriter skip,
// saying so, and the others pass.
func TestWithoutRewriter(t *testing.T) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
		return &journaltest.Harness{Journal: plainJournal{journal.NewMemory()}}
	})
}

// plainJournal hides every method but those of remediation.Journal.
type plainJournal struct{ remediation.Journal }
