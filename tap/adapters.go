package tap

import (
	"context"

	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/cluster"
)

// IMIP returns an [InviteProcessor] that applies a delivered message's
// invites to the owner's calendar with p ([imipproc.Processor.DeliverParsed]),
// from the message the tap parsed.
func IMIP(p *imipproc.Processor) InviteProcessor { return imipAdapter{p} }

type imipAdapter struct{ p *imipproc.Processor }

func (a imipAdapter) ProcessInvites(ctx context.Context, d *Delivery, owner string) error {
	_, err := a.p.DeliverParsed(ctx, owner, d.Parsed)
	return err
}

// ClusterIndexer returns an [Indexer] that adds each message's
// indicators ([cluster.Extract]) to x, keyed by Message-ID (a redelivery
// is not added twice). The message's copies are not known before the
// mail server stores them, so none are added: remediation finds them by
// Message-ID. An index opened with a log ([cluster.Open]) writes each
// message to it ([cluster.Index.Flush]) before Index returns.
func ClusterIndexer(x *cluster.Index) Indexer { return clusterAdapter{x} }

type clusterAdapter struct{ x *cluster.Index }

func (a clusterAdapter) Index(ctx context.Context, d *Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d.Parsed != nil {
		a.x.Add(cluster.Extract(d.Parsed))
	}
	return a.x.Flush(ctx)
}
