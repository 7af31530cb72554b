package imapstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/eradicate-dev/eradicate/internal/secretfmt"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Store is a [mailbox.Store] on an IMAP server. It is safe for concurrent
// use by multiple goroutines; connections are pooled per mailbox owner
// within [Config.MaxConns]. Close it when done.
type Store struct {
	cfg  Config
	log  *slog.Logger
	pool *pool

	mu      sync.Mutex
	known   map[string]string // lower-cased owner -> owner as configured or listed
	ordered []string          // the configured owners, sorted
	writers map[string]chan struct{}
}

var _ mailbox.Store = (*Store)(nil)

// String describes the store by its server address; it never shows its
// configuration, whose credentials the store holds.
func (s *Store) String() string {
	if s == nil {
		return "imapstore.Store(nil)"
	}
	return "imapstore.Store(" + s.cfg.Addr + ")"
}

// Format writes [Store.String] for every verb: the fields, credentials
// included, are never printed.
func (s *Store) Format(f fmt.State, verb rune) { secretfmt.Format(f, verb, s.String()) }

// LogValue logs the server address only.
func (s *Store) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue(s.String())
	}
	return slog.GroupValue(slog.String("addr", s.cfg.Addr))
}

// New returns a store for cfg. It does not connect: the first operation
// on a mailbox does. cfg is copied; its TLSConfig is cloned.
func New(cfg Config) (*Store, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: cfg.Logger, known: map[string]string{}, writers: map[string]chan struct{}{}}
	s.pool = newPool(s)
	if len(cfg.Mailboxes) > 0 {
		s.ordered = s.remember(cfg.Mailboxes)
	}
	return s, nil
}

// Close closes every idle connection; connections in use close when their
// operation ends. Operations started after Close fail with [ErrClosed].
func (s *Store) Close() error {
	s.pool.close()
	return nil
}

// remember records owners and returns them deduplicated (case-insensitive)
// and sorted.
func (s *Store) remember(names []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		k := strings.ToLower(n)
		if n == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, n)
		if _, ok := s.known[k]; !ok {
			s.known[k] = n
		}
	}
	slices.Sort(out)
	return out
}

// Mailboxes lists the owners: the configured ones, or what the lister
// returns, deduplicated case-insensitively and sorted.
func (s *Store) Mailboxes(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	if s.ordered != nil {
		return slices.Clone(s.ordered), nil
	}
	names, err := s.cfg.Lister.Mailboxes(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx.Err())
		}
		return nil, fmt.Errorf("imapstore: list mailboxes: %w", err)
	}
	return s.remember(names), nil
}

// owner returns the owner as configured, or an error wrapping
// [mailbox.ErrNoMailbox]. With a lister, an owner not seen before makes
// it list again.
func (s *Store) owner(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", ctxErr(err)
	}
	k := strings.ToLower(strings.TrimSpace(name))
	s.mu.Lock()
	n, ok := s.known[k]
	s.mu.Unlock()
	if ok {
		return n, nil
	}
	if s.ordered == nil {
		if _, err := s.Mailboxes(ctx); err != nil {
			return "", err
		}
		s.mu.Lock()
		n, ok = s.known[k]
		s.mu.Unlock()
		if ok {
			return n, nil
		}
	}
	return "", fmt.Errorf("imapstore: mailbox %q: %w", name, mailbox.ErrNoMailbox)
}

// lockWriter serialises the moves and expunges of one mailbox within the
// store. Servers implement MOVE as copy then expunge; two sessions moving
// the same message at once can both copy it (Dovecot answers one of them
// NO [EXPUNGEISSUED] after the copy), leaving duplicates. The returned
// func unlocks.
func (s *Store) lockWriter(ctx context.Context, owner string) (func(), error) {
	s.mu.Lock()
	ch, ok := s.writers[owner]
	if !ok {
		ch = make(chan struct{}, 1)
		s.writers[owner] = ch
	}
	s.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctxErr(ctx.Err())
	}
}

