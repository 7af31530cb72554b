package remediation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Resume finishes every action that did not run to its end: actions a
// crash or restart interrupted (queued or running in the journal) and
// actions that ended Incomplete because of backend failures. For each it
// skips mailboxes the journal marks done, reconciles the batches that were
// in flight (intent journaled, outcomes not): a copy still at its source is
// acted on, a copy found at the destination is recorded as succeeded at its
// new address, never moved twice; then it retries the copies that failed
// and finishes the remaining mailboxes. It returns the finished records
// and an error joining the failures of those that still did not complete.
// Actions running in this process are left alone.
func (e *Engine) Resume(ctx context.Context) ([]*Record, error) {
	leased, err := e.leaseResumable(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	var ids []string
	for id, s := range e.records {
		if s.running || (e.leaser != nil && !leased[id]) {
			continue
		}
		if resumable(&s.r) {
			ids = append(ids, id)
			s.running = true // claim
			delete(leased, id)
		}
	}
	e.mu.Unlock()
	for id := range leased {
		e.release(actionLease(id)) // finished meanwhile
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	release := func(from int) {
		e.mu.Lock()
		for _, id := range ids[from:] {
			e.records[id].running = false
		}
		e.stopped()
		e.mu.Unlock()
		for _, id := range ids[from:] {
			e.release(actionLease(id))
		}
	}
	infos, err := e.resumeInfo(ctx, ids)
	if err != nil {
		release(0)
		return nil, err
	}
	var out []*Record
	var errs []error
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			release(i)
			return out, errors.Join(append(errs, err)...)
		}
		e.mu.Lock()
		st := e.records[id]
		r := st.r.clone()
		e.mu.Unlock()
		// Every record is checked before it runs again, as a fresh one
		// is: one written by an earlier version with looser rules, or
		// by another Journal, must not act beyond them.
		var total int64
		var err error
		if !r.Expires.IsZero() {
			// Approved from a proposal: by someone the four-eyes rule
			// allows (a record of an earlier version may say otherwise).
			err = e.fourEyesCheck(ctx, r, r.DecidedBy)
		}
		switch {
		case err != nil:
		case r.Status == StatusQueued && r.Started.IsZero():
			// Queued but never started (an approval interrupted before
			// its checks ran): check the blast radius and the release
			// recipients now, as Approve would have.
			total, _, err = e.precheck(ctx, r)
		default:
			if _, err = e.recheck(ctx, r, infos[id]); err == nil {
				total = -1 // what is left is not known
			}
		}
		if err != nil {
			if retryable(err) && !errors.Is(err, ErrNeedsConfirmation) && !errors.Is(err, ErrNotRecipient) &&
				!errors.Is(err, ErrAlreadyReleased) && !errors.Is(err, ErrInvalidRequest) && !errors.Is(err, ErrFourEyes) {
				release(i)
				return out, errors.Join(append(errs, err)...)
			}
			// Refused: the action ends here, with what it did so far.
			r.Status, r.Finished, r.Error, r.Incomplete = StatusFailed, e.now(), err.Error(), false
			if c := r.Counts; c.Succeeded+c.AlreadyInDestination > 0 {
				r.Status = StatusPartial
			}
			serr := e.save(context.WithoutCancel(ctx), r)
			e.mu.Lock()
			if serr == nil {
				st.r = *r.clone()
			}
			st.running = false
			e.stopped()
			e.mu.Unlock()
			e.release(actionLease(id))
			out = append(out, r)
			e.log.Warn("remediation: resumed action refused", "id", id, "err", err)
			errs = append(errs, fmt.Errorf("remediation: resume %s: %w", id, errors.Join(err, serr)))
			continue
		}
		r.Status = StatusRunning
		r.Incomplete = false
		r.Error = ""
		if r.Started.IsZero() {
			r.Started = e.now()
		}
		r.Finished = time.Time{}
		if err := e.save(ctx, r); err != nil {
			release(i)
			return out, errors.Join(append(errs, err)...)
		}
		e.log.Info("remediation: resuming action", "id", id, "action", r.Action)
		rec, err := e.run(ctx, st, r, infos[id], total, nil)
		out = append(out, rec)
		if err != nil {
			errs = append(errs, fmt.Errorf("remediation: resume %s: %w", id, err))
		}
	}
	return out, errors.Join(errs...)
}

