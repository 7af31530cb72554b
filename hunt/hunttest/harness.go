package hunttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/internal/conformance"
)

// Harness is what a store hands the suite for one case.
type Harness struct {
	// Store is the store under test: open and empty. The suite closes it
	// (a second Close is not checked).
	Store hunt.Store

	// Reopen opens the store again from where Store keeps it, as a
	// restarted process would. The suite calls it after closing the
	// store. On an error it returns a nil Store (not a nil pointer in a
	// Store). nil means the store does not outlive Close: the Reopen cases
	// are skipped.
	Reopen func(t *testing.T) (hunt.Store, error)

	// Concurrency is the number of goroutines of the concurrency cases;
	// 0 means 8.
	Concurrency int
	// Skip names cases the store cannot pass, by "Group/Case" (for
	// example "Counts/Buckets"), with the reason; each is skipped with its
	// reason in the test log. Prefer a fix to a skip.
	Skip map[string]string
}

// Run runs the conformance suite against the store newHarness returns.
// It calls newHarness once per case, with the case's *testing.T.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	conformance.Run(t, groups(), newHarness, newEnv, func(h *Harness) map[string]string { return h.Skip })
}

type testCase = conformance.Case[*env]

func groups() []conformance.Group[*env] {
	return []conformance.Group[*env]{
		{Name: "Ingest", Cases: ingestCases()},
		{Name: "Query", Cases: queryCases()},
		{Name: "Relocate", Cases: relocateCases()},
		{Name: "Annotate", Cases: annotateCases()},
		{Name: "Counts", Cases: countCases()},
		{Name: "Cursor", Cases: cursorCases()},
		{Name: "Pending", Cases: pendingCases()},
		{Name: "Expire", Cases: expireCases()},
		{Name: "Concurrent", Cases: concurrentCases()},
		{Name: "Close", Cases: closeCases()},
		{Name: "Reopen", Cases: reopenCases()},
	}
}

func newEnv(t *testing.T, h *Harness) *env {
	require.NotNil(t, h.Store, "the harness has no store")
	e := &env{Harness: h, ctx: t.Context()}
	e.track(t, h.Store)
	return e
}

// env is one case's view of the harness, with helpers.
type env struct {
	*Harness
	ctx context.Context
}

// track closes s when the case ends.
func (e *env) track(t *testing.T, s hunt.Store) {
	t.Cleanup(func() { s.Close() })
}

func (e *env) concurrency() int {
	if e.Concurrency > 0 {
		return e.Concurrency
	}
	return 8
}