// selectFolder selects (or, readOnly, examines) a folder and checks its
// UIDVALIDITY against want (0: no check). A folder that no longer exists
// gives an error wrapping [mailbox.ErrNotFound] and [mailbox.ErrNoFolder].
func (s *Store) selectFolder(cn *conn, name string, readOnly bool, want uint32) (*imap.SelectData, error) {
	cn.examined = ""
	data, err := cn.c.Select(cn.name(name), &imap.SelectOptions{ReadOnly: readOnly}).Wait()
	if err == nil && readOnly {
		cn.examined, cn.examinedValidity = name, data.UIDValidity
	}
	if err != nil {
		return nil, s.selectErr(cn, name, err)
	}
	if want != 0 && data.UIDValidity != want {
		return data, fmt.Errorf("imapstore: folder %q of %q has UIDVALIDITY %d, the address has %d: %w",
			name, cn.owner, data.UIDValidity, want, mailbox.ErrUIDValidity)
	}
	return data, nil
}

// selectErr wraps the error of a SELECT or EXAMINE. A folder that does
// not exist gives an error wrapping [mailbox.ErrNotFound] and
// [mailbox.ErrNoFolder] (and the server's response).
func (s *Store) selectErr(cn *conn, name string, err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
		gone := ie.Code == imap.ResponseCodeNonExistent
		if !gone && ie.Code == "" {
			// Servers without response codes: ask whether it exists.
			l, lerr := cn.c.List("", cn.name(name), nil).Collect()
			gone = lerr == nil && len(l) == 0
		}
		if gone {
			return fmt.Errorf("imapstore: folder %q of %q: %w: %w: %w", name, cn.owner, mailbox.ErrNotFound, mailbox.ErrNoFolder, err)
		}
	}
	return fmt.Errorf("imapstore: select %q of %q: %w", name, cn.owner, err)
}

