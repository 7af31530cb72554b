package pgjournal_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
	"github.com/eradicate-dev/eradicate/remediation/journaltest"
)

// A database that version 1 of the schema created, with entries in it,
// is migrated by Open: the entries replay, and with a key they are
// sealed into the chain.
func TestMigrateFromVersion1(t *testing.T) {
	srv := postgres.Start(t, nil)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, srv.CreateDatabase(t))
	require.NoError(t, err)
	defer pool.Close()

	want := journaltest.Entries()
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			schema := fmt.Sprintf("v1_%v", keyed)
			require.NoError(t, pgjournal.MigrateTo(ctx, pool, schema, 1))
			s := pgx.Identifier{schema}.Sanitize()
			for i, e := range want {
				b, err := pgjournal.EncodeRowV1([]remediation.Entry{e})
				require.NoError(t, err)
				_, err = pool.Exec(ctx, `INSERT INTO `+s+`.rows (seq, payload) VALUES ($1, $2)`, i, b)
				require.NoError(t, err)
			}
			_, err := pool.Exec(ctx, `UPDATE `+s+`.head SET next_seq = $1`, len(want))
			require.NoError(t, err)

			opts := &pgjournal.Options{Schema: schema}
			if keyed {
				opts.Key = testKey(t)
			}
			j, err := pgjournal.OpenPool(ctx, pool, opts)
			require.NoError(t, err)
			defer j.Close()
			var got []remediation.Entry
			for e, err := range j.Replay(ctx) {
				require.NoError(t, err)
				got = append(got, e)
			}
			require.Len(t, got, len(want))
			more := journaltest.Entries()[0]
			require.NoError(t, j.Append(ctx, more))
			if keyed {
				h, err := j.Verify(ctx)
				require.NoError(t, err)
				require.EqualValues(t, len(want)+1, h.Entries)
			}
			var version int
			require.NoError(t, pool.QueryRow(ctx, `SELECT max(version) FROM `+s+`.migrations`).Scan(&version))
			require.Equal(t, pgjournal.SchemaVersion, version)
		})
	}
}

func TestSchemaTooNew(t *testing.T) {
	srv := postgres.Start(t, nil)
	ctx := context.Background()
	url := srv.CreateDatabase(t)
	j, err := pgjournal.Open(ctx, url, nil)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO eradicate.migrations (version) VALUES ($1)`, pgjournal.SchemaVersion+1)
	require.NoError(t, err)
	_, err = pgjournal.Open(ctx, url, nil)
	require.ErrorIs(t, err, pgjournal.ErrSchemaTooNew)
}
