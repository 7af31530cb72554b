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
// one Journal are written as one row in one transaction, and the entries
// of one Append call share one dictionary of strings
// ([journal.Encoder]): a campaign's Message-IDs and folders are written
// once per call, about 10 bytes per copy in all. The rows of all
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
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// DefaultSchema is the schema of a journal whose [Options.Schema] is "".
const DefaultSchema = "eradicate"

// Options configure [Open]. A nil *Options is the same as a zero value.
type Options struct {
	// Schema is the PostgreSQL schema holding the journal's tables; ""
	// means [DefaultSchema]. Journals in different schemas of one
	// database are independent.
	Schema string
	// Key keys the journal's chain (see package journal): each entry is
	// written with its MAC, Replay verifies every entry it reads, and
	// [Journal.Verify] and [Journal.Head] are available. Every journal
	// on a schema must be opened with the same key. nil writes entries
	// without MACs and verifies nothing.
	Key *journal.Key
	// Heads are heads of the chain exported earlier (see
	// [Journal.Head]); every Replay checks that they lie on the chain,
	// so that a journal cut short of one is refused when an engine
	// replays it (New, Resume). They need Key.
	Heads []journal.Head
	// Holder names this journal's engine in the leases it holds; ""
	// means the host name, the process id and a random suffix. Every
	// open journal must have its own.
	Holder string
	// LeaseTimeout is how long a lease outlives its holder's last
	// renewal: when an engine's process ends without releasing its
	// leases, other engines take them after this long. The journal
	// renews its leases every third of it. 0 means 30 seconds.
	LeaseTimeout time.Duration
}

// Journal is a [remediation.Journal] and [remediation.Rewriter] in
// PostgreSQL. It is safe for concurrent use, and any number of Journals,
// in any number of processes, may use one schema at once.
type Journal struct {
	pool    *pgxpool.Pool
	lpool   *pgxpool.Pool // for leases
	ownPool bool
	q       queries
	key     *journal.Key
	heads   []journal.Head

	mu      sync.Mutex
	cond    *sync.Cond
	closed  bool
	err     error // sticky: an Append failed
	queue   []*write
	writing bool
	active  sync.WaitGroup // Append and Rewrite calls under way
	head    head           // as last seen; the group commit's leader's

	leases leases
}

// head is the journal's head row: the seq of the next row, the number of
// entries, and the MAC of the last one (nil when none has one).
type head struct {
	next, entries int64
	mac           []byte
}

func (h *head) scan(r pgx.Row) error { return r.Scan(&h.next, &h.entries, &h.mac) }

// write is one Append call's encoded entries waiting for the group commit.
type write struct {
	block []byte
	n     int64 // entries
	err   error
	done  bool
}

var (
	_ remediation.Journal  = (*Journal)(nil)
	_ remediation.Rewriter = (*Journal)(nil)
	_ journal.Verifier     = (*Journal)(nil)
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
	if opts != nil {
		j.key, j.heads = opts.Key, opts.Heads
		j.leases.holder, j.leases.timeout = opts.Holder, opts.LeaseTimeout
	}
	if err := j.leases.init(); err != nil {
		return nil, err
	}
	// Leases are taken and renewed on connections of their own that do
	// not wait for the WAL to be flushed at commit: a lease is not
	// history, and waiting for an fsync per mailbox would bound how fast
	// an engine goes through mailboxes.
	lcfg := pool.Config()
	lcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	lpool, err := pgxpool.NewWithConfig(ctx, lcfg)
	if err != nil {
		return nil, fmt.Errorf("pgjournal: %w", err)
	}
	j.lpool = lpool
	ok := false
	defer func() {
		if !ok {
			lpool.Close()
		}
	}()
	if len(j.heads) > 0 {
		if j.key == nil {
			return nil, fmt.Errorf("%w: heads to check need the key", ErrNoKey)
		}
		if _, err := journal.NewHeads(j.key, j.heads); err != nil {
			return nil, err
		}
	}
	j.cond = sync.NewCond(&j.mu)
	if err := migrate(ctx, pool, j.q, j.key, version); err != nil {
		return nil, err
	}
	if err := j.head.scan(pool.QueryRow(ctx, j.q.head)); err != nil {
		return nil, fmt.Errorf("pgjournal: read the journal's head: %w", err)
	}
	ok = true
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
	w := &write{block: block, n: int64(len(entries))}
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
	size, n := 0, int64(0)
	for _, g := range group {
		size += len(g.block)
		n += g.n
	}
	payload := make([]byte, 1, 1+size)
	payload[0] = rowV2
	for _, g := range group {
		payload = append(payload, g.block...)
	}
	ctx := context.Background()
	for {
		next := head{next: j.head.next + 1, entries: j.head.entries + n}
		var macs []byte
		if j.key != nil {
			c, err := j.chainAt(j.head)
			if err != nil {
				return err
			}
			macs = make([]byte, 0, n*sha256.Size)
			var buf []byte
			err = splitBlock(payload, func(raw []byte, pos int) error {
				buf = macInput(buf, raw, pos)
				m := c.Add(buf)
				macs = append(macs, m[:]...)
				return nil
			})
			if err != nil {
				return err
			}
			next.mac = macs[len(macs)-sha256.Size:]
		}
		tag, err := j.pool.Exec(ctx, j.q.insert, j.head.next, payload, next.entries, next.mac, macs)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			j.head = next
			return nil
		}
		// Another journal on the schema wrote (or rewrote) since: take
		// the head again.
		if err := j.head.scan(j.pool.QueryRow(ctx, j.q.head)); err != nil {
			return err
		}
	}
}

