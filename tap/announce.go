package tap

import (
	"context"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Announcer records a message before the mail server stores it, in the
// mailboxes of its recipients: an events index (package hunt's Pending)
// then holds the message from the moment the tap receives it.
type Announcer interface {
	// Announce records the parsed message p, received at at from the
	// envelope sender envelopeFrom, for the mailbox owners. p is only
	// read.
	Announce(ctx context.Context, owners []string, envelopeFrom string, at time.Time, p *mailbox.Parsed) error
}

// AnnounceIndexer returns an [Indexer] that announces each parsed
// message to a, with the owners of its recipients.
func AnnounceIndexer(a Announcer) Indexer { return announceAdapter{a} }

type announceAdapter struct{ a Announcer }

func (aa announceAdapter) Index(ctx context.Context, d *Delivery) error {
	if d.Parsed == nil {
		return nil
	}
	owners := make([]string, 0, len(d.Recipients))
	for _, rc := range d.Recipients {
		owners = append(owners, rc.Owner)
	}
	return aa.a.Announce(ctx, owners, d.From, d.Received, d.Parsed)
}
