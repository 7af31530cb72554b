package mock

import (
	"bytes"
	"context"
	"fmt"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.BatchFetcher = (*Tenant)(nil)

// FetchMany reads the raw messages at addrs, all of one mailbox, and calls
// fn once for each distinct address, in the order of addrs. It implements
// [mailbox.BatchFetcher]: a missing copy or folder gets
// mailbox.ErrNotFound, a stale UIDVALIDITY mailbox.ErrUIDValidity. Faults
// strike each copy as a Fetch ([OpFetch]) would: the fault's error is
// that copy's err, and the others are still read. Each message is read
// under the tenant's lock and handed to fn outside it.
func (t *Tenant) FetchMany(ctx context.Context, addrs []mailbox.Address, fn func(addr mailbox.Address, raw []byte, err error) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mock: fetch: %w", err)
	}
	if len(addrs) == 0 {
		return nil
	}
	if _, err := batchMailbox(OpFetch, addrs); err != nil {
		return err
	}
	t.mu.Lock()
	_, err := t.userLocked(addrs[0].Mailbox)
	t.mu.Unlock()
	if err != nil {
		return err
	}
	seen := make(map[mailbox.Address]bool, len(addrs))
	for _, a := range addrs {
		key := a
		key.Mailbox = ""
		if seen[key] {
			continue
		}
		seen[key] = true
		if err := t.fault(ctx, OpFetch); err != nil {
			if ctx.Err() != nil {
				return err
			}
			if err := fn(a, nil, err); err != nil {
				return err
			}
			continue
		}
		t.mu.Lock()
		var raw []byte
		u, err := t.userLocked(a.Mailbox)
		if err == nil {
			var m *message
			if _, m, err = u.copyLocked(a); err == nil {
				raw = bytes.Clone(m.raw)
			}
		}
		t.mu.Unlock()
		if err := fn(a, raw, err); err != nil {
			return err
		}
	}
	return nil
}
