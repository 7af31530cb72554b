package hunt

import (
	"context"
	"strings"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/tap"
)

// TapIndexer returns a [tap.Indexer] that records each message the
// delivery tap receives in s, as a pending copy ([Copy.Pending]) in the
// mailbox of each of its recipients, before the mail server stores it:
// hunts find it at once, and a [Narrower] searches those mailboxes
// (where mail delivered since the last crawl would otherwise be missed).
// The crawler fills in each copy's folder and UID when it finds it,
// keeping the tap's delivery time; a copy that never arrives (refused
// by the mail server) is settled by the first crawl of its mailbox
// more than [PendingGrace] later. A message the tap receives again (an
// MTA's retry) is recorded once per mailbox.
func TapIndexer(s Store) tap.Indexer { return tapIndexer{s} }

type tapIndexer struct{ s Store }

func (ti tapIndexer) Index(ctx context.Context, d *tap.Delivery) error {
	if d.Parsed == nil || len(d.Recipients) == 0 {
		return nil
	}
	p := *d.Parsed // d is shared: read only
	if p.EnvelopeFrom == "" {
		p.EnvelopeFrom = normAddr(d.From) // as the crawler reads it back from Return-Path
	}
	msg := NewMessage(&p)
	var ds []Delivery
	seen := map[string]bool{}
	for _, rc := range d.Recipients {
		mb := normMailbox(rc.Owner)
		if mb == "" || seen[mb] {
			continue
		}
		seen[mb] = true
		ds = append(ds, Delivery{Address: mailbox.Address{Mailbox: strings.TrimSpace(rc.Owner)}, At: d.Received, Message: msg})
	}
	return ti.s.Ingest(ctx, ds)
}
