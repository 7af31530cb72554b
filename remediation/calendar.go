package remediation

import (
	"context"
	"errors"
	"fmt"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// maxInviteCache bounds the per-worker cache of invite series by
// Message-ID.
const maxInviteCache = 1024

// planInvites learns, before a purge, the invite series each copy
// carries: it fetches and parses the copy and reads every text/calendar
// part. Copies with the same Message-ID and size are read once per worker.
// A copy already gone is left out; an unreadable invite gives a SeriesRef
// with Err set (removal then goes by Message-ID alone). A fetch failure
// stops the batch before anything is purged.
func (w *worker) planInvites(ctx context.Context, owner string, items []item) ([]SeriesRef, error) {
	e := w.ru.e
	var refs []SeriesRef
	for _, it := range items {
		key := it.msgID
		tmpl, ok := w.invites[key]
		if !ok || key == "" {
			raw, err := e.mail.Fetch(ctx, it.addr)
			if err != nil {
				if !retryable(err) {
					continue
				}
				return nil, fmt.Errorf("remediation: fetch %s to read its invites: %w", it.addr, err)
			}
			tmpl = inviteSeries(raw, it.msgID)
			if key != "" {
				if w.invites == nil || len(w.invites) >= maxInviteCache {
					w.invites = map[string][]SeriesRef{}
				}
				w.invites[key] = tmpl
			}
		}
		for _, r := range tmpl {
			r.Owner = owner
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// inviteSeries reads the invite series of a raw message.
func inviteSeries(raw []byte, msgID string) []SeriesRef {
	p, _ := mailbox.Parse(raw) // a malformed message still yields what was read
	if p == nil || len(p.Calendars) == 0 {
		return nil
	}
	if p.MessageID != "" {
		msgID = p.MessageID
	}
	var refs []SeriesRef
	for _, part := range p.Calendars {
		inv, err := calendar.ParseInvite(part.Raw, part.Method)
		if err != nil {
			refs = append(refs, SeriesRef{MessageID: msgID, Err: err.Error()})
			continue
		}
		s := inv.Series(msgID)
		dup := false
		for _, r := range refs {
			if r.UID == s.UID && r.Organizer == s.Organizer && r.Err == "" {
				dup = true
			}
		}
		if !dup {
			refs = append(refs, SeriesRef{MessageID: s.MessageID, UID: s.UID, Organizer: s.Organizer})
		}
	}
	return refs
}

// removeInvites applies the hard-delete rule for every series of a plan
// and journals the decisions. Refs done are journaled even when a later
// one fails; the rest stay planned for [Engine.Resume].
func (w *worker) removeInvites(ctx context.Context, plan *CalendarStep) error {
	e := w.ru.e
	if e.cal == nil {
		w.addCalendar(&CalendarStep{Action: plan.Action, Seq: plan.Seq})
		return nil
	}
	var decs []CalendarDecision
	for i, ref := range plan.Plan {
		if ref.Err != "" {
			decs = append(decs, CalendarDecision{Owner: ref.Owner, MessageID: ref.MessageID, Verdict: VerdictError,
				Reason: "unreadable-invite", Detail: "the invite could not be read (" + ref.Err + "); entries were looked up by Message-ID only"})
		}
		rep, err := calendar.RemoveInviteEntries(ctx, e.cal, ref.Owner, calendar.Series{UID: ref.UID, Organizer: ref.Organizer, MessageID: ref.MessageID})
		for _, d := range rep.Removed {
			decs = append(decs, decision(ref, d, VerdictRemoved))
		}
		for _, d := range rep.Kept {
			decs = append(decs, decision(ref, d, VerdictKept))
		}
		if err != nil && (errors.Is(err, calendar.ErrNoOwner) || errors.Is(err, calendar.ErrEmptyQuery)) {
			decs = append(decs, CalendarDecision{Owner: ref.Owner, MessageID: ref.MessageID, UID: ref.UID, Organizer: ref.Organizer,
				Verdict: VerdictError, Reason: "no-calendar", Detail: err.Error()})
			err = nil
		}
		if err != nil {
			w.addCalendar(&CalendarStep{Action: plan.Action, Seq: plan.Seq, Plan: plan.Plan[i:], Decisions: decs})
			return fmt.Errorf("remediation: remove invite entries of %s: %w", ref.Owner, err)
		}
	}
	w.addCalendar(&CalendarStep{Action: plan.Action, Seq: plan.Seq, Decisions: decs})
	return nil
}

func decision(ref SeriesRef, d calendar.Decision, verdict string) CalendarDecision {
	summary := ""
	if d.Entry.Master != nil {
		summary = d.Entry.Master.Summary
	} else if len(d.Entry.Overrides) > 0 {
		summary = d.Entry.Overrides[0].Summary
	}
	return CalendarDecision{
		Owner:     ref.Owner,
		MessageID: ref.MessageID,
		UID:       d.Entry.UID,
		Organizer: d.Entry.Organizer,
		Calendar:  d.Entry.Calendar,
		EntryID:   d.Entry.ID,
		Summary:   summary,
		Verdict:   verdict,
		Reason:    string(d.Reason),
		Detail:    d.Reason.Text(),
	}
}

// applyReleased processes the invites of copies that left quarantine for
// the inbox, as a fresh delivery would ([mailbox.Parsed.InviteParts], each
// UID once). Failures are recorded as error
// decisions; they do not fail the release.
func (w *worker) applyReleased(ctx context.Context, seq uint64, owner string, items []item, outs []Outcome) {
	e := w.ru.e
	var decs []CalendarDecision
	for i, it := range items {
		o := outs[i]
		if it.role != mailbox.RoleQuarantine || o.Kind != Succeeded || o.To.IsZero() {
			continue
		}
		raw, err := e.mail.Fetch(ctx, o.To)
		if err != nil {
			decs = append(decs, CalendarDecision{Owner: owner, MessageID: it.msgID, Verdict: VerdictError, Reason: "fetch-failed", Detail: err.Error()})
			continue
		}
		p, _ := mailbox.Parse(raw)
		if p == nil {
			continue
		}
		seen := map[string]bool{}
		for _, pi := range p.InviteParts() {
			part := p.Calendars[pi]
			inv, err := calendar.ParseInvite(part.Raw, part.Method)
			if err != nil {
				decs = append(decs, CalendarDecision{Owner: owner, MessageID: it.msgID, Verdict: VerdictError, Reason: "unreadable-invite", Detail: err.Error()})
				continue
			}
			if seen[inv.UID] {
				continue
			}
			seen[inv.UID] = true
			res, err := calendar.ApplyInvite(ctx, e.cal, owner, inv, p.MessageID)
			d := CalendarDecision{Owner: owner, MessageID: p.MessageID, UID: inv.UID, Organizer: inv.Organizer,
				Summary: inv.Summary, Verdict: VerdictApplied, Reason: string(res.Action), Detail: res.Reason}
			if len(res.Entries) > 0 {
				d.Calendar, d.EntryID = res.Entries[0].Calendar, res.Entries[0].ID
			}
			if err != nil {
				d.Verdict, d.Detail = VerdictError, err.Error()
			}
			decs = append(decs, d)
		}
	}
	if len(decs) > 0 {
		w.addCalendar(&CalendarStep{Action: w.ru.r.ID, Seq: seq, Decisions: decs})
	}
}