// Fetch returns the raw message at addr. A missing copy or folder gives
// an error wrapping [mailbox.ErrNotFound]; a changed UIDVALIDITY one
// wrapping [mailbox.ErrUIDValidity].
func (s *Store) Fetch(ctx context.Context, addr mailbox.Address) ([]byte, error) {
	owner, err := s.owner(ctx, addr.Mailbox)
	if err != nil {
		return nil, err
	}
	if addr.UIDValidity == 0 {
		return nil, errValidityZero(addr)
	}
	if addr.UID == 0 {
		return nil, fmt.Errorf("imapstore: %s: %w", addr, mailbox.ErrNotFound)
	}
	var raw []byte
	err = s.withConn(ctx, owner, func(cn *conn) error {
		if cn.examined != addr.Folder || cn.examinedValidity != addr.UIDValidity {
			if _, err := s.selectFolder(cn, addr.Folder, true, addr.UIDValidity); err != nil {
				return err
			}
		}
		raw, err = fetchBody(cn, imap.UID(addr.UID))
		if err != nil {
			return fmt.Errorf("imapstore: fetch %s: %w", addr, err)
		}
		if raw == nil {
			return fmt.Errorf("imapstore: %s: %w", addr, mailbox.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return raw, nil
}

// errValidityZero is the error for an address with UIDVALIDITY 0, which no
// folder has (RFC 9051 section 2.3.1.1): a UID without its folder's
// generation names no message for sure, so every operation refuses it
// rather than skip the check.
func errValidityZero(addr mailbox.Address) error {
	return fmt.Errorf("imapstore: %s: the address has no UIDVALIDITY: %w", addr, mailbox.ErrUIDValidity)
}

// fetchBody returns the whole message with a UID in the selected folder,
// or nil when there is none. It does not set \Seen (BODY.PEEK).
func fetchBody(cn *conn, uid imap.UID) ([]byte, error) {
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := cn.c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.UID == uid {
			if b := m.FindBodySection(section); b != nil {
				return b, nil
			}
			return []byte{}, nil
		}
	}
	return nil, nil
}

// target is one address of a batch, with its index in the caller's slice.
type target struct {
	i    int
	addr mailbox.Address
}

// group splits addrs by folder and UIDVALIDITY, keeping order: every
// address of a group is checked against the folder's UIDVALIDITY when the
// group's first is (a stale address among fresh ones of the same folder
// must not name another message by its UID). Repeated addresses are
// reported through dup, so that each copy is acted on once.
func group(addrs []mailbox.Address, dup func(i int)) (order []string, byFolder map[string][]target) {
	byFolder = map[string][]target{}
	seen := map[mailbox.Address]bool{}
	for i, a := range addrs {
		key := a
		if strings.EqualFold(key.Folder, "INBOX") {
			key.Folder = "INBOX"
		}
		key.Mailbox = ""
		if seen[key] {
			dup(i)
			continue
		}
		seen[key] = true
		g := key.Folder + "\x00" + strconv.FormatUint(uint64(key.UIDValidity), 10)
		if _, ok := byFolder[g]; !ok {
			order = append(order, g)
		}
		byFolder[g] = append(byFolder[g], target{i: i, addr: a})
	}
	return order, byFolder
}

// oneOwner checks that addrs belong to one mailbox and returns its owner.
func (s *Store) oneOwner(ctx context.Context, addrs []mailbox.Address) (string, error) {
	for _, a := range addrs[1:] {
		if !strings.EqualFold(a.Mailbox, addrs[0].Mailbox) {
			return "", fmt.Errorf("imapstore: addresses of mailboxes %q and %q in one call; pass one mailbox's copies", addrs[0].Mailbox, a.Mailbox)
		}
	}
	return s.owner(ctx, addrs[0].Mailbox)
}

// maxUIDsPerCommand bounds the UIDs of one MOVE, STORE or EXPUNGE, to
// keep command lines short.
const maxUIDsPerCommand = 1000

func chunks(ts []target) [][]target {
	var out [][]target
	for len(ts) > maxUIDsPerCommand {
		out = append(out, ts[:maxUIDsPerCommand])
		ts = ts[maxUIDsPerCommand:]
	}
	if len(ts) > 0 {
		out = append(out, ts)
	}
	return out
}

// resultUIDs returns the UIDs of a UID SEARCH result.
func resultUIDs(data *imap.SearchData) ([]imap.UID, error) {
	if data == nil || data.All == nil {
		return nil, nil
	}
	set, ok := data.All.(imap.UIDSet)
	if !ok {
		return nil, errors.New("imapstore: the server answered UID SEARCH with sequence numbers")
	}
	uids, ok := set.Nums()
	if !ok {
		return nil, errors.New("imapstore: the server answered UID SEARCH with a dynamic set")
	}
	return uids, nil
}

func uidSet(ts []target) imap.UIDSet {
	var set imap.UIDSet
	for _, t := range ts {
		set.AddNum(imap.UID(t.addr.UID))
	}
	return set
}

// uidMap returns the UIDs of a UID SEARCH result as a set.
func uidMap(res *imap.SearchData) (map[imap.UID]bool, error) {
	uids, err := resultUIDs(res)
	if err != nil {
		return nil, err
	}
	out := make(map[imap.UID]bool, len(uids))
	for _, u := range uids {
		out[u] = true
	}
	return out, nil
}

// existing returns the UIDs among ts that are in the selected folder.
func existing(cn *conn, folder string, ts []target) (map[imap.UID]bool, error) {
	out := map[imap.UID]bool{}
	for _, ch := range chunks(ts) {
		data, err := cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uidSet(ch)}}, nil).Wait()
		if err != nil {
			return nil, fmt.Errorf("imapstore: search UIDs in %q of %q: %w", folder, cn.owner, err)
		}
		uids, err := resultUIDs(data)
		if err != nil {
			return nil, err
		}
		for _, u := range uids {
			out[u] = true
		}
	}
	return out, nil
}

