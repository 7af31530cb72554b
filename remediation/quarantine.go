package remediation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Held is one message held in quarantine: every quarantined copy with the
// same Message-ID.
type Held struct {
	// MessageID is the Message-ID without angle brackets, as the first
	// copy found reports it; "" for a message without one, each copy of
	// which is then a Held of its own.
	MessageID string
	// Subject is the decoded subject of the first copy found.
	Subject string
	// From is the header From address of the first copy found.
	From string
	// Date is the date of the first copy found: its Date header, or its
	// internal date when the header is missing or unreadable.
	// [Engine.Held] sorts by it.
	Date time.Time
	// Recipients are the owners of the mailboxes holding a quarantined
	// copy, sorted.
	Recipients []string
	// Copies are the addresses of every quarantined copy, in the order of
	// the mailboxes and then of the search.
	Copies []mailbox.Address
	// Reasons say why the message is held: the [Quarantine] actions, not
	// undone, that moved a copy of it to quarantine or found it there
	// (the delivery tap's records), oldest first, one per action. Empty
	// for copies that reached quarantine otherwise (a filter of the mail
	// server, a move outside the engine), and once [Engine.Compact] has
	// removed the action's record.
	Reasons []HeldReason
}

// HeldReason is one [Quarantine] action behind a [Held] message, from its
// record.
type HeldReason struct {
	// RecordID is the ID of the action's record; [Engine.Undo] of it
	// puts the copies back where they came from.
	RecordID string
	// Name and Description are the record's.
	Name, Description string
	// Source is where the action came from, e.g. [SourceDetectionRule].
	Source Source
	// RuleName names the detection rule of a rule's action.
	RuleName string
	// Actor asked for the action; DecidedBy decided it.
	Actor, DecidedBy string
	// When is when the action started.
	When time.Time
	// Copies are the held copies this action accounts for.
	Copies []mailbox.Address
}

// Held lists the messages held in quarantine across every mailbox (the
// admin's view), grouped by Message-ID and sorted by date, each with the
// [Quarantine] actions that hold it ([Held.Reasons]). c, when not nil,
// narrows the list further.
func (e *Engine) Held(ctx context.Context, c *mailbox.Criteria) ([]Held, error) {
	mbs, err := e.mail.Mailboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("remediation: list mailboxes: %w", err)
	}
	by := map[string]*Held{}
	for _, mb := range mbs {
		// The owner as recipient selects every copy of the mailbox; the
		// role keeps it to quarantine.
		q := mailbox.Criteria{Recipients: []string{mb}, Roles: []mailbox.Role{mailbox.RoleQuarantine}}
		if c != nil {
			q.And = []mailbox.Criteria{*c}
		}
		for m, err := range e.mail.Search(ctx, mb, q) {
			if err != nil {
				return nil, fmt.Errorf("remediation: search quarantine of %s: %w", mb, err)
			}
			key := mailbox.NormalizeMessageID(m.MessageID)
			if key == "" {
				key = m.Address.String()
			}
			h := by[key]
			if h == nil {
				h = &Held{MessageID: m.MessageID, Subject: m.Subject, From: m.From, Date: m.Date}
				by[key] = h
			}
			if !slices.Contains(h.Recipients, m.Address.Mailbox) {
				h.Recipients = append(h.Recipients, m.Address.Mailbox)
			}
			h.Copies = append(h.Copies, m.Address)
		}
	}
	if len(by) > 0 {
		if err := e.heldReasons(ctx, by); err != nil {
			return nil, err
		}
	}
	out := make([]Held, 0, len(by))
	for _, h := range by {
		slices.Sort(h.Recipients)
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Held) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.MessageID, b.MessageID))
	})
	return out, nil
}

