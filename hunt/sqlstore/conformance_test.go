package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/hunttest"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
)

func TestSQLiteConformance(t *testing.T) {
	hunttest.Run(t, func(t *testing.T) *hunttest.Harness {
		path := filepath.Join(t.TempDir(), "index.db")
		open := func(t *testing.T) (hunt.Store, error) {
			s, err := sqlstore.OpenSQLite(t.Context(), path, nil)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.Harness{Store: s, Reopen: open}
	})
}

func TestSQLiteStateConformance(t *testing.T) {
	hunttest.RunState(t, func(t *testing.T) *hunttest.StateHarness {
		path := filepath.Join(t.TempDir(), "index.db")
		open := func(t *testing.T) (hunttest.StateStore, error) {
			s, err := sqlstore.OpenSQLite(t.Context(), path, nil)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.StateHarness{Store: s, Reopen: open}
	})
}
