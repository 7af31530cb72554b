package pgjournal_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

func TestConformance(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	t.Run("NoKey", func(t *testing.T) { conformance(t, url, nil) })
	t.Run("Key", func(t *testing.T) { conformance(t, url, testKey(t)) })
}

func conformance(t *testing.T, url string, key *journal.Key) {
	journaltest.Run(t, func(t *testing.T) *journaltest.Harness {
		// A schema per case: an empty journal in the shared database.
		opts := &pgjournal.Options{Schema: "j_" + servertest.RandomHex(t, 6), Key: key}
		open := func(t *testing.T) (remediation.Journal, error) {
			j, err := pgjournal.Open(context.Background(), url, opts)
			if err != nil {
				return nil, err
			}
			return j, nil
		}
		j, err := open(t)
		require.NoError(t, err)
		return &journaltest.Harness{Journal: j, Reopen: open}
	})
}
