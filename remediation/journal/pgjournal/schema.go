package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// ErrSchemaTooNew means the database was created or migrated by a newer
// version of this package than the running one: its tables may hold what
// this version cannot read.
var ErrSchemaTooNew = errors.New("pgjournal: the journal's schema is newer than this version")

// migration takes the schema from one version to the next, in the
// transaction of [migrate].
type migration func(ctx context.Context, tx pgx.Tx, q queries, key *journal.Key) error

// migrations are the schema's versions, in order: migrations[i] takes a
// schema at version i to version i+1. A released migration is never
// changed; a change is a new migration at the end.
var migrations = [...]migration{
	// 1: the entries, in rows of one group commit each, and the head: the
	// seq the next row takes. Appends update the head in the statement
	// that inserts their row, so rows commit in seq order.
	sqlMigration(`CREATE TABLE {s}.rows (
		seq bigint PRIMARY KEY,
		payload bytea NOT NULL
	);
	CREATE TABLE {s}.head (
		one boolean PRIMARY KEY DEFAULT true CHECK (one),
		next_seq bigint NOT NULL
	);
	INSERT INTO {s}.head (next_seq) VALUES (0);`),
	// 2: the chain: each row's entries' MACs (NULL for entries written
	// without a key), and the number of entries and the last MAC in the
	// head. Rows written before get their MACs here when the journal
	// is opened with a key; otherwise they stay without, and Verify
	// reports the first of them.
	func(ctx context.Context, tx pgx.Tx, q queries, key *journal.Key) error {
		if err := sqlMigration(`ALTER TABLE {s}.rows ADD COLUMN macs bytea;
			ALTER TABLE {s}.head ADD COLUMN entries bigint NOT NULL DEFAULT 0, ADD COLUMN mac bytea;`)(ctx, tx, q, key); err != nil {
			return err
		}
		var c *journal.Chain
		if key != nil {
			c = journal.NewChain(key)
		}
		var n int64
		type sealed struct {
			seq  int64
			macs []byte
		}
		var rows []sealed
		err := scanRows(ctx, tx, q, func(r row) error {
			var macs []byte
			err := splitBlock(r.payload, func(raw []byte, pos int) error {
				n++
				if c != nil {
					m := c.Add(macInput(nil, raw, pos))
					macs = append(macs, m[:]...)
				}
				return nil
			})
			rows = append(rows, sealed{r.seq, macs})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `UPDATE `+q.schema+`.rows SET macs = $2 WHERE seq = $1`, r.seq, r.macs); err != nil {
				return err
			}
		}
		var mac []byte
		if c != nil && n > 0 {
			h := c.Head()
			mac = h.MAC[:]
		}
		_, err = tx.Exec(ctx, `UPDATE `+q.schema+`.head SET entries = $1, mac = $2`, n, mac)
		return err
	},
	// 3: the engines' leases, and the head's generation, which a
	// Rewrite moves on so that a follower knows to start over. The leases
	// are unlogged: a crash of the server empties the table, and every
	// engine finds out at its next renewal.
	sqlMigration(`CREATE UNLOGGED TABLE {s}.leases (
		key text PRIMARY KEY,
		holder text NOT NULL,
		expires timestamptz NOT NULL
	);
	ALTER TABLE {s}.head ADD COLUMN generation bigint NOT NULL DEFAULT 0;`),
	// 4: rows of format 2 (see rowV2): each Append call's entries share
	// one dictionary of strings. Rows written before keep format 1 and
	// read as they did; a version that knows only format 1 refuses the
	// schema rather than misread the new rows.
	sqlMigration(`COMMENT ON COLUMN {s}.rows.payload IS 'format 1: entries; format 2: a zero byte, then runs of entries sharing one dictionary'`),
}

func sqlMigration(sql string) migration {
	return func(ctx context.Context, tx pgx.Tx, q queries, _ *journal.Key) error {
		_, err := tx.Exec(ctx, strings.ReplaceAll(sql, "{s}", q.schema))
		return err
	}
}

// SchemaVersion is the schema version this package creates and reads.
const SchemaVersion = len(migrations)