// recheck checks a started action before [Engine.Resume] runs it again:
// its criteria, and its blast-radius limit counting the copies it acted on
// already (see [doneCount]) with those still selected in the mailboxes it
// did not finish. It returns the copies counted, or -1 when it did not
// count.
func (e *Engine) recheck(ctx context.Context, r *Record, ri *resumeInfo) (int64, error) {
	if r.Action == Undo {
		return -1, nil // it reverses only what its action was allowed to do
	}
	if c := r.Selection.Criteria; c != nil {
		if err := c.ValidateSelection(); err != nil {
			return -1, fmt.Errorf("%w: selection refused: %w", ErrInvalidRequest, err)
		}
	}
	limit := e.limit(r)
	if limit < 0 {
		return -1, nil
	}
	if len(r.Selection.Copies) > 0 {
		n := int64(len(r.Selection.Copies))
		if n > limit {
			return -1, fmt.Errorf("%w: %d copies selected, limit %d", ErrNeedsConfirmation, n, limit)
		}
		return n, nil
	}
	if r.Selection.Criteria == nil {
		return -1, fmt.Errorf("%w: the record selects nothing", ErrInvalidRequest)
	}
	n := doneCount(r)
	if n > limit {
		return -1, fmt.Errorf("%w: %d copies acted on already, limit %d", ErrNeedsConfirmation, n, limit)
	}
	mbs, err := e.mailboxes(ctx, r)
	if err != nil {
		return -1, err
	}
	c := effective(r.Action, r.Selection.Criteria)
	for _, l := range mbs {
		mb := l.Mailbox
		if ri != nil && ri.done[mb] {
			continue
		}
		res := ri.mb(mb)
		for m, err := range e.search(ctx, mb, c, l.Copies) {
			if err != nil {
				if errors.Is(err, mailbox.ErrNoMailbox) {
					break
				}
				return -1, fmt.Errorf("remediation: search %s: %w", mb, err)
			}
			if res != nil && res.handled[m.Address] {
				continue
			}
			if n++; n > limit {
				return -1, fmt.Errorf("%w: more than %d copies selected, counting those acted on already", ErrNeedsConfirmation, limit)
			}
		}
	}
	return n, nil
}

// doneCount is the number of copies an action sent to the backend so far
// by its outcomes: those it moved or purged, those already at the
// destination and those gone. The blast-radius limit of a resumed action
// counts them.
func doneCount(r *Record) int64 {
	return r.Counts.Succeeded + r.Counts.AlreadyInDestination + r.Counts.NotFound
}

