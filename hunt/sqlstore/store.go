package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/eradicate-dev/eradicate/hunt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Options are optional settings of [OpenSQLite]. A nil pointer is the same
// as a zero value.
type Options struct {
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
	// ReadConns is the number of connections that read concurrently; 0
	// means 4. Writes go through one connection.
	ReadConns int
}

// Store is a [hunt.Store] in a SQL database. It is safe for concurrent
// use by multiple goroutines.
type Store struct {
	d      dialect
	w, r   *sql.DB // writes, reads (the same pool on PostgreSQL)
	now    func() time.Time
	closed atomic.Bool
}

var _ hunt.Store = (*Store)(nil)

// OpenSQLite opens the index in the SQLite database file at path,
// creating it (and its schema) when it does not exist, and migrating an
// older schema. opts may be nil.
//
// The file is opened in WAL mode: readers run beside the one writer, and
// a crash loses at most the last transactions, never the file. Several
// processes may open the same file; they then take turns to write.
func OpenSQLite(ctx context.Context, path string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if path == "" {
		return nil, errors.New("sqlstore: empty path")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=temp_store(memory)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w, sqlite); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s := &Store{d: sqlite, w: w, r: r, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// OpenPostgres opens the index in the PostgreSQL database db, creating
// its tables when they do not exist and migrating an older schema: the
// index several engines share. db is opened by the caller with a
// PostgreSQL driver, for example github.com/jackc/pgx/v5/stdlib:
//
//	db, err := sql.Open("pgx", "postgres://hunt@db.example/hunt")
//
// The Store closes db when it is closed. opts may be nil; ReadConns does
// not apply (size db's pool instead).
func OpenPostgres(ctx context.Context, db *sql.DB, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	if db == nil {
		return nil, errors.New("sqlstore: nil database")
	}
	if err := migrate(ctx, db, postgres); err != nil {
		return nil, err
	}
	s := &Store{d: postgres, w: db, r: db, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Close closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// check returns the error a call must fail with before it starts.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return hunt.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	return nil
}

// wrap gives err the identity of a done ctx or a closed store.
func (s *Store) wrap(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlstore: %s: %w (%v)", what, cerr, err)
	}
	if s.closed.Load() && !errors.Is(err, hunt.ErrClosed) {
		return fmt.Errorf("sqlstore: %s: %w (%v)", what, hunt.ErrClosed, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// inTx runs fn in a write transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(st *stmts) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(ctx, what, err)
	}
	if s.d.lock != "" {
		if _, err := tx.ExecContext(ctx, s.d.lock); err != nil {
			tx.Rollback()
			return s.wrap(ctx, what, err)
		}
	}
	if err := fn(&stmts{ctx: ctx, tx: tx, d: s.d, now: s.now()}); err != nil {
		tx.Rollback()
		return s.wrap(ctx, what, err)
	}
	return s.wrap(ctx, what, tx.Commit())
}

// stmts prepares statements in tx on first use.
type stmts struct {
	ctx context.Context
	tx  *sql.Tx
	d   dialect
	m   map[string]*sql.Stmt
	now time.Time // when the transaction began
}

// at returns t, or the transaction's time when t is zero.
func (st *stmts) at(t time.Time) time.Time {
	if t.IsZero() {
		return st.now
	}
	return t
}

func (st *stmts) get(q string) (*sql.Stmt, error) {
	if p, ok := st.m[q]; ok {
		return p, nil
	}
	p, err := st.tx.PrepareContext(st.ctx, st.d.rebind(q))
	if err != nil {
		return nil, err
	}
	if st.m == nil {
		st.m = map[string]*sql.Stmt{}
	}
	st.m[q] = p
	return p, nil
}

func (st *stmts) exec(q string, args ...any) (sql.Result, error) {
	p, err := st.get(q)
	if err != nil {
		return nil, err
	}
	return p.ExecContext(st.ctx, st.d.values(args)...)
}

func (st *stmts) row(q string, args ...any) *sql.Row {
	p, err := st.get(q)
	if err != nil {
		// QueryRow of a statement that cannot be prepared reports the
		// error on Scan.
		return st.tx.QueryRowContext(st.ctx, st.d.rebind(q), st.d.values(args)...)
	}
	return p.QueryRowContext(st.ctx, st.d.values(args)...)
}

// Ingest implements [hunt.Store].
func (s *Store) Ingest(ctx context.Context, ds []hunt.Delivery) error {
	for i := range ds {
		if err := validDelivery(&ds[i]); err != nil {
			return fmt.Errorf("sqlstore: delivery %d: %w", i, err)
		}
	}
	if len(ds) == 0 {
		return s.check(ctx)
	}
	return s.inTx(ctx, "ingest", func(st *stmts) error {
		ids, firstNew, err := s.messageIDs(st, ds)
		if err != nil {
			return err
		}
		copies := rowsOf(`INSERT INTO copies (msg, mailbox, delivered_folder, folder, role, uidvalidity, uid, removed, delivered, updated)`, 10, ` ON CONFLICT DO NOTHING`)
		for i := range ds {
			d := &ds[i]
			a := d.Address
			msg, mb := ids[d.Message.NetworkID], normMailbox(a.Mailbox)
			if a.UID == 0 {
				if msg < firstNew {
					held, err := holds(st, msg, mb)
					if err != nil {
						return err
					}
					if held {
						continue // indexed where it landed already
					}
				}
				// A pending copy: its UID is the message's row id, negated,
				// so that a mailbox holds one pending copy of a message.
				copies.add(msg, mb, "", "", string(d.Role), 0, -msg, 0, nanos(st.at(d.At)), nanos(st.now))
				continue
			}
			if msg < firstNew {
				// A message indexed before may have a pending copy here,
				// which this delivery fills in.
				filled, err := fillPending(st, msg, d)
				if err != nil {
					return err
				}
				if filled {
					continue
				}
			}
			copies.add(msg, mb, a.Folder, a.Folder, string(d.Role), int64(a.UIDValidity), int64(a.UID), 0, nanos(st.at(d.At)), nanos(st.now))
		}
		return copies.flush(st)
	})
}

// holds reports whether the index holds a copy of the message msg at an
// address in the mailbox mb.
func holds(st *stmts, msg int64, mb string) (bool, error) {
	var one int
	err := st.row(`SELECT 1 FROM copies WHERE msg = ? AND mailbox = ? AND uid > 0 AND removed = 0 LIMIT 1`, msg, mb).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// fillPending gives the pending copy of the message msg in d's mailbox,
// if there is one, d's address, and reports whether it did. The copy
// keeps the time the delivery path gave it. When the index holds d's
// address already, nothing changes (and the pending copy waits for
// [Store.SetCursor] to settle it).
func fillPending(st *stmts, msg int64, d *hunt.Delivery) (bool, error) {
	a := d.Address
	var id int64
	err := st.row(`SELECT id FROM copies WHERE msg = ? AND mailbox = ? AND uid < 0 AND removed = 0`, msg, normMailbox(a.Mailbox)).Scan(&id)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if at, _, err := copyAt(st, a); err != nil || at != 0 {
		return at != 0, err
	}
	_, err = st.exec(`UPDATE copies SET delivered_folder = ?, folder = ?, role = ?, uidvalidity = ?, uid = ?, updated = ? WHERE id = ?`,
		a.Folder, a.Folder, string(d.Role), int64(a.UIDValidity), int64(a.UID), nanos(st.now), id)
	return err == nil, err
}

// messageIDs returns the row ids of the messages of ds by network id,
// adding the messages the index does not hold yet, and the first row id
// of those added: a message with a lower id was indexed before.
func (s *Store) messageIDs(st *stmts, ds []hunt.Delivery) (map[string]int64, int64, error) {
	ids := make(map[string]int64, len(ds))
	var names []string
	for i := range ds {
		id := ds[i].Message.NetworkID
		if _, ok := ids[id]; !ok {
			ids[id] = 0
			names = append(names, id)
		}
	}
	for chunk := range slices.Chunk(names, 500) {
		var w where
		w.in("network_id", chunk)
		rows, err := st.tx.QueryContext(st.ctx, s.d.rebind(`SELECT id, network_id FROM messages WHERE `+w.b.String()), s.d.values(w.args)...)
		if err != nil {
			return nil, 0, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, 0, err
			}
			ids[name] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	// New messages get the next row ids: the transaction holds the write
	// lock, so no other writer takes them.
	var next int64
	if err := st.tx.QueryRowContext(st.ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&next); err != nil {
		return nil, 0, err
	}
	first := next + 1
	msgs := rowsOf(`INSERT INTO messages (id, network_id, message_id, envelope_from, from_addr, from_domain, from_name, recipients, subject, subject_fold, date, size, truncated)`, 13, ``)
	doms := rowsOf(`INSERT INTO sender_domains (domain, msg)`, 2, ` ON CONFLICT DO NOTHING`)
	rcpts := rowsOf(`INSERT INTO recipients (addr, msg)`, 2, ` ON CONFLICT DO NOTHING`)
	urls := rowsOf(`INSERT INTO urls (url, msg, ord, host)`, 4, ` ON CONFLICT DO NOTHING`)
	atts := rowsOf(`INSERT INTO attachments (msg, ord, name, type, size, sha256, tlsh, inline)`, 8, ``)
	for i := range ds {
		m := &ds[i].Message
		if ids[m.NetworkID] != 0 {
			continue
		}
		next++
		id := next
		ids[m.NetworkID] = id
		var rs []string
		for _, r := range m.Recipients {
			if r = normAddr(r); r != "" && !slices.Contains(rs, r) {
				rs = append(rs, r)
				rcpts.add(r, id)
			}
		}
		rj, err := json.Marshal(rs)
		if err != nil {
			return nil, 0, err
		}
		from := normAddr(m.From)
		msgs.add(id, m.NetworkID, mailbox.NormalizeMessageID(m.MessageID), normAddr(m.EnvelopeFrom), from, mailbox.AddressDomain(from),
			m.FromName, string(rj), m.Subject, strings.ToLower(m.Subject), nanos(m.Date), m.Size, boolInt(m.Truncated))
		for _, dom := range senderDomains(m) {
			doms.add(dom, id)
		}
		seen := make(map[string]bool, len(m.URLs))
		for j, u := range m.URLs {
			if n := mailbox.NormalizeURL(u); n != "" && !seen[n] {
				seen[n] = true
				urls.add(n, id, j, urlHost(n))
			}
		}
		for j, a := range m.Attachments {
			atts.add(id, j, a.Name, a.Type, a.Size, strings.ToLower(a.SHA256), a.TLSH, boolInt(a.Inline))
		}
	}
	for _, r := range []*multiRow{msgs, doms, rcpts, urls, atts} {
		if err := r.flush(st); err != nil {
			return nil, 0, err
		}
	}
	return ids, first, nil
}

// multiRow collects the rows of an INSERT and writes them with as few
// statements as the database's limit on parameters allows.
type multiRow struct {
	head, tail string
	cols       int
	args       []any
}

func rowsOf(head string, cols int, tail string) *multiRow {
	return &multiRow{head: head, tail: tail, cols: cols}
}

func (r *multiRow) add(vals ...any) { r.args = append(r.args, vals...) }

// maxParams is the most parameters of one statement: far under the limits
// of SQLite (32766) and PostgreSQL (65535), and small because the SQLite
// driver binds each parameter by a search of all of them.
const maxParams = 240

func (r *multiRow) flush(st *stmts) error {
	per := maxParams / r.cols
	for len(r.args) > 0 {
		n := min(len(r.args)/r.cols, per)
		var b strings.Builder
		b.WriteString(r.head)
		b.WriteString(" VALUES ")
		row := "(?" + strings.Repeat(", ?", r.cols-1) + ")"
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
		}
		b.WriteString(r.tail)
		if _, err := st.exec(b.String(), r.args[:n*r.cols]...); err != nil {
			return err
		}
		r.args = r.args[n*r.cols:]
	}
	return nil
}

// senderDomains returns the domains of m's senders (envelope and header)
// and their parents of at least two labels: the values a sender-domain
// criterion may name to match m ("a.b.example" gives "a.b.example" and
// "b.example"), without duplicates.
func senderDomains(m *hunt.Message) []string {
	var out []string
	for _, addr := range []string{m.From, m.EnvelopeFrom} {
		d := mailbox.AddressDomain(addr)
		for d != "" && strings.Contains(d, ".") {
			if !contains(out, d) {
				out = append(out, d)
			}
			_, d, _ = strings.Cut(d, ".")
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// urlHost returns the host of a canonical URL, "" when it has none.
func urlHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(p.Hostname())
}

// Relocate implements [hunt.Store].
func (s *Store) Relocate(ctx context.Context, rs []hunt.Relocation) error {
	if len(rs) == 0 {
		return s.check(ctx)
	}
	return s.inTx(ctx, "relocate", func(st *stmts) error {
		for _, r := range rs {
			at := st.at(r.At)
			id, _, err := copyAt(st, r.From)
			if err != nil {
				return err
			}
			if id == 0 {
				continue
			}
			if r.To.IsZero() {
				if _, err := st.exec(`UPDATE copies SET folder = '', role = '', uidvalidity = 0, uid = 0, removed = ?, updated = ? WHERE id = ?`,
					nanos(at), nanos(at), id); err != nil {
					return err
				}
				continue
			}
			if normMailbox(r.To.Mailbox) != normMailbox(r.From.Mailbox) {
				return fmt.Errorf("relocation from %s to %s: a copy does not change mailbox", r.From, r.To)
			}
			// The new address may already be indexed (a delivery feed saw
			// the copy there first): it is the same copy, so that row
			// gives way to the one that has the copy's history.
			dup, _, err := copyAt(st, r.To)
			if err != nil {
				return err
			}
			if dup != 0 && dup != id {
				if _, err := st.exec(`UPDATE annotations SET copy = ? WHERE copy = ?`, id, dup); err != nil {
					return err
				}
				if _, err := st.exec(`DELETE FROM copies WHERE id = ?`, dup); err != nil {
					return err
				}
			}
			role := r.Role
			if role == mailbox.RoleNone {
				if role, err = folderRole(st, r.To); err != nil {
					return err
				}
			}
			if _, err := st.exec(`UPDATE copies SET folder = ?, role = ?, uidvalidity = ?, uid = ?, updated = ? WHERE id = ?`,
				r.To.Folder, string(role), int64(r.To.UIDValidity), int64(r.To.UID), nanos(at), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// folderRole returns the role of the folder of a as the index knows it:
// from the last crawl's folder states of the mailbox, or else from another
// copy in that folder; RoleNone when it knows neither.
func folderRole(st *stmts, a mailbox.Address) (mailbox.Role, error) {
	var folders string
	err := st.row(`SELECT folders FROM cursors WHERE mailbox = ?`, normMailbox(a.Mailbox)).Scan(&folders)
	if err != nil && err != sql.ErrNoRows {
		return "", err
	}
	if err == nil {
		var fs []mailbox.FolderStatus
		if json.Unmarshal([]byte(folders), &fs) == nil {
			for _, f := range fs {
				if f.Name == a.Folder {
					return f.Role, nil
				}
			}
		}
	}
	var role string
	err = st.row(`SELECT role FROM copies WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND removed = 0 LIMIT 1`,
		normMailbox(a.Mailbox), a.Folder, int64(a.UIDValidity)).Scan(&role)
	if err == sql.ErrNoRows {
		return mailbox.RoleNone, nil
	}
	return mailbox.Role(role), err
}

// copyAt returns the row ids of the present copy at a and of its
// message; 0 when there is none.
func copyAt(st *stmts, a mailbox.Address) (id, msg int64, err error) {
	err = st.row(`SELECT id, msg FROM copies WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ? AND removed = 0`,
		normMailbox(a.Mailbox), a.Folder, int64(a.UIDValidity), int64(a.UID)).Scan(&id, &msg)
	if err == sql.ErrNoRows {
		return 0, 0, nil
	}
	return id, msg, err
}

// Annotate implements [hunt.Store].
func (s *Store) Annotate(ctx context.Context, as []hunt.Annotation) error {
	for i, a := range as {
		switch a.Kind {
		case hunt.AnnotateCluster, hunt.AnnotateDetection, hunt.AnnotateAction:
		default:
			return fmt.Errorf("sqlstore: annotation %d: unknown kind %q", i, a.Kind)
		}
		if a.Name == "" {
			return fmt.Errorf("sqlstore: annotation %d: no name", i)
		}
		if a.NetworkID == "" && a.Address.IsZero() {
			return fmt.Errorf("sqlstore: annotation %d: names no message and no copy", i)
		}
	}
	if len(as) == 0 {
		return s.check(ctx)
	}
	return s.inTx(ctx, "annotate", func(st *stmts) error {
		for _, a := range as {
			var msg, cp int64
			if !a.Address.IsZero() {
				var err error
				if cp, msg, err = copyAt(st, a.Address); err != nil {
					return err
				}
			}
			if a.NetworkID != "" {
				var id int64
				err := st.row(`SELECT id FROM messages WHERE network_id = ?`, a.NetworkID).Scan(&id)
				if err != nil && err != sql.ErrNoRows {
					return err
				}
				if cp != 0 && id != msg {
					cp = 0 // the address holds another message now
				}
				msg = id
			}
			if msg == 0 {
				continue
			}
			if _, err := st.exec(`INSERT INTO annotations (msg, copy, kind, name, record, outcome, actor, mailbox, folder, uidvalidity, uid, at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				msg, cp, string(a.Kind), a.Name, a.Record, a.Outcome, a.Actor,
				normMailbox(a.Address.Mailbox), a.Address.Folder, int64(a.Address.UIDValidity), int64(a.Address.UID), nanos(st.at(a.At))); err != nil {
				return err
			}
		}
		return nil
	})
}

// Cursor implements [hunt.Store].
func (s *Store) Cursor(ctx context.Context, mb string) (hunt.Cursor, error) {
	c := hunt.Cursor{Mailbox: normMailbox(mb)}
	if err := s.check(ctx); err != nil {
		return c, err
	}
	var fresh int64
	var folders string
	err := s.r.QueryRowContext(ctx, s.d.rebind(`SELECT fresh, folders FROM cursors WHERE mailbox = ?`), s.d.values([]any{c.Mailbox})...).Scan(&fresh, &folders)
	if err == sql.ErrNoRows {
		return c, nil
	}
	if err != nil {
		return c, s.wrap(ctx, "cursor", err)
	}
	c.Fresh = fromNanos(fresh)
	if err := json.Unmarshal([]byte(folders), &c.Folders); err != nil {
		return hunt.Cursor{Mailbox: c.Mailbox}, fmt.Errorf("sqlstore: cursor of %s: %w", c.Mailbox, err)
	}
	return c, nil
}

// SetCursor implements [hunt.Store].
func (s *Store) SetCursor(ctx context.Context, c hunt.Cursor) error {
	mb := normMailbox(c.Mailbox)
	if mb == "" {
		return errors.New("sqlstore: cursor of no mailbox")
	}
	folders, err := json.Marshal(c.Folders)
	if err != nil {
		return fmt.Errorf("sqlstore: cursor: %w", err)
	}
	return s.inTx(ctx, "set cursor", func(st *stmts) error {
		_, err := st.exec((`INSERT INTO cursors (mailbox, fresh, folders) VALUES (?, ?, ?)
			ON CONFLICT (mailbox) DO UPDATE SET fresh = excluded.fresh, folders = excluded.folders`), mb, nanos(c.Fresh), string(folders))
		if err != nil || c.Fresh.IsZero() {
			return err
		}
		// Pending copies the crawl would have found, had they arrived.
		_, err = st.exec(`UPDATE copies SET removed = ?, updated = ? WHERE mailbox = ? AND uid < 0 AND removed = 0 AND delivered < ?`,
			nanos(c.Fresh), nanos(c.Fresh), mb, nanos(c.Fresh.Add(-hunt.PendingGrace)))
		return err
	})
}

// Expire implements [hunt.Store].
func (s *Store) Expire(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, "expire", func(st *stmts) error {
		b := nanos(before)
		rows, err := st.tx.QueryContext(ctx, s.d.rebind(`SELECT DISTINCT msg FROM copies WHERE removed <> 0 AND removed < ?`), b)
		if err != nil {
			return err
		}
		var msgs []int64
		for rows.Next() {
			var m int64
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return err
			}
			msgs = append(msgs, m)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if _, err := st.exec(`DELETE FROM annotations WHERE copy IN (SELECT id FROM copies WHERE removed <> 0 AND removed < ?)`, b); err != nil {
			return err
		}
		res, err := st.exec(`DELETE FROM copies WHERE removed <> 0 AND removed < ?`, b)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		for _, m := range msgs {
			if err := dropIfOrphan(st, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// dropIfOrphan removes the message with row id m, and what is indexed of
// it, when no copy of it is left.
func dropIfOrphan(st *stmts, m int64) error {
	var one int
	err := st.row(`SELECT 1 FROM copies WHERE msg = ? LIMIT 1`, m).Scan(&one)
	if err == nil {
		return nil
	}
	if err != sql.ErrNoRows {
		return err
	}
	var hm hunt.Message
	var rj string
	if err := st.row(`SELECT envelope_from, from_addr, recipients FROM messages WHERE id = ?`, m).Scan(&hm.EnvelopeFrom, &hm.From, &rj); err != nil {
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	}
	var rcpts []string
	if err := json.Unmarshal([]byte(rj), &rcpts); err != nil {
		return fmt.Errorf("recipients of message %d: %w", m, err)
	}
	// The lookup tables are keyed by value first: delete by their keys.
	for _, d := range senderDomains(&hm) {
		if _, err := st.exec(`DELETE FROM sender_domains WHERE domain = ? AND msg = ?`, d, m); err != nil {
			return err
		}
	}
	for _, r := range rcpts {
		if _, err := st.exec(`DELETE FROM recipients WHERE addr = ? AND msg = ?`, r, m); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`DELETE FROM urls WHERE msg = ?`,
		`DELETE FROM attachments WHERE msg = ?`,
		`DELETE FROM annotations WHERE msg = ?`,
		`DELETE FROM messages WHERE id = ?`,
	} {
		if _, err := st.exec(q, m); err != nil {
			return err
		}
	}
	return nil
}

// normMailbox is the form in which the index names a mailbox.
func normMailbox(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// normAddr is the comparison form of an address [mailbox.Criteria] uses.
func normAddr(a string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
}

// nanos is the stored form of a time: Unix nanoseconds, the zero time as
// the smallest value (it is before every other time, as time.Time says),
// times beyond what an int64 holds clamped.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return math.MinInt64
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fromNanos reverses nanos; times are in UTC.
func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func validDelivery(d *hunt.Delivery) error {
	switch {
	case d.Message.NetworkID == "":
		return errors.New("no network id")
	case normMailbox(d.Address.Mailbox) == "":
		return errors.New("no mailbox")
	case d.Address.Folder == "" && d.Address.UID == 0:
		return nil // a pending copy
	case d.Address.Folder == "":
		return errors.New("no folder")
	case d.Address.UID == 0:
		return errors.New("no UID")
	}
	return nil
}