// heldReasons fills the Reasons of the held messages from the
// [Quarantine] actions of the action center, reading the journal once
// when there are any.
func (e *Engine) heldReasons(ctx context.Context, by map[string]*Held) error {
	recs := map[string]*Record{}
	for r, err := range e.Query(ctx, Filter{Actions: []Action{Quarantine}}) {
		if err != nil {
			return err
		}
		if r.UndoneBy == "" {
			recs[r.ID] = r
		}
	}
	if len(recs) == 0 {
		return nil
	}
	// Where each quarantined copy is now, by the action that put (or
	// found) it there.
	held := map[mailbox.Address]string{}
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			return err
		}
		if ent.Kind != EntryOutcomes || recs[ent.Outcomes.RecordID] == nil {
			continue
		}
		for _, o := range ent.Outcomes.Items {
			switch o.Kind {
			case Succeeded:
				held[o.To] = ent.Outcomes.RecordID
			case AlreadyInDestination:
				if _, ok := held[o.Copy]; !ok {
					held[o.Copy] = ent.Outcomes.RecordID
				}
			}
		}
	}
	for _, h := range by {
		for _, c := range h.Copies {
			id, ok := held[c]
			if !ok {
				continue
			}
			i := slices.IndexFunc(h.Reasons, func(r HeldReason) bool { return r.RecordID == id })
			if i < 0 {
				r := recs[id]
				h.Reasons = append(h.Reasons, HeldReason{RecordID: r.ID, Name: r.Name, Description: r.Description,
					Source: r.Source, RuleName: r.RuleName, Actor: r.Actor, DecidedBy: r.DecidedBy, When: cmp.Or(r.Started, r.Created)})
				i = len(h.Reasons) - 1
			}
			h.Reasons[i].Copies = append(h.Reasons[i].Copies, c)
		}
		slices.SortFunc(h.Reasons, func(a, b HeldReason) int {
			return cmp.Or(a.When.Compare(b.When), strings.Compare(a.RecordID, b.RecordID))
		})
	}
	return nil
}

// ReleaseEvent is one release from quarantine, from the action center:
// who released which message to whom.
type ReleaseEvent struct {
	// RecordID is the ID of the release's record.
	RecordID string
	// When is when the release finished, or when it started while it has
	// not finished.
	When time.Time
	// Actor is who asked for the release.
	Actor string
	// DecidedBy is who decided it: the approver of a proposal, else the
	// Actor.
	DecidedBy string
	// Status is the release's status when the history was read; a
	// partially completed release released only some copies.
	Status Status
	// MessageID is the released message's Message-ID as its first
	// released copy's outcome recorded it; copies whose Message-IDs differ
	// only in angle brackets or case are one event. "" gathers the
	// released copies without one.
	MessageID string
	// Recipients are the mailboxes the message was released to, sorted.
	Recipients []string
}

// ReleaseHistory lists the [Release] actions of the action center, oldest
// first, one event per action and released Message-ID (Message-IDs that
// differ only in angle brackets or case are one). It reads the journal
// once. (A [MoveToInbox] out of quarantine is in the action center but
// not in this list.)
func (e *Engine) ReleaseHistory(ctx context.Context) ([]ReleaseEvent, error) {
	type release struct {
		r     *Record
		by    map[string]*ReleaseEvent // by normalized Message-ID
		order []string
	}
	rels := map[string]*release{}
	var ids []string
	for r, err := range e.Query(ctx, Filter{Actions: []Action{Release}}) {
		if err != nil {
			return nil, err
		}
		rels[r.ID] = &release{r: r, by: map[string]*ReleaseEvent{}}
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			return nil, err
		}
		if ent.Kind != EntryOutcomes {
			continue
		}
		rel := rels[ent.Outcomes.RecordID]
		if rel == nil {
			continue
		}
		r := rel.r
		for _, o := range ent.Outcomes.Items {
			if o.Kind != Succeeded {
				continue
			}
			key := mailbox.NormalizeMessageID(o.MessageID)
			ev := rel.by[key]
			if ev == nil {
				ev = &ReleaseEvent{RecordID: r.ID, When: cmp.Or(r.Finished, r.Started), Actor: r.Actor, DecidedBy: r.DecidedBy, Status: r.Status, MessageID: o.MessageID}
				rel.by[key] = ev
				rel.order = append(rel.order, key)
			}
			if !slices.Contains(ev.Recipients, o.Copy.Mailbox) {
				ev.Recipients = append(ev.Recipients, o.Copy.Mailbox)
			}
		}
	}
	var out []ReleaseEvent
	for _, id := range ids {
		rel := rels[id]
		for _, key := range rel.order {
			slices.Sort(rel.by[key].Recipients)
			out = append(out, *rel.by[key])
		}
	}
	return out, nil
}
