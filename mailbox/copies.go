package mailbox

import (
	"context"
	"iter"
)

// CopySearcher is a [Store] that can match criteria against given copies
// alone, without searching their folders: what a caller that already
// knows where the copies are (an index of the mail) needs to verify them
// on the server. It is an optional capability, found by type assertion.
type CopySearcher interface {
	// SearchCopies streams those of the copies at addrs (all in mailbox)
	// that match c, exactly as Search would return them (c's folders and
	// roles apply), reading only those copies. When a copy of addrs is
	// gone, or its folder is gone or was renumbered, it yields one error,
	// wrapping ErrNotFound or ErrUIDValidity, before any copy: the caller
	// then searches the mailbox with Search. An unknown mailbox yields
	// ErrNoMailbox.
	SearchCopies(ctx context.Context, mailbox string, c Criteria, addrs []Address) iter.Seq2[Message, error]
}
