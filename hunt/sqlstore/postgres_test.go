package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/hunt/hunttest"
	"github.com/eradicate-dev/eradicate/hunt/sqlstore"
	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
)

// pgDatabase returns a function that opens a new database of the
// case's on srv.
func pgDatabase(t *testing.T, srv *postgres.Server) func(t *testing.T) (*sqlstore.Store, error) {
	dsn := srv.CreateDatabase(t)
	return func(t *testing.T) (*sqlstore.Store, error) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		return sqlstore.OpenPostgres(t.Context(), db, nil)
	}
}

// TestPostgresConformance runs the index's conformance suite on a real
// PostgreSQL, one database per case.
func TestPostgresConformance(t *testing.T) {
	srv := postgres.Start(t, nil)
	hunttest.Run(t, func(t *testing.T) *hunttest.Harness {
		open := opener[hunt.Store](pgDatabase(t, srv))
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.Harness{Store: s, Reopen: open}
	})
}

// TestPostgresStateConformance runs the conformance cases of the state
// kept beside the index on a real PostgreSQL, one database per case.
func TestPostgresStateConformance(t *testing.T) {
	srv := postgres.Start(t, nil)
	hunttest.RunState(t, func(t *testing.T) *hunttest.StateHarness {
		open := opener[hunttest.StateStore](pgDatabase(t, srv))
		s, err := open(t)
		require.NoError(t, err)
		return &hunttest.StateHarness{Store: s, Reopen: open}
	})
}

// BenchmarkIndexHuntPostgres is BenchmarkIndexHunt on a real PostgreSQL:
// the same index, built (and ANALYZEd) before the hunts; it reports the
// database's size per message.
//
// Run: go test -run '^$' -bench '^BenchmarkIndexHuntPostgres$' -benchtime 200x ./hunt/sqlstore
func BenchmarkIndexHuntPostgres(b *testing.B) {
	srv := postgres.Start(b, nil)
	db, err := sql.Open("pgx", srv.CreateDatabase(b))
	require.NoError(b, err)
	ctx := context.Background()
	s, err := sqlstore.OpenPostgres(ctx, db, nil)
	require.NoError(b, err)
	defer s.Close()
	n := benchSize()
	t0 := time.Now()
	require.NoError(b, fillIndex(ctx, s, n))
	rate := float64(n) / time.Since(t0).Seconds()
	_, err = db.ExecContext(ctx, `ANALYZE`)
	require.NoError(b, err)
	var size int64
	require.NoError(b, db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&size))
	benchHunts(b, s)
	b.ReportMetric(float64(size)/float64(n), "db-bytes/msg")
	b.ReportMetric(rate, "build-msgs/s")
	b.ReportMetric(float64(n), "messages")
}