// resumeInfo replays the journal for the actions ids.
func (e *Engine) resumeInfo(ctx context.Context, ids []string) (map[string]*resumeInfo, error) {
	infos := make(map[string]*resumeInfo, len(ids))
	for _, id := range ids {
		infos[id] = &resumeInfo{
			done:     map[string]bool{},
			mbs:      map[string]*mbResume{},
			inflight: map[uint64]*Intent{},
			plans:    map[uint64]*CalendarStep{},
		}
	}
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			return nil, fmt.Errorf("remediation: replay journal: %w", err)
		}
		switch ent.Kind {
		case EntryIntent:
			if ri := infos[ent.Intent.RecordID]; ri != nil {
				ri.inflight[ent.Intent.Seq] = ent.Intent
			}
		case EntryOutcomes:
			ob := ent.Outcomes
			ri := infos[ob.RecordID]
			if ri == nil {
				continue
			}
			delete(ri.inflight, ob.Seq)
			if ob.Done {
				ri.done[ob.Mailbox] = true
				delete(ri.mbs, ob.Mailbox)
				continue
			}
			if ri.done[ob.Mailbox] {
				continue
			}
			mr := ri.mbs[ob.Mailbox]
			if mr == nil {
				mr = &mbResume{handled: map[mailbox.Address]bool{}, failed: map[mailbox.Address]bool{}}
				ri.mbs[ob.Mailbox] = mr
			}
			for _, o := range ob.Items {
				if o.Kind == Failed {
					mr.failed[o.Copy] = true
					continue
				}
				delete(mr.failed, o.Copy)
				mr.handled[o.Copy] = true
				if !o.To.IsZero() {
					mr.handled[o.To] = true
				}
			}
		case EntryCalendar:
			cs := ent.Calendar
			ri := infos[cs.RecordID]
			if ri == nil {
				continue
			}
			if len(cs.Plan) > 0 {
				ri.plans[cs.Seq] = cs
			} else {
				delete(ri.plans, cs.Seq)
			}
		}
	}
	// A failed copy that then went to a done mailbox needs nothing; the
	// failed sets of unfinished mailboxes drive the retries.
	return infos, nil
}

