package mailbox

import "context"

// BatchFetcher is a [Store] that reads many copies of one mailbox in few
// round trips: what a crawler that indexes every new message needs, where
// [Store.Fetch] costs one server command per copy. It is an optional
// capability, found by type assertion.
type BatchFetcher interface {
	// FetchMany reads the raw messages at addrs, all in one mailbox, and
	// calls fn once for each distinct address, in no set order. raw is
	// valid only during the call: fn copies what it keeps. A copy that is
	// gone (or whose folder is) gets a nil raw and an err wrapping
	// ErrNotFound; one whose folder's UIDVALIDITY changed, an err
	// wrapping ErrUIDValidity. The messages' contents are read in
	// batches bounded in count and bytes, so memory stays bounded
	// whatever the number of addresses.
	//
	// fn runs while the store reads and must not call the store. An
	// error fn returns stops the read and is returned. FetchMany returns
	// an error also when the read as a whole failed (unknown mailbox:
	// ErrNoMailbox; addresses of several mailboxes; a failed connection;
	// ctx done); the copies fn has not seen by then were not read.
	FetchMany(ctx context.Context, addrs []Address, fn func(addr Address, raw []byte, err error) error) error
}
