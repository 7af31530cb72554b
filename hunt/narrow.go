package hunt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Narrower picks, from the index, the mailboxes a selection must search:
// an action selected by criteria then opens only the mailboxes that hold
// copies, plus every mailbox the index cannot vouch for. It never decides
// which copies an action takes: the engine still searches each mailbox
// it names on the server, so a copy the index places wrongly is found
// where it is, and one it lists but the server no longer has is not
// acted on.
//
// A Narrower is safe for concurrent use.
type Narrower struct {
	// Index is the events index; required.
	Index Reader
	// MaxAge is how old a mailbox's index may be (since the start of its
	// last complete crawl, [Cursor].Fresh) for the Narrower to trust that
	// a mailbox holding no copy in the index holds none on the server.
	// A mailbox crawled longer ago, or never, is always searched. Mail
	// delivered since the last crawl is in the index only when the
	// delivery path indexes it ([Indexer]): without that, MaxAge is how
	// late a narrowed selection may be to see new mail. 0 trusts no
	// mailbox: every mailbox is searched.
	MaxAge time.Duration
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
	search := make(map[string]bool, len(mbs))
	for _, mb := range mbs {
		if n.MaxAge <= 0 {
			search[normMailbox(mb)] = true
			continue
		}
		cur, err := n.Index.Cursor(ctx, mb)
		if err != nil {
			return nil, fmt.Errorf("hunt: narrow: %w", err)
		}
		if cur.Fresh.IsZero() || cur.Fresh.Before(oldest) {
			search[normMailbox(mb)] = true
		}
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
		return mbs, nil
	}
	q := Query{Criteria: &anywhere}
	if len(mbs) <= 100 {
		q.Mailboxes = mbs // else filtered here: a long list costs the database more
	}
	for cp, err := range n.Index.Copies(ctx, q) {
		if err != nil {
			return nil, fmt.Errorf("hunt: narrow: %w", err)
		}
		if mb := normMailbox(cp.Mailbox); in[mb] {
			search[mb] = true
		}
	}
	var out []string
	for _, mb := range mbs {
		if search[normMailbox(mb)] {
			out = append(out, mb)
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