// Move moves copies of one mailbox to the location to with UID MOVE (RFC
// 6851) and reads their new addresses from the COPYUID response code (RFC
// 4315 section 3). The server must offer MOVE and UIDPLUS: without them
// Move fails, wrapping [mailbox.ErrUnsupported], before touching anything;
// it never falls back to COPY + STORE \Deleted + EXPUNGE, whose EXPUNGE
// would remove every message marked \Deleted in the folder.
//
// Per copy: a copy already at to keeps its address; a gone copy or
// folder gives an Err wrapping [mailbox.ErrNotFound]; a changed
// UIDVALIDITY one wrapping [mailbox.ErrUIDValidity]; a repeated address
// moves once, the repeats give ErrNotFound. The returned error is non-nil
// only when nothing was tried: unknown mailbox, unknown destination
// ([mailbox.ErrNoFolder]), invalid location, missing capability, ctx done
// before the first command, or a failed connection.
func (s *Store) Move(ctx context.Context, addrs []mailbox.Address, to mailbox.Location) ([]mailbox.Moved, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	if err := to.Validate(); err != nil {
		return nil, fmt.Errorf("imapstore: %w", err)
	}
	if len(addrs) == 0 {
		return []mailbox.Moved{}, nil
	}
	owner, err := s.oneOwner(ctx, addrs)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockWriter(ctx, owner)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]mailbox.Moved, len(addrs))
	for i, a := range addrs {
		out[i].From = a
	}
	tried := false
	err = s.withConn(ctx, owner, func(cn *conn) error {
		if err := requireCaps(cn, "to move messages safely (RFC 6851 UID MOVE, RFC 4315 COPYUID)", imap.CapMove, imap.CapUIDPlus); err != nil {
			return err
		}
		fs, err := s.listFolders(cn)
		if err != nil {
			return err
		}
		dest, err := s.resolve(cn, fs, to)
		if err != nil {
			return err
		}
		tried = true
		order, byFolder := group(addrs, func(i int) {
			out[i].Err = fmt.Errorf("imapstore: %s: repeated in the batch, moved once: %w", addrs[i], mailbox.ErrNotFound)
		})
		for _, name := range order {
			ts := byFolder[name]
			if err := s.moveFolder(cn, fs, ts, dest, out); err != nil {
				// The connection failed: nothing more can be tried.
				return err
			}
		}
		return nil
	})
	if err != nil && !tried {
		return nil, err
	}
	if err == nil {
		err = errors.New("not attempted")
	}
	for i := range out {
		out[i].Err = withCtx(ctx, out[i].Err)
		if out[i].Err == nil && out[i].To.IsZero() {
			out[i].Err = fmt.Errorf("imapstore: %s: not moved: %w", out[i].From, err)
		}
	}
	moved := 0
	for _, m := range out {
		if m.Err == nil {
			moved++
		}
	}
	s.log.Debug("imapstore: move", "mailbox", owner, "to", to.String(), "copies", len(addrs), "moved", moved)
	return out, nil
}

