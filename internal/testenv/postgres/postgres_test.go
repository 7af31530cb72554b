package postgres_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
)

func TestStartCreateDatabaseStop(t *testing.T) {
	s := postgres.Start(t, nil)
	ctx := context.Background()
	url := s.CreateDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var version string
	require.NoError(t, conn.QueryRow(ctx, "SHOW server_version").Scan(&version))
	t.Logf("PostgreSQL %s on %s", version, s.Addr)
	var fsync string
	require.NoError(t, conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
	require.Equal(t, "off", fsync, "a throwaway cluster runs without fsync by default")

	_, err = conn.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (42)")
	require.NoError(t, err)
	var v int
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM t").Scan(&v))
	require.Equal(t, 42, v)

	// A wrong password is refused: the cluster does not trust loopback.
	bad, err := pgx.ParseConfig(url)
	require.NoError(t, err)
	bad.Password = "wrong"
	_, err = pgx.ConnectConfig(ctx, bad)
	require.Error(t, err)

	s.Stop()
	_, err = pgx.Connect(ctx, url)
	require.Error(t, err, "the server is stopped")
	s.Stop() // a second Stop is harmless
}

func TestDurable(t *testing.T) {
	s := postgres.Start(t, &postgres.Options{Durable: true})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var fsync string
	require.NoError(t, conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync))
	require.Equal(t, "on", fsync)
}

// The server's CPU time grows with the work its backends do.
func TestCPUTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("read from /proc")
	}
	s := postgres.Start(t, nil)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.ConnString("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	before, err := s.CPUTime()
	require.NoError(t, err)
	var n int64
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM generate_series(1, 500000) a, md5(a::text) m WHERE m > 'f'").Scan(&n))
	require.Positive(t, n)
	after, err := s.CPUTime()
	require.NoError(t, err)
	require.Greater(t, after-before, 20*time.Millisecond, "a query of half a million md5s used the backend's CPU")
}
