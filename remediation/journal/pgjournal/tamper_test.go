package pgjournal_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/internal/testenv/postgres"
	"github.com/eradicate-dev/eradicate/internal/testenv/servertest"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
	"github.com/eradicate-dev/eradicate/remediation/journal/pgjournal"
)

func testKey(t *testing.T) *journal.Key {
	t.Helper()
	k, err := journal.NewKey([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return k
}

// tamperCase is a journal with some history, an engine's, that a test
// then damages through SQL, as anyone with write access to the database
// could.
type tamperCase struct {
	url  string
	opts *pgjournal.Options
	db   *pgx.Conn
	tn   *mock.Tenant
	head journal.Head // exported after the history was written
}

func (c *tamperCase) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := c.db.Exec(context.Background(), fmt.Sprintf(sql, pgx.Identifier{c.opts.Schema}.Sanitize()), args...)
	require.NoError(t, err, sql)
}

func (c *tamperCase) open(t *testing.T, opts *pgjournal.Options) *pgjournal.Journal {
	t.Helper()
	j, err := pgjournal.Open(context.Background(), c.url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j
}

// newTamperCase writes the history of three actions over the mock, each
// in its own rows, and exports the head.
func newTamperCase(t *testing.T, url string) *tamperCase {
	ctx := context.Background()
	c := &tamperCase{url: url, opts: &pgjournal.Options{Schema: "t_" + servertest.RandomHex(t, 6), Key: testKey(t)}}
	db, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close(ctx) })
	c.db = db
	c.tn = mock.New(nil)
	for _, u := range []string{"alice@corp.example", "bob@corp.example"} {
		require.NoError(t, c.tn.AddUser(u))
	}
	j := c.open(t, c.opts)
	e, err := remediation.New(c.tn, nil, j, nil)
	require.NoError(t, err)
	for i := range 3 {
		raw := fmt.Appendf(nil, "Message-ID: <m%d@evil.example>\r\nFrom: x@evil.example\r\nSubject: s%d\r\n\r\nbody\r\n", i, i)
		_, err := c.tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: []string{"alice@corp.example", "bob@corp.example"}})
		require.NoError(t, err)
		_, err = e.Execute(ctx, remediation.Request{
			Action: remediation.SoftDelete, Actor: "test", Confirm: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{fmt.Sprintf("m%d@evil.example", i)}}},
		})
		require.NoError(t, err)
	}
	// A fourth action was interrupted, as by a crash: its record says
	// running, so an engine's Resume replays the journal to finish it.
	raw := []byte("Message-ID: <m3@evil.example>\r\nFrom: x@evil.example\r\nSubject: s3\r\n\r\nbody\r\n")
	_, err = c.tn.Deliver(ctx, raw, &mock.DeliverOptions{Recipients: []string{"alice@corp.example"}})
	require.NoError(t, err)
	now := time.Now().UTC()
	// Queued and running in one Append, so that one row holds a run of
	// two entries whatever the engine's appends above grouped.
	running := &remediation.Record{
		ID: now.Format("20060102T150405") + "-0a0b0c0d", Action: remediation.SoftDelete, Actor: "test", DecidedBy: "test",
		Source: remediation.SourceManual, Status: remediation.StatusRunning, Created: now, Started: now,
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"m3@evil.example"}}},
	}
	queued := *running
	queued.Status, queued.Started = remediation.StatusQueued, time.Time{}
	require.NoError(t, j.Append(ctx,
		remediation.Entry{Kind: remediation.EntryRecord, Record: &queued},
		remediation.Entry{Kind: remediation.EntryRecord, Record: running}))
	c.head, err = j.Head(ctx)
	require.NoError(t, err)
	got, err := j.Verify(ctx, c.head)
	require.NoError(t, err, "the untouched journal verifies")
	require.Equal(t, c.head, got)
	require.Greater(t, c.head.Entries, uint64(6))
	return c
}

// requireRefused checks that Verify reports the first bad entry and that
// an engine refuses the journal: New (which replays it) and Resume of an
// engine that was running when the damage was done.
func (c *tamperCase) requireRefused(t *testing.T, e *remediation.Engine, firstBad uint64) {
	t.Helper()
	ctx := context.Background()
	opts := *c.opts
	opts.Heads = []journal.Head{c.head}
	j := c.open(t, &opts)
	_, err := j.Verify(ctx)
	var te *journal.TamperError
	require.ErrorAs(t, err, &te)
	require.Equal(t, firstBad, te.Entry, "Verify: %v", err)

	_, err = remediation.New(c.tn, nil, j, nil)
	require.ErrorIs(t, err, journal.ErrTampered, "New replays the journal")
	_, err = e.Resume(ctx)
	require.ErrorIs(t, err, journal.ErrTampered, "Resume replays the journal")
}

// engine opens an engine on the untouched journal, as a running engine
// would have it when the journal is damaged.
func (c *tamperCase) engine(t *testing.T) *remediation.Engine {
	t.Helper()
	opts := *c.opts
	opts.Heads = []journal.Head{c.head}
	e, err := remediation.New(c.tn, nil, c.open(t, &opts), nil)
	require.NoError(t, err)
	return e
}

// entriesBefore returns the number of entries in the rows before seq.
func (c *tamperCase) entriesBefore(t *testing.T, seq int64) uint64 {
	t.Helper()
	var macs int64
	require.NoError(t, c.db.QueryRow(context.Background(),
		fmt.Sprintf(`SELECT coalesce(sum(octet_length(macs)), 0)::bigint FROM %s.rows WHERE seq < $1`, pgx.Identifier{c.opts.Schema}.Sanitize()), seq).Scan(&macs))
	return uint64(macs / 32)
}