// reconcile settles an intent that has no outcomes: each copy is looked
// for by its Message-ID in its mailbox. A copy still at its source is acted
// on now (in a new batch); one at the destination is recorded as
// succeeded there; one gone from a purge is recorded as purged; anything
// else is not found.
func (w *worker) reconcile(ctx context.Context, in *Intent) error {
	ru := w.ru
	res := ru.ri.mbs[in.Mailbox]
	if res == nil {
		res = &mbResume{handled: map[mailbox.Address]bool{}, failed: map[mailbox.Address]bool{}}
		ru.ri.mbs[in.Mailbox] = res
	}
	m := &mbRun{mailbox: in.Mailbox, res: res, markHandled: true}
	var ids []string
	for _, c := range in.Copies {
		if c.MessageID != "" && !slices.Contains(ids, c.MessageID) {
			ids = append(ids, c.MessageID)
		}
	}
	var hits []mailbox.Message
	if len(ids) > 0 {
		for msg, err := range ru.e.mail.Search(ctx, in.Mailbox, mailbox.Criteria{MessageIDs: ids}) {
			if err != nil {
				if errors.Is(err, mailbox.ErrNoMailbox) {
					break
				}
				return fmt.Errorf("remediation: reconcile %s: %w", in.Mailbox, err)
			}
			hits = append(hits, msg)
		}
	}
	purge := in.To.Role == mailbox.RoleNone && in.To.Folder == ""
	claimed := map[mailbox.Address]bool{}
	var redo []item
	var outs []Outcome
	var rel []item // copies found in the inbox whose invites a release applies
	var relOuts []Outcome
	for _, c := range in.Copies {
		src := mailbox.Address{Mailbox: in.Mailbox, Folder: c.Folder, UIDValidity: c.UIDValidity, UID: c.UID}
		retry := m.isRetry(src)
		if m.res != nil && m.res.handled[src] {
			continue
		}
		atSource := false
		var atDest *mailbox.Message
		if c.MessageID == "" {
			// No Message-ID to search by: look at the source address.
			_, err := ru.e.mail.Fetch(ctx, src)
			switch {
			case err == nil:
				atSource = true
			case errors.Is(err, mailbox.ErrNotFound), errors.Is(err, mailbox.ErrNoFolder), errors.Is(err, mailbox.ErrNoMailbox),
				errors.Is(err, mailbox.ErrUIDValidity):
			default:
				return fmt.Errorf("remediation: reconcile %s: %w", src, err)
			}
		}
		for i := range hits {
			h := &hits[i]
			if h.Address == src {
				atSource = true
				break
			}
			// Of several copies at the destination, the newest (highest
			// UID) is the one the interrupted move made: an older one was
			// there before the action.
			if !purge && !claimed[h.Address] && !m.seen(h.Address) &&
				mailbox.NormalizeMessageID(h.MessageID) == mailbox.NormalizeMessageID(c.MessageID) &&
				((in.To.Role != mailbox.RoleNone && h.Role == in.To.Role) || (in.To.Folder != "" && h.Address.Folder == in.To.Folder)) &&
				(atDest == nil || h.Address.UID > atDest.Address.UID) {
				atDest = h
			}
		}
		switch {
		case atSource:
			role := c.Role
			if role == "" && ru.r.Action.spec().heldOnly {
				role = mailbox.RoleQuarantine // a release selects quarantined copies only (heldOnly)
			}
			redo = append(redo, item{addr: src, msgID: c.MessageID, role: role, retry: retry})
		case atDest != nil:
			claimed[atDest.Address] = true
			o := Outcome{Copy: src, To: atDest.Address, MessageID: c.MessageID, Kind: Succeeded, Detail: "found at the destination after an interruption", Retry: retry}
			outs = append(outs, o)
			if sp := ru.r.Action.spec(); sp.releases && (sp.heldOnly || c.Role == mailbox.RoleQuarantine) {
				rel = append(rel, item{addr: src, msgID: c.MessageID, role: mailbox.RoleQuarantine})
				relOuts = append(relOuts, o)
			}
		case c.MessageID == "":
			outs = append(outs, Outcome{Copy: src, Kind: NotFound, Retry: retry,
				Detail: "gone from its address after an interruption; without a Message-ID where it went cannot be told"})
		case purge && elsewhere(hits, src, c.MessageID):
			// Another copy of the message is in the mailbox: this one
			// may have been moved there (by another engine's action,
			// while this one's batch was interrupted) rather than
			// purged. The search that finishes the mailbox finds it.
			outs = append(outs, Outcome{Copy: src, MessageID: c.MessageID, Kind: NotFound, Detail: "gone from its address after an interruption; a copy of it is elsewhere in the mailbox", Retry: retry})
		case purge:
			outs = append(outs, Outcome{Copy: src, MessageID: c.MessageID, Kind: Succeeded, Detail: "purged before an interruption", Retry: retry})
		default:
			outs = append(outs, Outcome{Copy: src, MessageID: c.MessageID, Kind: NotFound, Detail: "moved or deleted since selection", Retry: retry})
		}
	}
	// The outcomes close the old intent (even when empty).
	w.addOutcomes(&OutcomeBatch{RecordID: ru.r.ID, Seq: in.Seq, Mailbox: in.Mailbox, Items: outs})
	if len(rel) > 0 && ru.e.cal != nil {
		// A copy released (or moved to the inbox) out of quarantine and
		// found in the inbox may have arrived just before the
		// interruption, its invite not yet applied: apply it now. Applying
		// it twice changes nothing (an equal SEQUENCE updates the entry
		// with the same content).
		w.applyReleased(ctx, in.Seq, in.Mailbox, rel, relOuts)
	}
	for _, o := range outs {
		if m.res != nil {
			m.res.handled[o.Copy] = true
			if !o.To.IsZero() {
				m.res.handled[o.To] = true
			}
		}
	}
	if len(redo) == 0 {
		return nil
	}
	// The new batch marks its copies handled as it records their
	// outcomes (execute), before a calendar step may flush them.
	return w.batch(ctx, m, in.To, redo, false)
}

// elsewhere reports whether hits hold a copy of the message id at an
// address other than src.
func elsewhere(hits []mailbox.Message, src mailbox.Address, id string) bool {
	for _, h := range hits {
		if h.Address != src && mailbox.NormalizeMessageID(h.MessageID) == mailbox.NormalizeMessageID(id) {
			return true
		}
	}
	return false
}
