package hunt

import (
	"context"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Pending records in Index the messages a delivery path receives, before
// the mail server stores them: each as a pending copy ([Copy.Pending]) in
// the mailbox of each recipient. Hunts find the message at once, and a
// [Narrower] searches those mailboxes (where mail delivered since the
// last crawl would otherwise be missed). The crawler fills in each copy's
// folder and UID when it finds it, keeping the delivery path's time; a
// copy that never arrives (refused by the mail server) is settled by the
// first crawl of its mailbox more than [PendingGrace] later. A message
// announced again (an MTA's retry) is recorded once per mailbox.
//
// The delivery tap takes it as an indexer through tap.AnnounceIndexer:
//
//	tap.Options{Indexers: []tap.Indexer{tap.AnnounceIndexer(hunt.Pending{Index: index})}}
//
// Under the tap's TempFail policy a message is delivered only once it is
// recorded; under DeliverUnchanged a hunt may see it a moment after the
// mailbox does.
type Pending struct {
	// Index is the events index; required.
	Index Store
}

// Announce records the message p, received at at from the envelope
// sender envelopeFrom, as pending in the mailboxes of owners. p is only
// read.
func (pd Pending) Announce(ctx context.Context, owners []string, envelopeFrom string, at time.Time, p *mailbox.Parsed) error {
	if p == nil || len(owners) == 0 {
		return nil
	}
	pc := *p
	if pc.EnvelopeFrom == "" {
		pc.EnvelopeFrom = normAddr(envelopeFrom) // as the crawler reads it back from Return-Path
	}
	msg := NewMessage(&pc)
	var ds []Delivery
	seen := map[string]bool{}
	for _, o := range owners {
		mb := normMailbox(o)
		if mb == "" || seen[mb] {
			continue
		}
		seen[mb] = true
		ds = append(ds, Delivery{Address: mailbox.Address{Mailbox: strings.TrimSpace(o)}, At: at, Message: msg})
	}
	return pd.Index.Ingest(ctx, ds)
}
