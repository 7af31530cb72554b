package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/hunttest"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
)

// opener adapts open to a harness's Reopen, which gives a nil S (not a
// nil *sqlstore.Store in an S) on an error.
func opener[S any](open func(t *testing.T) (*sqlstore.Store, error)) func(t *testing.T) (S, error) {
	return func(t *testing.T) (S, error) {
		s, err := open(t)
		if err != nil {
			var none S
			return none, err
		}
		return any(s).(S), nil
	}
}

// sqliteFile returns a function that opens a new SQLite file of the
// case's.
func sqliteFile(t *testing.T) func(t *testing.T) (*sqlstore.Store, error) {
	path := filepath.Join(t.TempDir(), "index.db")
	return func(t *testing.T) (*sqlstore.Store, error) { return sqlstore.OpenSQLite(t.Context(), path, nil) }
}

func TestSQLiteConformance(t *testing.T) {
	hunttest.Run(t, func(t *testing.T) *hunttest.Harness {
		open := opener[hunt.Store](sqliteFile(t))
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.Harness{Store: s, Reopen: open}
	})
}

func TestSQLiteStateConformance(t *testing.T) {
	hunttest.RunState(t, func(t *testing.T) *hunttest.StateHarness {
		open := opener[hunttest.StateStore](sqliteFile(t))
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.StateHarness{Store: s, Reopen: open}
	})
}
