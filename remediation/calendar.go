package remediation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// maxInviteCache bounds the per-worker cache of invite series by
// Message-ID.
const maxInviteCache = 1024

// planInvites learns, before a purge, the invite series each copy
// carries: it fetches and parses the copy and reads the invites delivery
// applies (inviteSeries). Copies with the same Message-ID and size are read once per worker.
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
	w.ru.purged.add(refs)
	return refs, nil
}

// purgedSet holds the Message-IDs (normalized, lower-cased) that count as
// purged for one action's invite removal ([calendar.Series.Purged]): the
// messages with invites this action purges (its plans, added as they are
// made, so a batch may find a creator that a later batch of the same
// action purges only after it; see removeInvites), and those of earlier
// actions, read once.
type purgedSet struct {
	mu      sync.Mutex
	ids     map[string]bool
	earlier map[string]bool // nil until read
}

func (p *purgedSet) add(refs []SeriesRef) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range refs {
		if k := mailbox.NormalizeMessageID(r.MessageID); k != "" {
			if p.ids == nil {
				p.ids = map[string]bool{}
			}
			p.ids[k] = true
		}
	}
}

// purgedFunc returns the [calendar.Series.Purged] of the action: a message
// counts as purged when this action planned its invites for removal, or
// an earlier action did (earlierPurged).
func (ru *runner) purgedFunc() func(string) bool {
	return func(id string) bool {
		k := mailbox.NormalizeMessageID(id)
		if k == "" {
			return false
		}
		p := &ru.purged
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.ids[k] {
			return true
		}
		if p.earlier == nil {
			p.earlier = ru.earlierPurged()
		}
		return p.earlier[k]
	}
}

// earlierPurged returns the messages that actions known to the engine
// when it is first asked purged: the Message-IDs of the calendar
// decisions of every hard delete, and every action with RemoveInvites,
// that ran (this one too, before a resume) and is not undone. A message
// appears there once its invite removal ran for one owner; an earlier
// action's purge of a message whose removal found no entry at all leaves
// no decision, and is not counted (such a message created no entry then).
func (ru *runner) earlierPurged() map[string]bool {
	e := ru.e
	out := map[string]bool{}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.records {
		r := &st.r
		if r.UndoOf != "" || r.UndoneBy != "" || !r.Action.spec().purgesInvites && !r.RemoveInvites {
			continue
		}
		switch r.Status {
		case StatusRunning, StatusCompleted, StatusPartial, StatusFailed:
		default:
			continue
		}
		for _, d := range r.Calendar {
			if k := mailbox.NormalizeMessageID(d.MessageID); k != "" && d.Verdict != VerdictRestored && d.Verdict != VerdictApplied {
				out[k] = true
			}
		}
	}
	return out
}

