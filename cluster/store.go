package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// AddStore walks the mailboxes of st and adds every message that matches
// c, fetching and parsing each distinct message once: copies of a message
// already in the index (same Message-ID) only add their address. A nil c
// walks every message of every mailbox (it selects, per mailbox, the
// messages whose recipients include the owner, which [mailbox.Criteria]
// defines as every message of that mailbox).
//
// A copy that cannot be fetched or parsed is logged and skipped; a
// message Parse reads only partly is still added with what was read.
// AddStore returns the number of new messages and stops at the first
// error of the store itself (unknown mailbox, refused criteria, ctx done).
func (x *Index) AddStore(ctx context.Context, st mailbox.Store, c *mailbox.Criteria) (int, error) {
	owners, err := st.Mailboxes(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster: list mailboxes: %w", err)
	}
	added := 0
	for _, owner := range owners {
		crit := mailbox.Criteria{Recipients: []string{owner}}
		if c != nil {
			crit = *c
		}
		for msg, err := range st.Search(ctx, owner, crit) {
			if err != nil {
				return added, fmt.Errorf("cluster: search %s: %w", owner, err)
			}
			if msg.MessageID != "" && x.addCopyByID(msg.MessageID, msg.Address) {
				continue
			}
			raw, err := st.Fetch(ctx, msg.Address)
			if err != nil {
				if ctx.Err() != nil {
					return added, fmt.Errorf("cluster: fetch: %w", ctx.Err())
				}
				if errors.Is(err, mailbox.ErrNotFound) || errors.Is(err, mailbox.ErrUIDValidity) {
					continue
				}
				x.log.Warn("cluster: fetch failed", "copy", msg.Address.String(), "err", err)
				continue
			}
			p, err := mailbox.Parse(raw)
			if err != nil {
				x.log.Warn("cluster: message parsed partly", "copy", msg.Address.String(), "err", err)
			}
			if p == nil {
				continue
			}
			ind := Extract(p)
			if ind.MessageID == "" {
				ind.MessageID = mailbox.NormalizeMessageID(msg.MessageID)
			}
			if x.Add(ind, msg.Address) {
				added++
			}
		}
	}
	return added, nil
}

// addCopyByID adds addr to the message with the given Message-ID and
// reports whether that message was in the index.
func (x *Index) addCopyByID(id string, addr mailbox.Address) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	v, ok := x.keys.get(x.hash(keyMessage, mailbox.NormalizeMessageID(id)))
	if !ok {
		return false
	}
	x.addCopiesLocked(int32(v), []mailbox.Address{addr})
	x.recordCopiesLocked(id, []mailbox.Address{addr})
	return true
}