// chainAt returns the chain after the entries of h. A head without a
// MAC (only entries written without a key before it) continues from the
// chain's start: Verify reports the first of those entries anyway.
func (j *Journal) chainAt(h head) (*journal.Chain, error) {
	jh := journal.Head{Entries: uint64(h.entries), KeyID: j.key.ID()}
	if len(h.mac) == sha256.Size {
		copy(jh.MAC[:], h.mac)
	} else {
		jh.MAC = journal.NewChain(j.key).Head().MAC
	}
	return journal.ResumeChain(j.key, jh)
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
	var hs *journal.Heads
	if len(j.heads) > 0 {
		hs, _ = journal.NewHeads(j.key, j.heads) // checked by Open
	}
	_, err = walk(ctx, tx, j.q, j.key, hs, func(e remediation.Entry) error {
		if !yield(e, nil) {
			return errStop
		}
		return nil
	})
	return err
}

// walk reads the journal through tx, verifying the chain when key is not
// nil (and heads, when not nil, along it), and calls fn, when not nil,
// with each entry. It returns the chain's head (zero without a key).
func walk(ctx context.Context, tx pgx.Tx, q queries, key *journal.Key, heads *journal.Heads, fn func(remediation.Entry) error) (journal.Head, error) {
	var stored head
	if err := stored.scan(tx.QueryRow(ctx, q.head)); err != nil {
		return journal.Head{}, fmt.Errorf("pgjournal: read the journal's head: %w", err)
	}
	var c *journal.Chain
	if key != nil {
		c = journal.NewChain(key)
	}
	return walkFrom(ctx, tx, q, stored, c, -1, heads, fn)
}

// walkFrom is walk of the rows after seq after, with the chain c (nil:
// not verified) at the end of the rows before them; stored is the head
// row, read in tx.
func walkFrom(ctx context.Context, tx pgx.Tx, q queries, stored head, c *journal.Chain, after int64, heads *journal.Heads, fn func(remediation.Entry) error) (journal.Head, error) {
	var dec decoder
	var buf []byte
	err := scanRowsFrom(ctx, tx, q, after, func(r row) error {
		i := 0
		return splitBlock(r.payload, func(raw []byte, pos int) error {
			if c != nil {
				var mac []byte
				if len(r.macs) >= (i+1)*sha256.Size {
					mac = r.macs[i*sha256.Size : (i+1)*sha256.Size]
				}
				i++
				buf = macInput(buf, raw, pos)
				if err := c.Check(buf, mac); err != nil {
					return err
				}
				if heads != nil {
					if err := heads.At(c); err != nil {
						return err
					}
				}
			}
			if fn == nil {
				return nil
			}
			e, err := dec.decode(raw, pos)
			if err != nil {
				return err
			}
			return fn(e)
		})
	})
	if err != nil || c == nil {
		return journal.Head{}, err
	}
	h := c.Head()
	if uint64(stored.entries) != h.Entries || !bytes.Equal(stored.mac, h.MAC[:]) && h.Entries > 0 {
		return journal.Head{}, &journal.TamperError{Entry: h.Entries, Reason: fmt.Sprintf("the journal's head says %d entries and another last MAC: entries were removed from the end", stored.entries)}
	}
	if heads != nil {
		if err := heads.End(c); err != nil {
			return journal.Head{}, err
		}
	}
	return h, nil
}

// row is one row of the journal.
type row struct {
	seq     int64
	payload []byte
	macs    []byte
}

// scanRows calls fn for every row of the journal, in order, reading in
// pages through tx.
func scanRows(ctx context.Context, tx pgx.Tx, q queries, fn func(row) error) error {
	return scanRowsFrom(ctx, tx, q, -1, fn)
}

