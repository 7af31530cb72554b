package hunt

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// RecordAction feeds the index with what the action rec did: each outcome
// becomes an action annotation of its copy (the action's kind, record id,
// outcome and actor), and each copy the action moved or purged is
// relocated to where it went. Copies not found, failed or skipped keep
// their place in the index; the next crawl sees where they are. outs are
// the action's outcomes, as [remediation.Engine.Outcomes] streams them;
// RecordAction may be called again for the same action (after a resume)
// without recording anything twice.
//
// An action of a detection rule (rec.RuleName) also gives each message
// it selected a detection annotation named by the rule, and an action of
// automation on a cluster (rec.Cluster) a cluster annotation named by the
// cluster; both carry the record id and actor. The message of an outcome
// is found in the index by the copy's address and Message-ID: a copy the
// index does not hold, or of a message without a Message-ID, gets no
// detection or cluster annotation.
//
// [RecordActions] calls it for every action an engine runs
// ([remediation.Options.AfterAction]); an embedder that does not set it
// calls RecordAction after each action (Execute, Approve, Resume, Undo,
// and automation's), so that the entity view shows what was done and
// hunts see copies where they are now.
func RecordAction(ctx context.Context, s Store, rec *remediation.Record, outs iter.Seq2[remediation.Outcome, error]) error {
	at := rec.Finished
	if at.IsZero() {
		at = time.Now()
	}
	actor := rec.Actor
	if rec.DecidedBy != "" && rec.DecidedBy != rec.Actor {
		actor = rec.Actor + " (decided by " + rec.DecidedBy + ")"
	}
	// The annotations a message (not a copy) gets from this action.
	var about []Annotation
	if rec.RuleName != "" {
		about = append(about, Annotation{Kind: AnnotateDetection, Name: rec.RuleName, Record: rec.ID, Actor: rec.Actor, At: at})
	}
	if rec.Cluster != "" {
		about = append(about, Annotation{Kind: AnnotateCluster, Name: rec.Cluster, Record: rec.ID, Actor: rec.Actor, At: at})
	}
	const batch = 500
	var outs1 []remediation.Outcome // the batch
	annotated := map[string]bool{}  // network ids given the message annotations
	flush := func() error {
		ids, err := networkIDs(ctx, s, outs1)
		if err != nil {
			return err
		}
		var as []Annotation
		var rs []Relocation
		for _, o := range outs1 {
			id := ids[normAddress(o.Copy)]
			as = append(as, Annotation{Kind: AnnotateAction, NetworkID: id, Address: o.Copy, Name: string(rec.Action), Record: rec.ID,
				Outcome: o.Kind.String(), Actor: actor, At: at})
			if id != "" && !annotated[id] {
				annotated[id] = true
				for _, a := range about {
					a.NetworkID = id
					as = append(as, a)
				}
			}
			if o.Kind == remediation.Succeeded || o.Kind == remediation.AlreadyInDestination {
				if o.To != o.Copy {
					rs = append(rs, Relocation{From: o.Copy, To: o.To, At: at}) // a zero To: purged
				}
			}
		}
		outs1 = outs1[:0]
		// Annotations first: they name copies by the address they had
		// before the action.
		if err := s.Annotate(ctx, as); err != nil {
			return err
		}
		return s.Relocate(ctx, rs)
	}
	for o, err := range outs {
		if err != nil {
			return fmt.Errorf("hunt: outcomes of %s: %w", rec.ID, err)
		}
		outs1 = append(outs1, o)
		if len(outs1) >= batch {
			if err := flush(); err != nil {
				return fmt.Errorf("hunt: record %s: %w", rec.ID, err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("hunt: record %s: %w", rec.ID, err)
	}
	return nil
}

// normAddress returns a with its mailbox in the index's form.
func normAddress(a mailbox.Address) mailbox.Address {
	a.Mailbox = normMailbox(a.Mailbox)
	return a
}

// networkIDs returns the network ids of the messages of the outcomes
// outs, by the copy's address before the action (normAddress). A
// message is found in the index by the Message-ID of the outcome: the
// copy the index holds at the address before the action (or after it,
// for an action recorded again), else a pending copy ([Copy.Pending]) in
// the same mailbox. Outcomes without a Message-ID are not looked up.
func networkIDs(ctx context.Context, s Reader, outs []remediation.Outcome) (map[mailbox.Address]string, error) {
	type key struct{ mailbox, messageID string }
	byAddr := map[mailbox.Address]mailbox.Address{} // address before or after -> before
	want := map[key][]mailbox.Address{}
	var msgIDs, mbs []string
	seenID, seenMB := map[string]bool{}, map[string]bool{}
	for _, o := range outs {
		id := mailbox.NormalizeMessageID(o.MessageID)
		if id == "" {
			continue
		}
		from := normAddress(o.Copy)
		byAddr[from] = from
		if !o.To.IsZero() {
			byAddr[normAddress(o.To)] = from
		}
		k := key{from.Mailbox, id}
		want[k] = append(want[k], from)
		if !seenID[id] {
			seenID[id] = true
			msgIDs = append(msgIDs, id)
		}
		if !seenMB[from.Mailbox] {
			seenMB[from.Mailbox] = true
			mbs = append(mbs, from.Mailbox)
		}
	}
	out := map[mailbox.Address]string{}
	if len(msgIDs) == 0 {
		return out, nil
	}
	q := Query{Criteria: &mailbox.Criteria{MessageIDs: msgIDs}}
	if len(mbs) <= 100 {
		q.Mailboxes = mbs
	}
	pending := map[key]string{}
	for cp, err := range s.Copies(ctx, q) {
		if err != nil {
			return nil, err
		}
		if cp.Pending() {
			pending[key{normMailbox(cp.Mailbox), mailbox.NormalizeMessageID(cp.Message.MessageID)}] = cp.Message.NetworkID
			continue
		}
		if from, ok := byAddr[normAddress(cp.Address)]; ok {
			out[from] = cp.Message.NetworkID
		}
	}
	for k, id := range pending {
		for _, a := range want[k] {
			if out[a] == "" {
				out[a] = id
			}
		}
	}
	return out, nil
}

// RecordActions returns an [remediation.Options.AfterAction] callback
// that records every action the engine runs in s with [RecordAction]:
// the index then follows the engine's outcomes, detections and clusters
// without the embedder calling RecordAction. Each call is bounded by
// timeout (0 means one minute); an error is the engine's to log.
func RecordActions(s Store, timeout time.Duration) func(context.Context, *remediation.Record, iter.Seq2[remediation.Outcome, error]) error {
	if timeout <= 0 {
		timeout = time.Minute
	}
	return func(ctx context.Context, rec *remediation.Record, outs iter.Seq2[remediation.Outcome, error]) error {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return RecordAction(ctx, s, rec, outs)
	}
}

var _ remediation.Locator = (*Narrower)(nil)