// queries are the statements of one schema.
type queries struct {
	schema    string // quoted
	head      string
	lockHead  string
	setHead   string
	insert    string
	insertRow string
	deleteAll string
	page      string
	size      string
	follow    string
	bumpGen   string
	acquire   string
	renew     string
	release   string
}

func newQueries(schema string) queries {
	s := pgx.Identifier{schema}.Sanitize()
	r := strings.NewReplacer("{s}", s)
	return queries{
		schema:   s,
		head:     r.Replace(`SELECT next_seq, entries, mac FROM {s}.head`),
		lockHead: r.Replace(`SELECT next_seq, entries, mac FROM {s}.head FOR UPDATE`),
		setHead:  r.Replace(`UPDATE {s}.head SET next_seq = $1, entries = $2, mac = $3`),
		// One statement: the head moves from $1 only when nobody moved
		// it since it was read; otherwise nothing is inserted.
		insert: r.Replace(`WITH h AS (UPDATE {s}.head SET next_seq = $1 + 1, entries = $3, mac = $4 WHERE next_seq = $1 RETURNING 1)
			INSERT INTO {s}.rows (seq, payload, macs) SELECT $1, $2, $5 FROM h`),
		insertRow: r.Replace(`INSERT INTO {s}.rows (seq, payload, macs) VALUES ($1, $2, $3)`),
		deleteAll: r.Replace(`DELETE FROM {s}.rows`),
		page:      r.Replace(`SELECT seq, payload, macs FROM {s}.rows WHERE seq > $1 ORDER BY seq LIMIT $2`),
		size:      r.Replace(`SELECT coalesce(sum(octet_length(payload)), 0)::bigint FROM {s}.rows`),
		follow:    r.Replace(`SELECT generation FROM {s}.head`),
		bumpGen:   r.Replace(`UPDATE {s}.head SET generation = generation + 1`),
		// The leases' rows are created when missing; an existing one is
		// taken when it is free (expired, or this holder's) and no other
		// transaction has it locked: SKIP LOCKED, so that an engine never
		// waits for another's lease. Keys come sorted, so that concurrent
		// inserts of the same keys wait in one order.
		acquire: r.Replace(`WITH want AS (SELECT DISTINCT unnest($1::text[]) AS key ORDER BY key),
			ins AS (
				INSERT INTO {s}.leases (key, holder, expires)
				SELECT key, $2, clock_timestamp() + $3 * interval '1 millisecond' FROM want
				ON CONFLICT (key) DO NOTHING RETURNING key),
			free AS (
				SELECT l.key FROM {s}.leases l JOIN want USING (key)
				WHERE l.holder = $2 OR l.expires < clock_timestamp()
				FOR UPDATE OF l SKIP LOCKED),
			upd AS (
				UPDATE {s}.leases l SET holder = $2, expires = clock_timestamp() + $3 * interval '1 millisecond'
				FROM free WHERE l.key = free.key RETURNING l.key)
			SELECT key FROM ins UNION ALL SELECT key FROM upd`),
		renew: r.Replace(`UPDATE {s}.leases SET expires = clock_timestamp() + $3 * interval '1 millisecond'
			WHERE holder = $1 AND key = ANY($2) RETURNING key`),
		release: r.Replace(`DELETE FROM {s}.leases WHERE key = ANY($1) AND holder = $2`),
	}
}

// migrate brings the schema to version (creating it when missing) in one
// transaction, under an advisory lock that serialises concurrent openers.
func migrate(ctx context.Context, pool *pgxpool.Pool, q queries, key *journal.Key, version int) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "eradicate.pgjournal:"+q.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+q.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+q.schema+`.migrations (
			version integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+q.schema+`.migrations`).Scan(&have); err != nil {
			return err
		}
		if have > SchemaVersion {
			return fmt.Errorf("%w: schema %s is at version %d, this version knows %d", ErrSchemaTooNew, q.schema, have, SchemaVersion)
		}
		for v := have; v < version; v++ {
			if err := migrations[v](ctx, tx, q, key); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+q.schema+`.migrations (version) VALUES ($1)`, v+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrSchemaTooNew) {
		return fmt.Errorf("pgjournal: migrate schema %s: %w", q.schema, err)
	}
	return err
}