// scanRowsFrom is scanRows of the rows after seq after.
func scanRowsFrom(ctx context.Context, tx pgx.Tx, q queries, after int64, fn func(row) error) error {
	for {
		rows, err := tx.Query(ctx, q.page, after, replayPage)
		if err != nil {
			return fmt.Errorf("pgjournal: replay: %w", err)
		}
		var page []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.payload, &r.macs); err != nil {
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
			if err := fn(r); err != nil {
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
// with rows of the kept entries. With a key, the journal is verified
// first (a tampered journal is not rewritten: that would seal what was
// planted) and the kept entries get a new chain, from its start: heads
// exported before no longer match. Sizes are the bytes of the entries'
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
	var h head
	if err := h.scan(tx.QueryRow(ctx, j.q.lockHead)); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	var chain *journal.Chain
	if j.key != nil {
		chain = journal.NewChain(j.key)
	}
	type newRow struct{ payload, macs []byte }
	var rows []newRow
	var pend []remediation.Entry
	var buf []byte
	// flush makes a row of the entries kept since the last, one run.
	flush := func() error {
		payload, err := encodeBlock([]byte{rowV2}, pend)
		if err != nil {
			return err
		}
		var macs []byte
		if chain != nil {
			if err := splitBlock(payload, func(raw []byte, pos int) error {
				buf = macInput(buf, raw, pos)
				m := chain.Add(buf)
				macs = append(macs, m[:]...)
				return nil
			}); err != nil {
				return err
			}
		}
		rows, pend = append(rows, newRow{payload, macs}), pend[:0]
		return nil
	}
	_, err = walk(ctx, tx, j.q, j.key, nil, func(e remediation.Entry) error {
		if !keep(&e) {
			return nil
		}
		if pend = append(pend, e); len(pend) == rewriteRow {
			return flush()
		}
		return nil
	})
	if err == nil && len(pend) > 0 {
		err = flush()
	}
	if err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRow(ctx, j.q.size).Scan(&before); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	if _, err := tx.Exec(ctx, j.q.deleteAll); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	nh := head{next: int64(len(rows))}
	for i, r := range rows {
		after += int64(len(r.payload))
		if _, err := tx.Exec(ctx, j.q.insertRow, int64(i), r.payload, r.macs); err != nil {
			return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
		}
	}
	if chain != nil {
		ch := chain.Head()
		nh.entries, nh.mac = int64(ch.Entries), ch.MAC[:]
	} else {
		var cnt int64
		for _, r := range rows {
			_ = splitBlock(r.payload, func([]byte, int) error { cnt++; return nil })
		}
		nh.entries = cnt
	}
	if _, err := tx.Exec(ctx, j.q.setHead, nh.next, nh.entries, nh.mac); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	if _, err := tx.Exec(ctx, j.q.bumpGen); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("pgjournal: rewrite: %w", err)
	}
	return before, after, nil
}

// ErrNoKey means the journal was opened without a key: it has no chain
// to verify or head to export.
var ErrNoKey = errors.New("pgjournal: the journal was opened without a key")

// Verify implements [journal.Verifier]: it reads the whole journal, in
// one snapshot, and checks each entry's MAC, that the head row matches
// the chain's end, and that each of heads (exported earlier with
// [Journal.Head] or Verify) lies on the chain. It returns the chain's
// head, or a [*journal.TamperError] naming the first entry that does not
// verify. It needs the key ([ErrNoKey]).
func (j *Journal) Verify(ctx context.Context, heads ...journal.Head) (journal.Head, error) {
	if j.key == nil {
		return journal.Head{}, ErrNoKey
	}
	hs, err := journal.NewHeads(j.key, slices.Concat(heads, j.heads))
	if err != nil {
		return journal.Head{}, err
	}
	if err := j.begin(); err != nil {
		return journal.Head{}, err
	}
	defer j.active.Done()
	tx, err := j.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return journal.Head{}, fmt.Errorf("pgjournal: verify: %w", err)
	}
	defer tx.Rollback(context.Background())
	return walk(ctx, tx, j.q, j.key, hs, nil)
}

// Head returns the journal's head as its head row stores it, without
// verifying the chain: cheap enough to export after every action. It
// needs the key ([ErrNoKey]).
func (j *Journal) Head(ctx context.Context) (journal.Head, error) {
	if j.key == nil {
		return journal.Head{}, ErrNoKey
	}
	var h head
	if err := h.scan(j.pool.QueryRow(ctx, j.q.head)); err != nil {
		return journal.Head{}, fmt.Errorf("pgjournal: head: %w", err)
	}
	c, err := j.chainAt(h)
	if err != nil {
		return journal.Head{}, err
	}
	return c.Head(), nil
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
// way, stops renewing the journal's leases (they are not released: they
// expire after the lease timeout, as a crashed engine's do) and closes
// the pool when [Open] made it.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	j.active.Wait()
	j.leases.stop()
	j.lpool.Close()
	if j.ownPool {
		j.pool.Close()
	}
	return nil
}
