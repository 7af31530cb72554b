package mock

import (
	"context"
	"iter"

	"github.com/eradicate-dev/eradicate/mailbox"
)

var _ mailbox.CopySearcher = (*Tenant)(nil)

// SearchCopies implements [mailbox.CopySearcher]: it checks that every
// copy of addrs is there, then keeps those of them that a search of the
// mailbox by c returns.
func (t *Tenant) SearchCopies(ctx context.Context, owner string, c mailbox.Criteria, addrs []mailbox.Address) iter.Seq2[mailbox.Message, error] {
	return func(yield func(mailbox.Message, error) bool) {
		want := make(map[mailbox.Address]bool, len(addrs))
		for _, a := range addrs {
			if _, err := t.Fetch(ctx, a); err != nil {
				yield(mailbox.Message{}, err)
				return
			}
			want[a] = true
		}
		for m, err := range t.Search(ctx, owner, c) {
			if err != nil {
				yield(mailbox.Message{}, err)
				return
			}
			if want[m.Address] && !yield(m, nil) {
				return
			}
		}
	}
}