// inviteSeries reads the invite series of a raw message: those of the
// invites delivery applies ([imipproc.MessageInvites], the same rule as
// delivery), as only those can have created or changed an entry. A plain
// .ics attachment, or a part whose method is not applied (PUBLISH, none),
// yields nothing; a part delivery could not read yields a ref by
// Message-ID alone.
func inviteSeries(raw []byte, msgID string) []SeriesRef {
	p, _ := mailbox.Parse(raw) // a malformed message still yields what was read
	if p == nil || len(p.Calendars) == 0 {
		return nil
	}
	if id := imipproc.InviteMessageID(p); id != "" {
		msgID = id // what delivery recorded as the entries' creator
	}
	var refs []SeriesRef
	for _, mi := range imipproc.MessageInvites(p) {
		if mi.Err != nil {
			refs = append(refs, SeriesRef{MessageID: msgID, Err: mi.Err.Error()})
			continue
		}
		if !mi.Applied() {
			continue
		}
		s := mi.Invite.Series(msgID)
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
		// Nothing can be checked: say so, one decision per series.
		var decs []CalendarDecision
		for _, ref := range plan.Plan {
			decs = append(decs, CalendarDecision{Owner: ref.Owner, MessageID: ref.MessageID, UID: ref.UID, Organizer: ref.Organizer,
				Verdict: VerdictNotChecked, Reason: "no-calendar-store",
				Detail: "no calendar store is configured: the calendar entries this invite may have created were not checked"})
		}
		w.addCalendar(&CalendarStep{RecordID: plan.RecordID, Seq: plan.Seq, Decisions: decs})
		if len(decs) > 0 {
			e.log.Warn("remediation: invite calendar entries not checked: no calendar store", "id", w.ru.r.ID,
				"mailbox", plan.Plan[0].Owner, "series", len(decs))
		}
		return nil
	}
	w.ru.purged.add(plan.Plan) // a resumed action's plans
	if w.ru.r.RemoveInvites {
		return w.removeInvitesJournaled(ctx, plan)
	}
	var decs []CalendarDecision
	for i, ref := range plan.Plan {
		decs = appendUnreadable(decs, ref)
		rep, err := calendar.RemoveInviteEntries(ctx, e.cal, ref.Owner, w.ru.series(ref))
		for _, d := range rep.Removed {
			decs = append(decs, decision(ref, d, VerdictRemoved))
		}
		for _, d := range rep.Reverted {
			decs = append(decs, decision(ref, d, VerdictReverted))
		}
		for _, d := range rep.Kept {
			decs = append(decs, decision(ref, d, VerdictKept))
		}
		if noCalendar(err) {
			decs = append(decs, noCalendarDecision(ref, err))
			err = nil
		}
		if err != nil {
			w.addCalendar(&CalendarStep{RecordID: plan.RecordID, Seq: plan.Seq, Plan: plan.Plan[i:], Decisions: decs})
			return fmt.Errorf("remediation: remove invite entries of %s: %w", ref.Owner, err)
		}
	}
	w.addCalendar(&CalendarStep{RecordID: plan.RecordID, Seq: plan.Seq, Decisions: decs})
	return nil
}

// series is the calendar.Series of ref, with the action's purged
// messages.
func (ru *runner) series(ref SeriesRef) calendar.Series {
	return calendar.Series{UID: ref.UID, Organizer: ref.Organizer, MessageID: ref.MessageID, Purged: ru.purgedFunc()}
}

// maxJournaledRounds bounds how often removeInvitesJournaled reads,
// journals and deletes again the entries of series that changed under
// its conditional deletes.
const maxJournaledRounds = 4

