package hunt

import (
	"context"
	"fmt"
	"iter"
	"time"

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
// Call it after each action the engine ran (Execute, Approve, Resume,
// Undo, and automation's), so that the entity view shows what was done and
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
	const batch = 500
	var as []Annotation
	var rs []Relocation
	flush := func() error {
		// Annotations first: they name copies by the address they had
		// before the action.
		if err := s.Annotate(ctx, as); err != nil {
			return err
		}
		if err := s.Relocate(ctx, rs); err != nil {
			return err
		}
		as, rs = as[:0], rs[:0]
		return nil
	}
	for o, err := range outs {
		if err != nil {
			return fmt.Errorf("hunt: outcomes of %s: %w", rec.ID, err)
		}
		as = append(as, Annotation{Kind: AnnotateAction, Address: o.Copy, Name: string(rec.Action), Record: rec.ID,
			Outcome: o.Kind.String(), Actor: actor, At: at})
		if o.Kind == remediation.Succeeded || o.Kind == remediation.AlreadyInDestination {
			if o.To != o.Copy {
				rs = append(rs, Relocation{From: o.Copy, To: o.To, At: at}) // a zero To: purged
			}
		}
		if len(as) >= batch {
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

var _ remediation.Narrower = (*Narrower)(nil)
