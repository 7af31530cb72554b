// Package pgjournal is a [remediation.Journal] in PostgreSQL, for several
// engines that share one action center.
//
// The journal lives in one schema of a database ([Options.Schema],
// "eradicate" by default): [Open] creates the schema and its tables when
// missing and applies the migrations a newer version of this package
// brings to a database an older one created (see [SchemaVersion]); a
// database created by a newer version is refused with [ErrSchemaTooNew].
//
// Appends are group-committed: the entries of concurrent Append calls of
// one Journal are written as one row in one transaction. The rows of all
// the journals on a schema, of this process or others, form one sequence
// in commit order: every engine replays every other's entries, and a
// [Journal.Rewrite] ([remediation.Engine.Compact]) is one transaction that
// appends of every engine wait for. Unlike the file journal, the journal
// takes no lock: any number of engines may open it at once.
//
// A separate package, so that programs using the file journal do not link
// the PostgreSQL driver.
package pgjournal

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation"
)

// DefaultSchema is the schema of a journal whose [Options.Schema] is "".
const DefaultSchema = "eradicate"

// Options configure [Open]. A nil *Options is the same as a zero value.
type Options struct {
	// Schema is the PostgreSQL schema holding the journal's tables; ""
	// means [DefaultSchema]. Journals in different schemas of one
	// database are independent.
	Schema string
}

// Journal is a [remediation.Journal] and [remediation.Rewriter] in
// PostgreSQL. It is safe for concurrent use, and any number of Journals,
// in any number of processes, may use one schema at once.
type Journal struct {
	pool    *pgxpool.Pool
	ownPool bool
	q       queries

	mu      sync.Mutex
	cond    *sync.Cond
	closed  bool
	err     error // sticky: an Append failed
	queue   []*write
	writing bool
	active  sync.WaitGroup // Append and Rewrite calls under way
	next    int64          // the seq the next write is expected to take
}

// write is one Append call's encoded entries waiting for the group commit.
type write struct {
	block []byte
	err   error
	done  bool
}

var (
	_ remediation.Journal  = (*Journal)(nil)
	_ remediation.Rewriter = (*Journal)(nil)
)

// Open opens the journal in the database connString names (a URL or a
// key=value string, see pgxpool.ParseConfig), creating its schema and
// tables when missing and migrating them when older. The journal has its
// own connection pool, closed by [Journal.Close].
func Open(ctx context.Context, connString string, opts *Options) (*Journal, error) {
	pool, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: %w", err)
	}
	j, err := OpenPool(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	j.ownPool = true
	return j, nil
}

// OpenPool is [Open] on a pool the caller keeps: [Journal.Close] leaves it
// open.
func OpenPool(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Journal, error) {
	return openVersion(ctx, pool, opts, len(migrations))
}

func openVersion(ctx context.Context, pool *pgxpool.Pool, opts *Options, version int) (*Journal, error) {
	schema := DefaultSchema
	if opts != nil && opts.Schema != "" {
		schema = opts.Schema
	}
	j := &Journal{pool: pool, q: newQueries(schema)}
	j.cond = sync.NewCond(&j.mu)
	if err := migrate(ctx, pool, j.q, version); err != nil {
		return nil, err
	}
	if err := pool.QueryRow(ctx, j.q.head).Scan(&j.next); err != nil {
		return nil, fmt.Errorf("pgjournal: read the journal's head: %w", err)
	}
	return j, nil
}

// Pool returns the journal's connection pool.
func (j *Journal) Pool() *pgxpool.Pool { return j.pool }

// begin registers a call under way, or fails when the journal is closed.
func (j *Journal) begin() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return remediation.ErrClosed
	}
	j.active.Add(1)
	return nil
}

// Append implements [remediation.Journal]. It returns once the entries
// are committed. Concurrent calls share one transaction: the first to
// find no commit under way writes every call queued meanwhile.
func (j *Journal) Append(ctx context.Context, entries ...remediation.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := j.begin(); err != nil {
		return err
	}
	defer j.active.Done()
	if len(entries) == 0 {
		j.mu.Lock()
		defer j.mu.Unlock()
		return j.err
	}
	block, err := encodeBlock(nil, entries)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if err != nil {
		j.err = fmt.Errorf("pgjournal: journal unusable after encoding error: %w", err)
		return err
	}
	w := &write{block: block}
	j.queue = append(j.queue, w)
	for !w.done {
		if j.writing {
			j.cond.Wait()
			continue
		}
		// Lead a group commit of everything queued.
		group := j.queue
		j.queue = nil
		j.writing = true
		j.mu.Unlock()
		err := j.commit(group)
		j.mu.Lock()
		j.writing = false
		if err != nil && j.err == nil {
			j.err = fmt.Errorf("pgjournal: journal unusable after a failed append: %w", err)
		}
		for _, g := range group {
			g.err, g.done = err, true
		}
		j.cond.Broadcast()
	}
	return w.err
}