// moveFolder moves the copies of one source folder. Per-copy outcomes go
// into out; the returned error means the connection is unusable.
func (s *Store) moveFolder(cn *conn, fs *folders, ts []target, dest string, out []mailbox.Moved) error {
	setAll := func(err error) {
		for _, t := range ts {
			out[t.i].Err = err
		}
	}
	if ts[0].addr.UIDValidity == 0 {
		// selectFolder would skip the check: refused, as Fetch and
		// Expunge refuse it.
		for _, t := range ts {
			out[t.i].Err = errValidityZero(t.addr)
		}
		return nil
	}
	src := fs.byName(ts[0].addr.Folder)
	if src == "" {
		setAll(fmt.Errorf("imapstore: folder %q of %q: %w", ts[0].addr.Folder, cn.owner, mailbox.ErrNotFound))
		return nil
	}
	if src == dest {
		if _, err := s.selectFolder(cn, src, true, ts[0].addr.UIDValidity); err != nil {
			return perCopy(err, setAll)
		}
		have, err := existing(cn, src, ts)
		if err != nil {
			return perCopy(err, setAll)
		}
		for _, t := range ts {
			if have[imap.UID(t.addr.UID)] {
				out[t.i].To = t.addr
			} else {
				out[t.i].Err = fmt.Errorf("imapstore: %s: %w", t.addr, mailbox.ErrNotFound)
			}
		}
		return nil
	}
	if _, err := s.selectFolder(cn, src, false, ts[0].addr.UIDValidity); err != nil {
		return perCopy(err, setAll)
	}
	// Move only copies that exist: a gone copy is reported as such, and a
	// MOVE that would move nothing is not sent (some servers answer it
	// with an empty COPYUID that clients cannot parse).
	have, err := existing(cn, src, ts)
	if err != nil {
		return perCopy(err, setAll)
	}
	var present []target
	for _, t := range ts {
		if have[imap.UID(t.addr.UID)] {
			present = append(present, t)
		} else {
			out[t.i].Err = fmt.Errorf("imapstore: %s: %w", t.addr, mailbox.ErrNotFound)
		}
	}
	for _, ch := range chunks(present) {
		// The capability check in Move makes go-imap send UID MOVE, never
		// its COPY + EXPUNGE fallback; check again on this connection.
		if !cn.c.Caps().Has(imap.CapMove) {
			err := fmt.Errorf("imapstore: the server no longer advertises MOVE: %w", mailbox.ErrUnsupported)
			for _, t := range ch {
				out[t.i].Err = err
			}
			continue
		}
		data, err := cn.c.Move(uidSet(ch), cn.name(dest)).Wait()
		if err != nil {
			err = fmt.Errorf("imapstore: move from %q to %q in %q: %w", src, dest, cn.owner, err)
			for _, t := range ch {
				out[t.i].Err = err
			}
			if isConnErr(err) {
				return err
			}
			continue
		}
		moved := map[imap.UID]imap.UID{}
		if data != nil && data.SourceUIDs != nil && data.DestUIDs != nil {
			srcUIDs, ok1 := data.SourceUIDs.(imap.UIDSet)
			dstUIDs, ok2 := data.DestUIDs.(imap.UIDSet)
			if ok1 && ok2 {
				sl, _ := srcUIDs.Nums()
				dl, _ := dstUIDs.Nums()
				if len(sl) == len(dl) {
					for k := range sl {
						moved[sl[k]] = dl[k]
					}
				}
			}
		}
		for _, t := range ch {
			d, ok := moved[imap.UID(t.addr.UID)]
			switch {
			case ok:
				out[t.i].To = mailbox.Address{Mailbox: t.addr.Mailbox, Folder: dest, UIDValidity: data.UIDValidity, UID: uint32(d)}
			case len(moved) == 0 && data != nil && data.UIDValidity != 0:
				out[t.i].Err = fmt.Errorf("imapstore: %s: the server's COPYUID is unreadable", t.addr)
			default:
				out[t.i].Err = fmt.Errorf("imapstore: %s: %w", t.addr, mailbox.ErrNotFound)
			}
		}
	}
	return nil
}

// withCtx makes a per-copy connection error that a done ctx caused wrap
// ctx's error.
func withCtx(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) || !isConnErr(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ctxErr(ctx.Err()), err)
}

// perCopy records a folder-level error on every copy of the folder, and
// passes it on when the connection failed.
func perCopy(err error, setAll func(error)) error {
	setAll(err)
	if isConnErr(err) {
		return err
	}
	return nil
}

