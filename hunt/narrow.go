package hunt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// Narrower picks, from the index, the mailboxes a selection must search:
// an action selected by criteria then opens only the mailboxes that hold
// copies, plus every mailbox the index cannot vouch for. As a
// [remediation.Locator] it also gives the copies the index holds in each
// mailbox it vouches for: the engine then matches the criteria against
// those copies alone on the server (when the store is a
// [mailbox.CopySearcher]) instead of searching the mailbox. Either way a
// copy is acted on only once it matched on the server: one the index
// lists but the server no longer has is not acted on, and a mailbox
// where a listed copy has moved is searched.
//
// A Narrower is safe for concurrent use.
type Narrower struct {
	// Index is the events index; required.
	Index Reader
	// MaxAge is how old a mailbox's index may be (since the start of its
	// last complete crawl, [Cursor].Fresh) for the Narrower to trust that
	// a mailbox holding no copy in the index holds none on the server.
	// A mailbox crawled longer ago, or never, is searched (unless Stater
	// shows it unchanged). Mail delivered since the last crawl is in the
	// index only when the delivery path indexes it ([Pending]):
	// without that, MaxAge is how late a narrowed selection may be to
	// see new mail. 0 trusts no mailbox by its age: every mailbox is
	// searched that Stater does not show unchanged.
	MaxAge time.Duration
	// Stater, when set, reads the folder states of each mailbox the
	// index does not vouch for by MaxAge (the mail store itself, such as
	// imapstore's STATUS): a mailbox whose folders are exactly as its
	// last complete crawl saw them ([Cursor].Folders: the same folders
	// and roles, UIDVALIDITY, UIDNEXT and number of messages) has had no
	// mail added, moved or expunged since (an append raises UIDNEXT, an
	// expunge without one lowers the count), so the index holds all of
	// it: it is not searched unless the index names it. HIGHESTMODSEQ is
	// not compared: it also moves when a user reads or flags a message,
	// which changes no copy's place, and no criterion looks at flags. A mailbox whose state cannot be read, or differs,
	// or whose cursor has no folder states, is searched. nil trusts the
	// cursor's age alone.
	Stater mailbox.FolderStater
	// Workers is the number of mailboxes whose state Stater reads at
	// once; 0 means 8.
	Workers int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Mailboxes returns, in the order of mbs, the mailboxes of mbs that a
// selection by c must search: those where the index holds a copy c
// selects, and those whose index is older than MaxAge. c must pass
// [mailbox.Criteria.Validate]. The folders and roles c names are not
// asked of the index (a user may have moved a copy since the last crawl):
// a mailbox holding a copy c selects in some folder is searched. On an error the caller must search every
// mailbox, as without an index.
func (n *Narrower) Mailboxes(ctx context.Context, c mailbox.Criteria, mbs []string) ([]string, error) {
	ls, err := n.locate(ctx, c, mbs, false)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Mailbox
	}
	return out, nil
}

// Locate implements [remediation.Locator]: the mailboxes [Narrower.Mailboxes]
// returns, each with the copies the index holds there (in any folder:
// c's folders and roles are matched on the server) when the index
// vouches for the mailbox, by MaxAge or by Stater, and holds no pending
// copy there ([Copy.Pending]); the engine then matches c against those
// copies on the server instead of searching the mailbox, and searches it
// when one of them has moved. A mailbox the index does not vouch for is
// searched.
func (n *Narrower) Locate(ctx context.Context, c mailbox.Criteria, mbs []string) ([]remediation.Located, error) {
	return n.locate(ctx, c, mbs, true)
}