// removeInvitesJournaled is removeInvites for an action with
// RemoveInvites, which its undo reverses: the entries the rule would
// remove or revert are journaled, durably, before they are changed (a
// crash in between loses none), and each delete is conditional on the ETag
// of the version journaled (a revert checks it just before). An entry that changed in between (a newer invite; or
// an .ics the user imported over it, which the rule keeps) is read,
// decided, journaled and deleted again, so the journal holds what was
// removed. Each entry is decided once, whichever refs of the plan find it;
// each step journals the decisions made since the previous one and, until
// the last, the refs not finished yet.
func (w *worker) removeInvitesJournaled(ctx context.Context, plan *CalendarStep) error {
	e := w.ru.e
	var decs []CalendarDecision
	step := func(unfinished []SeriesRef, removed []RemovedEntry) {
		w.addCalendar(&CalendarStep{RecordID: plan.RecordID, Seq: plan.Seq, Plan: unfinished, Removed: removed, Decisions: decs})
		decs = nil
	}
	decided := map[[2]string]bool{} // calendar, entry id
	decide := func(ref SeriesRef, d calendar.Decision, verdict string) {
		k := [2]string{d.Entry.Calendar, d.Entry.ID}
		if !decided[k] {
			decided[k] = true
			decs = append(decs, decision(ref, d, verdict))
		}
	}
	type lookup struct {
		ref SeriesRef
		rep calendar.Report
	}
	pending := slices.Clone(plan.Plan)
	for round := 1; len(pending) > 0; round++ {
		var found []lookup
		var removed []RemovedEntry
		journaled := map[[2]string]bool{}
		var unfinished []SeriesRef // refs of this round not done yet
		for i, ref := range pending {
			rep, err := calendar.InviteEntries(ctx, e.cal, ref.Owner, w.ru.series(ref))
			if noCalendar(err) {
				decs = appendUnreadable(decs, ref)
				decs = append(decs, noCalendarDecision(ref, err))
				continue
			}
			if err != nil {
				for _, f := range found {
					unfinished = append(unfinished, f.ref)
				}
				step(append(unfinished, pending[i:]...), nil)
				return fmt.Errorf("remediation: find invite entries of %s: %w", ref.Owner, err)
			}
			found = append(found, lookup{ref, rep})
			for i, d := range slices.Concat(rep.Removed, rep.Reverted) {
				k := [2]string{d.Entry.Calendar, d.Entry.ID}
				if journaled[k] {
					continue
				}
				journaled[k] = true
				removed = append(removed, RemovedEntry{Owner: ref.Owner, Calendar: d.Entry.Calendar, UID: d.Entry.UID,
					Organizer: d.Entry.Organizer, Provenance: d.Entry.Provenance.Clone(), Raw: slices.Clone(d.Entry.Raw),
					Reverted: i >= len(rep.Removed)})
			}
		}
		if len(removed) > 0 {
			for _, f := range found {
				unfinished = append(unfinished, f.ref)
			}
			step(unfinished, removed)
			if err := w.flush(ctx); err != nil {
				return err
			}
		}
		var again, failed []SeriesRef
		var errs []error
		handled := map[[2]string]bool{} // deleted, or left to another ref, this round
		for _, f := range found {
			changed, bad := false, false
			for i, d := range slices.Concat(f.rep.Removed, f.rep.Reverted) {
				k := [2]string{d.Entry.Calendar, d.Entry.ID}
				if handled[k] {
					continue
				}
				handled[k] = true
				revert := i >= len(f.rep.Removed)
				var err error
				if revert {
					// Put back as it was before the purged update, if
					// it is still the version journaled.
					_, err = calendar.RevertInviteEntry(ctx, e.cal, f.ref.Owner, d.Entry)
					if errors.Is(err, calendar.ErrNotFound) {
						continue // gone meanwhile: nothing to put back
					}
				} else {
					err = e.cal.Delete(ctx, f.ref.Owner, d.Entry.Calendar, d.Entry.ID, d.Entry.ETag)
				}
				switch {
				case errors.Is(err, calendar.ErrChanged) && round < maxJournaledRounds:
					changed = true
				case err != nil:
					bad = true
					errs = append(errs, fmt.Errorf("remediation: remove %s/%s of %s: %w", d.Entry.Calendar, d.Entry.ID, f.ref.Owner, err))
				case revert:
					decide(f.ref, d, VerdictReverted)
				default:
					decide(f.ref, d, VerdictRemoved)
				}
			}
			switch {
			case bad:
				failed = append(failed, f.ref)
			case changed:
				again = append(again, f.ref) // decided again next round, kept entries too
			default:
				for _, d := range f.rep.Kept {
					decide(f.ref, d, VerdictKept)
				}
				decs = appendUnreadable(decs, f.ref)
			}
		}
		if err := errors.Join(errs...); err != nil {
			step(append(failed, again...), nil)
			return fmt.Errorf("remediation: remove invite entries: %w", err)
		}
		pending = again
	}
	step(nil, nil)
	return nil
}

// appendUnreadable records that ref's invite could not be read.
func appendUnreadable(decs []CalendarDecision, ref SeriesRef) []CalendarDecision {
	if ref.Err == "" {
		return decs
	}
	return append(decs, CalendarDecision{Owner: ref.Owner, MessageID: ref.MessageID, Verdict: VerdictError,
		Reason: "unreadable-invite", Detail: "the invite could not be read (" + ref.Err + "); entries were looked up by Message-ID only"})
}