// Expunge removes copies of one mailbox permanently: STORE +FLAGS.SILENT
// (\Deleted) and then UID EXPUNGE (RFC 4315 section 2.1) of exactly the
// copies that exist, so messages that the owner marked \Deleted stay. The
// server must offer UIDPLUS: without it Expunge fails, wrapping
// [mailbox.ErrUnsupported], before touching anything; it never sends a
// plain EXPUNGE.
//
// Per copy the error is nil when the copy was removed, wraps
// [mailbox.ErrNotFound] when it (or its folder) was already gone, or
// [mailbox.ErrUIDValidity] when the folder's UIDVALIDITY changed. The
// returned error is non-nil only when nothing was tried.
func (s *Store) Expunge(ctx context.Context, addrs []mailbox.Address) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, ctxErr(err)
	}
	if len(addrs) == 0 {
		return []error{}, nil
	}
	owner, err := s.oneOwner(ctx, addrs)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockWriter(ctx, owner)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]error, len(addrs))
	done := make([]bool, len(addrs))
	tried := false
	err = s.withConn(ctx, owner, func(cn *conn) error {
		if err := requireCaps(cn, "to expunge only the target messages (RFC 4315 UID EXPUNGE)", imap.CapUIDPlus); err != nil {
			return err
		}
		tried = true
		order, byFolder := group(addrs, func(i int) {
			out[i] = fmt.Errorf("imapstore: %s: repeated in the batch, expunged once: %w", addrs[i], mailbox.ErrNotFound)
			done[i] = true
		})
		for _, name := range order {
			if err := s.expungeFolder(cn, byFolder[name], out, done); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !tried {
		return nil, err
	}
	if err == nil {
		err = errors.New("not attempted")
	}
	for i := range out {
		out[i] = withCtx(ctx, out[i])
		if !done[i] && out[i] == nil {
			out[i] = fmt.Errorf("imapstore: %s: not expunged: %w", addrs[i], err)
		}
	}
	s.log.Debug("imapstore: expunge", "mailbox", owner, "copies", len(addrs))
	return out, nil
}

// expungeFolder expunges the copies of one folder. The returned error
// means the connection is unusable.
func (s *Store) expungeFolder(cn *conn, ts []target, out []error, done []bool) error {
	set := func(t target, err error) {
		out[t.i] = err
		done[t.i] = true
	}
	setAll := func(err error) {
		for _, t := range ts {
			set(t, err)
		}
	}
	src := ts[0].addr.Folder
	if strings.EqualFold(src, "INBOX") {
		src = "INBOX"
	}
	// SELECT and the UID SEARCH of the targets are pipelined: the search
	// only reads, and its result is used only when UIDVALIDITY matches.
	cn.examined = ""
	sel := cn.c.Select(cn.name(src), nil)
	var first *imapclient.SearchCommand
	if len(ts) <= maxUIDsPerCommand {
		first = cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{uidSet(ts)}}, nil)
	}
	data, selErr := sel.Wait()
	var have map[imap.UID]bool
	var searchErr error
	if first != nil {
		res, err := first.Wait()
		if err == nil {
			have, err = uidMap(res)
		}
		if err != nil {
			searchErr = fmt.Errorf("imapstore: search UIDs in %q of %q: %w", src, cn.owner, err)
		}
	}
	if selErr != nil {
		return perCopy(s.selectErr(cn, src, selErr), setAll)
	}
	if searchErr != nil {
		return perCopy(searchErr, setAll)
	}
	if want := ts[0].addr.UIDValidity; data.UIDValidity != want {
		return perCopy(fmt.Errorf("imapstore: folder %q of %q has UIDVALIDITY %d, the address has %d: %w",
			src, cn.owner, data.UIDValidity, want, mailbox.ErrUIDValidity), setAll)
	}
	if have == nil {
		var err error
		if have, err = existing(cn, src, ts); err != nil {
			return perCopy(err, setAll)
		}
	}
	var present []target
	for _, t := range ts {
		if have[imap.UID(t.addr.UID)] {
			present = append(present, t)
		} else {
			set(t, fmt.Errorf("imapstore: %s: %w", t.addr, mailbox.ErrNotFound))
		}
	}
	for _, ch := range chunks(present) {
		if !cn.c.Caps().Has(imap.CapUIDPlus) {
			err := fmt.Errorf("imapstore: expunge in %q of %q: the server no longer advertises UIDPLUS: %w", src, cn.owner, mailbox.ErrUnsupported)
			for _, t := range ch {
				set(t, err)
			}
			continue
		}
		// STORE \Deleted and UID EXPUNGE of the same UIDs, pipelined:
		// UID EXPUNGE removes only those of them that are \Deleted.
		uids := uidSet(ch)
		store := cn.c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil)
		expunge := cn.c.UIDExpunge(uids)
		storeErr := store.Close()
		seqs, expErr := expunge.Collect()
		if storeErr == nil && expErr == nil && len(seqs) == len(ch) {
			for _, t := range ch {
				set(t, nil)
			}
			continue
		}
		// Find out which copies are gone: a server may refuse to expunge
		// some without failing the command.
		cause := errors.Join(storeErr, expErr)
		left, err := existing(cn, src, ch)
		if err != nil {
			err = fmt.Errorf("imapstore: expunge in %q of %q: %w", src, cn.owner, errors.Join(cause, err))
			for _, t := range ch {
				set(t, err)
			}
			if isConnErr(err) {
				return err
			}
			continue
		}
		for _, t := range ch {
			if left[imap.UID(t.addr.UID)] {
				err := fmt.Errorf("imapstore: %s: still present after UID EXPUNGE", t.addr)
				if cause != nil {
					err = fmt.Errorf("imapstore: %s: not expunged: %w", t.addr, cause)
				}
				set(t, err)
			} else {
				set(t, nil)
			}
		}
	}
	return nil
}