// commit writes a group of Append calls as one row. The write is not
// abandoned when a caller's ctx ends: others wait for it too.
func (j *Journal) commit(group []*write) error {
	n := 0
	for _, g := range group {
		n += len(g.block)
	}
	payload := make([]byte, 0, n)
	for _, g := range group {
		payload = append(payload, g.block...)
	}
	ctx := context.Background()
	for {
		tag, err := j.pool.Exec(ctx, j.q.insert, j.next, payload)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			j.next++
			return nil
		}
		// Another journal on the schema wrote (or rewrote) since: take
		// the head again.
		if err := j.pool.QueryRow(ctx, j.q.head).Scan(&j.next); err != nil {
			return err
		}
	}
}

// Replay implements [remediation.Journal]. It reads in one repeatable-read
// transaction: the entries committed when it starts, whatever is appended
// or rewritten meanwhile.
func (j *Journal) Replay(ctx context.Context) iter.Seq2[remediation.Entry, error] {
	return func(yield func(remediation.Entry, error) bool) {
		if err := j.begin(); err != nil {
			yield(remediation.Entry{}, err)
			return
		}
		defer j.active.Done()
		err := j.replay(ctx, yield)
		if err != nil && !errors.Is(err, errStop) {
			yield(remediation.Entry{}, err)
		}
	}
}

var errStop = errors.New("stop")

// replayPage is the number of rows read at a time.
const replayPage = 256

func (j *Journal) replay(ctx context.Context, yield func(remediation.Entry, error) bool) error {
	tx, err := j.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("pgjournal: replay: %w", err)
	}
	defer tx.Rollback(context.Background())
	return scanRows(ctx, tx, j.q, func(seq int64, payload []byte) error {
		return decodeBlock(payload, func(e remediation.Entry) error {
			if !yield(e, nil) {
				return errStop
			}
			return nil
		})
	})
}

// scanRows calls fn for every row of the journal, in order, reading in
// pages through tx.
func scanRows(ctx context.Context, tx pgx.Tx, q queries, fn func(seq int64, payload []byte) error) error {
	after := int64(-1)
	for {
		rows, err := tx.Query(ctx, q.page, after, replayPage)
		if err != nil {
			return fmt.Errorf("pgjournal: replay: %w", err)
		}
		type row struct {
			seq     int64
			payload []byte
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.payload); err != nil {
				rows.Close()
				return fmt.Errorf("pgjournal: replay: %w", err)
			}
			page = append(page, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("pgjournal: replay: %w", err)
		}
		for _, r := range page {
			if err := fn(r.seq, r.payload); err != nil {
				return err
			}
		}
		if len(page) < replayPage {
			return nil
		}
		after = page[len(page)-1].seq
	}
}

// rewriteRow is the number of entries the rewrite puts in one row.
const rewriteRow = 1024

// Rewrite implements [remediation.Rewriter]: in one transaction, holding
// the journal's head (every engine's appends wait), it replaces the rows
// with rows of the kept entries. Sizes are the bytes of the entries'
// encoding.
func (j *Journal) Rewrite(ctx context.Context, keep func(*remediation.Entry) bool) (before, after int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := j.begin(); err != nil {
		return 0, 0, err
	}
	defer j.active.Done()
	tx, err := j.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	defer tx.Rollback(context.Background())
	var next int64
	if err := tx.QueryRow(ctx, j.q.lockHead).Scan(&next); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	var rows [][]byte
	var cur []byte
	n := 0
	err = scanRows(ctx, tx, j.q, func(_ int64, payload []byte) error {
		before += int64(len(payload))
		return decodeBlock(payload, func(e remediation.Entry) error {
			if !keep(&e) {
				return nil
			}
			var err error
			if cur, err = encodeBlock(cur, []remediation.Entry{e}); err != nil {
				return err
			}
			if n++; n == rewriteRow {
				rows, cur, n = append(rows, cur), nil, 0
			}
			return nil
		})
	})
	if err != nil {
		return 0, 0, err
	}
	if n > 0 {
		rows = append(rows, cur)
	}
	if _, err := tx.Exec(ctx, j.q.deleteAll); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	for i, r := range rows {
		after += int64(len(r))
		if _, err := tx.Exec(ctx, j.q.insertRow, int64(i), r); err != nil {
			return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, j.q.setHead, int64(len(rows))); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	return before, after, nil
}

// Size returns the bytes of the journal's entries, as Rewrite counts them.
func (j *Journal) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := j.pool.QueryRow(ctx, j.q.size).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgjournal: size: %w", err)
	}
	return n, nil
}

// Close implements [remediation.Journal]: it waits for the calls under
// way and closes the pool when [Open] made it.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	j.active.Wait()
	if j.ownPool {
		j.pool.Close()
	}
	return nil
}