// noCalendar reports whether err means ref's owner has no calendar to
// look in (or the ref names no series), which is recorded, not retried.
func noCalendar(err error) bool {
	return errors.Is(err, calendar.ErrNoOwner) || errors.Is(err, calendar.ErrEmptyQuery)
}

func noCalendarDecision(ref SeriesRef, err error) CalendarDecision {
	return CalendarDecision{Owner: ref.Owner, MessageID: ref.MessageID, UID: ref.UID, Organizer: ref.Organizer,
		Verdict: VerdictError, Reason: "no-calendar", Detail: err.Error()}
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
		mid := imipproc.InviteMessageID(p)
		for _, mi := range imipproc.MessageInvites(p) {
			if mi.Err != nil {
				decs = append(decs, CalendarDecision{Owner: owner, MessageID: it.msgID, Verdict: VerdictError, Reason: "unreadable-invite", Detail: mi.Err.Error()})
				continue
			}
			inv := mi.Invite
			res, err := calendar.ApplyInvite(ctx, e.cal, owner, inv, mid)
			d := CalendarDecision{Owner: owner, MessageID: mid, UID: inv.UID, Organizer: inv.Organizer,
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
		w.addCalendar(&CalendarStep{RecordID: w.ru.r.ID, Seq: seq, Decisions: decs})
	}
}

// restoreInvites, at the end of an undo, removes the entries the invites
// of an undone release created, and puts back the calendar entries the
// undone action removed (Request.RemoveInvites), each in the calendar
// it was in (the owner's default calendar when that one is gone) with its
// provenance, the newest version journaled of each. A calendar that holds
// an entry of the UID by then (a new invite arrived, the user made or
// imported one, or an interrupted run of this undo restored it already)
// is left as it is and the entry reported kept, so a resumed undo may run
// this again. An entry the action journaled but then kept (it changed
// under the delete into the user's) is not put back. An entry the action
// reverted gets the version it replaced back, when it is still the version
// the action reverted to (restoreReverted).
func (ru *runner) restoreInvites(ctx context.Context) error {
	e := ru.e
	if e.cal == nil || ru.r.UndoOf == "" {
		return nil
	}
	key := func(owner, cal, uid string) string {
		return owner + "\x00" + cal + "\x00" + uid
	}
	e.mu.Lock()
	orig := e.records[ru.r.UndoOf]
	wanted := orig != nil && orig.r.RemoveInvites
	var applied []CalendarDecision
	removedBy := map[string]bool{}  // entries the undone action removed
	revertedBy := map[string]bool{} // reverted
	keptBy := map[string]bool{}     // and kept
	if orig != nil {
		for _, d := range orig.r.Calendar {
			switch {
			case d.Verdict == VerdictApplied && d.UID != "":
				applied = append(applied, d)
			case d.Verdict == VerdictRemoved:
				removedBy[key(d.Owner, d.Calendar, d.UID)] = true
			case d.Verdict == VerdictReverted:
				revertedBy[key(d.Owner, d.Calendar, d.UID)] = true
			case d.Verdict == VerdictKept:
				keptBy[key(d.Owner, d.Calendar, d.UID)] = true
			}
		}
	}
	e.mu.Unlock()
	if len(applied) > 0 {
		// The undone release applied invites as a delivery would; the
		// copies are back in quarantine, which the owners never saw: the
		// entries those invites created go, by the hard-delete rule.
		if err := ru.removeApplied(ctx, applied); err != nil {
			return err
		}
	}
	if !wanted {
		return nil
	}
	var removed []RemovedEntry
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			return fmt.Errorf("remediation: read the entries %s removed: %w", ru.r.UndoOf, err)
		}
		if ent.Kind == EntryCalendar && ent.Calendar.RecordID == ru.r.UndoOf {
			removed = append(removed, ent.Calendar.Removed...)
		}
	}
	done := map[string]bool{}
	ru.mu.Lock()
	for _, d := range ru.r.Calendar {
		if d.Verdict == VerdictRestored || d.Verdict == VerdictKept {
			done[key(d.Owner, d.Calendar, d.UID)] = true
		}
	}
	ru.mu.Unlock()
	var decs []CalendarDecision
	var errs []error
	// Newest first: an entry journaled again after it changed under the
	// action's delete was removed in its later version.
	for _, rm := range slices.Backward(removed) {
		k := key(rm.Owner, rm.Calendar, rm.UID)
		if done[k] {
			continue
		}
		done[k] = true
		if rm.Reverted {
			if !revertedBy[k] {
				continue // journaled, then changed under the revert: not reverted
			}
			d, err := restoreReverted(ctx, e.cal, rm)
			decs = append(decs, d)
			if err != nil {
				errs = append(errs, fmt.Errorf("remediation: restore calendar entry %q of %s: %w", rm.UID, rm.Owner, err))
			}
			continue
		}
		if keptBy[k] && !removedBy[k] {
			// Journaled, then changed under the delete into an entry the
			// rule keeps (the user's import): the action removed nothing.
			continue
		}
		d, err := restoreEntry(ctx, e.cal, rm)
		decs = append(decs, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("remediation: restore calendar entry %q of %s: %w", rm.UID, rm.Owner, err))
		}
	}
	return ru.journalDecisions(ctx, decs, errs)
}