func TestTamper(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	ctx := context.Background()

	t.Run("Untouched", func(t *testing.T) {
		c := newTamperCase(t, url)
		done, err := c.engine(t).Resume(ctx)
		require.NoError(t, err)
		require.Len(t, done, 1)
		require.Equal(t, remediation.StatusCompleted, done[0].Status)
		require.EqualValues(t, 1, done[0].Counts.Succeeded)
	})
	t.Run("ChangedByte", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		// A byte inside the first entry of row 2 (past its length
		// prefix).
		c.exec(t, `UPDATE %s.rows SET payload = set_byte(payload, 10, get_byte(payload, 10) # 1) WHERE seq = 2`)
		c.requireRefused(t, e, c.entriesBefore(t, 2))
	})
	t.Run("RemovedEntry", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		c.exec(t, `DELETE FROM %s.rows WHERE seq = 3`)
		c.requireRefused(t, e, c.entriesBefore(t, 3))
	})
	t.Run("Reordered", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		c.exec(t, `UPDATE %s.rows SET seq = -seq WHERE seq IN (2, 3)`)
		c.exec(t, `UPDATE %s.rows SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq IN (-2, -3)`)
		c.requireRefused(t, e, c.entriesBefore(t, 2))
	})
	t.Run("TruncatedAtWriteBoundary", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		// Cut the last two rows and set the head to what it was then:
		// the shorter chain is whole; only the exported head shows the
		// cut.
		var next int64
		require.NoError(t, c.db.QueryRow(ctx, fmt.Sprintf(`SELECT next_seq FROM %s.head`, pgx.Identifier{c.opts.Schema}.Sanitize())).Scan(&next))
		cut := next - 2
		kept := c.entriesBefore(t, cut)
		c.exec(t, `DELETE FROM %s.rows WHERE seq >= $1`, cut)
		c.exec(t, `UPDATE %s.head SET next_seq = $1::bigint, entries = $2, mac = (SELECT substring(macs from octet_length(macs) - 31) FROM %[1]s.rows WHERE seq = $1::bigint - 1)`, cut, kept)

		unchecked := c.open(t, c.opts)
		h, err := unchecked.Verify(ctx)
		require.NoError(t, err, "without the exported head the cut is invisible")
		require.Equal(t, kept, h.Entries)
		c.requireRefused(t, e, kept)
	})
	t.Run("RunSplit", func(t *testing.T) {
		// The entries of one Append share a dictionary: cut a row's
		// run in two rows, keeping the entries, their MACs and their
		// order. The entries after the cut would decode against
		// another dictionary; their MACs cover their place in the run.
		c := newTamperCase(t, url)
		e := c.engine(t)
		sch := pgx.Identifier{c.opts.Schema}.Sanitize()
		var seq int64
		var payload, macs []byte
		require.NoError(t, c.db.QueryRow(ctx, fmt.Sprintf(`SELECT seq, payload, macs FROM %s.rows
			WHERE get_byte(payload, 0) = 0 AND get_byte(payload, 1) >= 2 ORDER BY seq LIMIT 1`, sch)).Scan(&seq, &payload, &macs))
		n, k := binary.Uvarint(payload[1:])
		require.Positive(t, k)
		first := payload[1+k:]
		l, lk := binary.Uvarint(first)
		first, rest := first[:lk+int(l)], first[lk+int(l):]
		rowA := append(append([]byte{0}, binary.AppendUvarint(nil, 1)...), first...)
		rowB := append(append([]byte{0}, binary.AppendUvarint(nil, n-1)...), rest...)
		c.exec(t, `UPDATE %s.rows SET seq = -seq - 1 WHERE seq > $1`, seq)
		c.exec(t, `UPDATE %s.rows SET seq = -seq WHERE seq < 0`)
		c.exec(t, `UPDATE %s.rows SET payload = $2, macs = $3 WHERE seq = $1`, seq, rowA, macs[:32])
		c.exec(t, `INSERT INTO %s.rows (seq, payload, macs) VALUES ($1, $2, $3)`, seq+1, rowB, macs[32:])
		c.exec(t, `UPDATE %s.head SET next_seq = next_seq + 1`)
		c.requireRefused(t, e, c.entriesBefore(t, seq)+1)
	})
	t.Run("PlantedWithoutKey", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		// The public API, without the key.
		plain := *c.opts
		plain.Key = nil
		pj := c.open(t, &plain)
		now := time.Now().UTC()
		require.NoError(t, pj.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
			ID: "planted", Action: remediation.SoftDelete, Actor: "mallory",
			Status: remediation.StatusCompleted, Created: now, Finished: now,
		}}))
		c.requireRefused(t, e, c.head.Entries)
	})
	t.Run("PlantedWithAnotherKey", func(t *testing.T) {
		c := newTamperCase(t, url)
		e := c.engine(t)
		other, err := journal.NewKey([]byte("another key, 32 bytes long......"))
		require.NoError(t, err)
		wrong := *c.opts
		wrong.Key = other
		pj := c.open(t, &wrong)
		require.NoError(t, pj.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{ID: "planted"}}))
		c.requireRefused(t, e, c.head.Entries)
	})
}

func TestHeadLine(t *testing.T) {
	srv := postgres.Start(t, nil)
	url := srv.CreateDatabase(t)
	c := newTamperCase(t, url)
	line := "Dec  7 06:40:00 host eradicate: " + c.head.String()
	h, err := journal.ParseHead(line)
	require.NoError(t, err)
	require.Equal(t, c.head, h)
	j := c.open(t, c.opts)
	_, err = j.Verify(context.Background(), h)
	require.NoError(t, err)
}