// Append stores raw as a new copy at to in mailbox and returns its
// address, read from the APPENDUID response code (RFC 4315 section 3); the
// server must offer UIDPLUS. A missing destination folder gives an error
// wrapping [mailbox.ErrNoFolder]. opts may be nil.
func (s *Store) Append(ctx context.Context, mbox string, to mailbox.Location, raw []byte, opts *mailbox.AppendOptions) (mailbox.Address, error) {
	if err := ctx.Err(); err != nil {
		return mailbox.Address{}, ctxErr(err)
	}
	if err := to.Validate(); err != nil {
		return mailbox.Address{}, fmt.Errorf("imapstore: %w", err)
	}
	owner, err := s.owner(ctx, mbox)
	if err != nil {
		return mailbox.Address{}, err
	}
	if opts == nil {
		opts = &mailbox.AppendOptions{}
	}
	var addr mailbox.Address
	err = s.withConn(ctx, owner, func(cn *conn) error {
		if err := requireCaps(cn, "to learn the address of an appended message (RFC 4315 APPENDUID)", imap.CapUIDPlus); err != nil {
			return err
		}
		fs, err := s.listFolders(cn)
		if err != nil {
			return err
		}
		dest, err := s.resolve(cn, fs, to)
		if err != nil {
			return err
		}
		ao := &imap.AppendOptions{Time: opts.Date}
		for _, f := range opts.Flags {
			ao.Flags = append(ao.Flags, imap.Flag(f))
		}
		cmd := cn.c.Append(cn.name(dest), int64(len(raw)), ao)
		if _, err := cmd.Write(raw); err != nil {
			_ = cmd.Close()
			return fmt.Errorf("imapstore: append to %q of %q: %w", dest, owner, err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("imapstore: append to %q of %q: %w", dest, owner, err)
		}
		data, err := cmd.Wait()
		if err != nil {
			var ie *imap.Error
			if errors.As(err, &ie) && (ie.Code == imap.ResponseCodeTryCreate || ie.Code == imap.ResponseCodeNonExistent) {
				return fmt.Errorf("imapstore: append to %q of %q: %w: %w", dest, owner, mailbox.ErrNoFolder, err)
			}
			return fmt.Errorf("imapstore: append to %q of %q: %w", dest, owner, err)
		}
		if data == nil || data.UID == 0 || data.UIDValidity == 0 {
			return fmt.Errorf("imapstore: append to %q of %q: the server sent no APPENDUID", dest, owner)
		}
		addr = mailbox.Address{Mailbox: owner, Folder: dest, UIDValidity: data.UIDValidity, UID: uint32(data.UID)}
		return nil
	})
	if err != nil {
		return mailbox.Address{}, err
	}
	return addr, nil
}