// journalDecisions journals the calendar decisions an undo made at its
// end and returns errs joined with a journal failure.
func (ru *runner) journalDecisions(ctx context.Context, decs []CalendarDecision, errs []error) error {
	w := ru.newWorker()
	if len(decs) > 0 {
		w.addCalendar(&CalendarStep{RecordID: ru.r.ID, Decisions: decs})
	}
	if err := w.flush(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeApplied removes the entries that the invites a release applied
// created, and journals the decisions. Entries already gone (a resumed
// undo) are not reported again.
func (ru *runner) removeApplied(ctx context.Context, applied []CalendarDecision) error {
	e := ru.e
	var decs []CalendarDecision
	var errs []error
	seen := map[string]bool{}
	for _, a := range applied {
		k := a.Owner + "\x00" + a.UID + "\x00" + a.MessageID
		if seen[k] {
			continue
		}
		seen[k] = true
		ref := SeriesRef{Owner: a.Owner, MessageID: a.MessageID, UID: a.UID, Organizer: a.Organizer}
		rep, err := calendar.RemoveInviteEntries(ctx, e.cal, a.Owner, calendar.Series{UID: a.UID, Organizer: a.Organizer, MessageID: a.MessageID})
		for _, d := range rep.Removed {
			decs = append(decs, decision(ref, d, VerdictRemoved))
		}
		for _, d := range rep.Reverted {
			decs = append(decs, decision(ref, d, VerdictReverted))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("remediation: remove entries of the invite %s released to %s: %w", a.MessageID, a.Owner, err))
		}
	}
	return ru.journalDecisions(ctx, decs, errs)
}

// restoreReverted undoes a revert: it puts the entry rm back over the
// version the action reverted it to, in its place, when the calendar still
// holds that version (the invite entry of rm's UID written by the previous
// version's message, not updated since). An entry gone or changed since
// (a later invite, the user's edit or removal) is left as it is and
// reported kept.
func restoreReverted(ctx context.Context, s calendar.Store, rm RemovedEntry) (CalendarDecision, error) {
	d := CalendarDecision{Owner: rm.Owner, MessageID: rm.Provenance.MessageID, UID: rm.UID, Organizer: rm.Organizer, Calendar: rm.Calendar}
	fail := func(err error) (CalendarDecision, error) {
		d.Verdict, d.Reason, d.Detail = VerdictError, "restore-failed", err.Error()
		return d, err
	}
	prev := rm.Provenance.Previous
	if prev == nil {
		return fail(fmt.Errorf("remediation: reverted entry %q journaled without its previous version", rm.UID))
	}
	existing, err := s.Find(ctx, rm.Owner, calendar.Query{UID: rm.UID})
	if err != nil {
		return fail(err)
	}
	var cur *calendar.Entry
	for i, x := range existing {
		if x.Calendar == rm.Calendar {
			cur = &existing[i]
		}
	}
	if cur == nil || cur.Provenance.Kind != calendar.ProvenanceInvite || cur.Provenance.Previous != nil ||
		!calendar.EqualMessageID(cur.Provenance.MessageID, prev.MessageID) ||
		!calendar.EqualMessageID(cur.Provenance.CreatedBy, rm.Provenance.CreatedBy) {
		d.Verdict, d.Reason = VerdictKept, "changed"
		d.Detail = "the entry is gone or changed since the undone action reverted it; left as it is"
		if cur != nil {
			d.EntryID = cur.ID
		}
		return d, nil
	}
	ent, err := calendar.DecodeEntry(rm.Raw)
	if err != nil {
		return fail(err)
	}
	ent.Calendar, ent.ID, ent.Provenance = cur.Calendar, cur.ID, rm.Provenance.Clone()
	stored, err := s.Put(ctx, rm.Owner, ent)
	if err != nil {
		return fail(err)
	}
	d.Verdict, d.Reason = VerdictRestored, "undo"
	d.Detail = "put back as it was when the undone action reverted it"
	d.EntryID = stored.ID
	if stored.Master != nil {
		d.Summary = stored.Master.Summary
	}
	return d, nil
}

// restoreEntry puts one removed entry back in its calendar (the owner's
// default calendar when that one is gone), unless that calendar holds an
// entry of its UID again: whatever that entry is (a newer invite, the
// user's own import, an earlier run of this undo), it is left as it is.
func restoreEntry(ctx context.Context, s calendar.Store, rm RemovedEntry) (CalendarDecision, error) {
	d := CalendarDecision{Owner: rm.Owner, MessageID: rm.Provenance.MessageID, UID: rm.UID, Organizer: rm.Organizer, Calendar: rm.Calendar}
	fail := func(reason string, err error) (CalendarDecision, error) {
		d.Verdict, d.Reason, d.Detail = VerdictError, reason, err.Error()
		return d, err
	}
	existing, err := s.Find(ctx, rm.Owner, calendar.Query{UID: rm.UID})
	if err != nil {
		return fail("restore-failed", err)
	}
	holds := func(cal string) bool {
		for _, x := range existing {
			if x.Calendar == cal {
				d.Verdict, d.Reason = VerdictKept, "exists"
				d.Detail = "the calendar holds an entry of this UID again (a later invite, the user's own, or an earlier run of this undo); left as it is"
				d.Calendar, d.EntryID = x.Calendar, x.ID
				return true
			}
		}
		return false
	}
	if holds(rm.Calendar) {
		return d, nil
	}
	ent, err := calendar.DecodeEntry(rm.Raw)
	if err != nil {
		return fail("restore-failed", err)
	}
	ent.Calendar, ent.Provenance, ent.ID = rm.Calendar, rm.Provenance, ""
	stored, err := s.Put(ctx, rm.Owner, ent)
	if errors.Is(err, calendar.ErrNotFound) {
		// The calendar is gone: the owner's default calendar.
		def, derr := calendar.DefaultCalendar(ctx, s, rm.Owner)
		if derr != nil {
			return fail("restore-failed", errors.Join(err, derr))
		}
		if holds(def) {
			return d, nil
		}
		ent.Calendar = def
		stored, err = s.Put(ctx, rm.Owner, ent)
	}
	if err != nil {
		return fail("restore-failed", err)
	}
	d.Verdict, d.Reason = VerdictRestored, "undo"
	d.Detail = "put back as it was when the undone action removed it"
	d.Calendar, d.EntryID = stored.Calendar, stored.ID
	if stored.Master != nil {
		d.Summary = stored.Master.Summary
	} else if len(stored.Overrides) > 0 {
		d.Summary = stored.Overrides[0].Summary
	}
	return d, nil
}