func (n *Narrower) locate(ctx context.Context, c mailbox.Criteria, mbs []string, exact bool) ([]remediation.Located, error) {
	if n.Index == nil {
		return nil, errors.New("hunt: narrower without an index")
	}
	now := time.Now
	if n.Now != nil {
		now = n.Now
	}
	// Freshness is read before the hunt: a crawl that completes in
	// between only makes the answer more complete.
	oldest := now().Add(-n.MaxAge)
	search := make(map[string]bool, len(mbs)) // searched by criteria
	stale := map[string]Cursor{}              // not vouched for by age; Stater may yet
	for _, mb := range mbs {
		if n.MaxAge <= 0 && n.Stater == nil {
			search[normMailbox(mb)] = true
			continue
		}
		cur, err := n.Index.Cursor(ctx, mb)
		if err != nil {
			return nil, fmt.Errorf("hunt: narrow: %w", err)
		}
		if n.MaxAge > 0 && !cur.Fresh.IsZero() && !cur.Fresh.Before(oldest) {
			continue
		}
		if n.Stater == nil || cur.Fresh.IsZero() || cur.Folders == nil {
			search[normMailbox(mb)] = true
			continue
		}
		stale[mb] = cur
	}
	in := make(map[string]bool, len(mbs))
	for _, mb := range mbs {
		in[normMailbox(mb)] = true
	}
	// The index may place a copy in a folder the user has moved it out
	// of since; the index is asked for the copies of the mailbox c would
	// select wherever they are now.
	anywhere := withoutLocation(c)
	if anywhere.Validate() != nil {
		// Only the location narrows c (which Validate refuses today):
		// every mailbox may hold a copy.
		out := make([]remediation.Located, len(mbs))
		for i, mb := range mbs {
			out[i].Mailbox = mb
		}
		return out, nil
	}
	q := Query{Criteria: &anywhere}
	if len(mbs) <= 100 {
		q.Mailboxes = mbs // else filtered here: a long list costs the database more
	}
	held := map[string][]mailbox.Address{}
	pending := map[string]bool{}
	for cp, err := range n.Index.Copies(ctx, q) {
		if err != nil {
			return nil, fmt.Errorf("hunt: narrow: %w", err)
		}
		mb := normMailbox(cp.Mailbox)
		if !in[mb] {
			continue
		}
		if cp.Pending() {
			pending[mb] = true
		}
		held[mb] = append(held[mb], cp.Address)
	}
	// The states of stale mailboxes: all of them when copies are to be
	// given, else only those the index names no copy in (the others are
	// searched anyway).
	var check []string
	for mb := range stale {
		if exact || held[normMailbox(mb)] == nil {
			check = append(check, mb)
		}
	}
	for _, mb := range n.changed(ctx, check, stale) {
		search[normMailbox(mb)] = true
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("hunt: narrow: %w", err)
	}
	var out []remediation.Located
	for _, mb := range mbs {
		k := normMailbox(mb)
		switch {
		case search[k] || (held[k] != nil && (!exact || pending[k])):
			out = append(out, remediation.Located{Mailbox: mb})
		case held[k] != nil:
			l := remediation.Located{Mailbox: mb}
			for _, a := range held[k] {
				a.Mailbox = mb
				l.Copies = append(l.Copies, a)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// withoutLocation returns c without its Folders and Roles, at every level:
// it selects every copy c selects, wherever it is in its mailbox.
func withoutLocation(c mailbox.Criteria) mailbox.Criteria {
	c.Folders, c.Roles = nil, nil
	and, or := c.And, c.Or
	c.And, c.Or = nil, nil
	for _, s := range and {
		c.And = append(c.And, withoutLocation(s))
	}
	for _, s := range or {
		c.Or = append(c.Or, withoutLocation(s))
	}
	return c
}

// changed returns the mailboxes of mbs whose folder states, read with
// Stater, are not those of their cursor in curs (or could not be read).
func (n *Narrower) changed(ctx context.Context, mbs []string, curs map[string]Cursor) []string {
	workers := n.Workers
	if workers <= 0 {
		workers = 8
	}
	var (
		mu   sync.Mutex
		out  []string
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(workers, len(mbs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(mbs) {
					return
				}
				mb := mbs[i]
				states, err := n.Stater.FolderStatus(ctx, mb)
				if err != nil || !sameFolders(curs[mb].Folders, states) {
					mu.Lock()
					out = append(out, mb)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// sameFolders reports whether the folders of now are those of prev, in
// any order, each holding the same copies (HighestModSeq aside).
func sameFolders(prev, now []mailbox.FolderStatus) bool {
	if len(prev) != len(now) {
		return false
	}
	was := make(map[string]mailbox.FolderStatus, len(prev))
	for _, f := range prev {
		was[f.Name] = f
	}
	for _, f := range now {
		p, ok := was[f.Name]
		if !ok || p.Role != f.Role || p.UIDValidity != f.UIDValidity || p.UIDNext != f.UIDNext || p.Messages != f.Messages {
			return false
		}
	}
	return true
}
