package remediation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// Rewriter is a [Journal] that can rewrite itself keeping only some of its
// entries. [Engine.Compact] needs one. Both journals of package
// [github.com/eradicate-dev/eradicate/remediation/journal] are Rewriters.
type Rewriter interface {
	// Rewrite replaces the journal's entries with those keep returns true
	// for, in their order, and returns the journal's size in bytes before
	// and after. It is atomic: after a crash the journal holds either all
	// the old entries or exactly the kept ones. Appends wait until it
	// returns; a Replay under way goes on reading the old entries. On an
	// error the journal is left as it was, unless the error says the
	// journal is no longer usable.
	Rewrite(ctx context.Context, keep func(*Entry) bool) (before, after int64, err error)
}

// ErrNotRewritable means the journal cannot be compacted: it does not
// implement [Rewriter].
var ErrNotRewritable = errors.New("remediation: journal cannot be rewritten")

// CompactStats is what [Engine.Compact] did.
type CompactStats struct {
	// Removed is the number of records removed: those that finished
	// before the cutoff.
	Removed int
	// Kept is the number of records kept.
	Kept int
	// Before is the journal's size in bytes before the compaction.
	Before int64
	// After is the journal's size in bytes after it.
	After int64
}

// Compact rewrites the journal without what the action center no longer
// needs, and returns what it did:
//
//   - the records that finished before `before` (completed, partially
//     completed, failed, declined, cancelled or expired, and not
//     incomplete), with all their entries: the retention of the action
//     center's history. The zero time removes none. A removed action can
//     no longer be read, listed or undone.
//   - for every other finished record, its superseded snapshots, its
//     intents and its calendar steps: only an unfinished action reads
//     them, to resume. Its last snapshot, its outcomes and the calendar
//     entries it removed with RemoveInvites stay, so [Engine.Get],
//     [Engine.Query], [Engine.Outcomes] and [Engine.Undo] answer as
//     before.
//
// Records not finished (pending approval, queued, running, incomplete)
// are kept whole, whatever their age. The journal must implement
// [Rewriter] (ErrNotRewritable otherwise); Appends of actions running
// meanwhile wait until the rewrite is done.
func (e *Engine) Compact(ctx context.Context, before time.Time) (CompactStats, error) {
	rw, ok := e.j.(Rewriter)
	if !ok {
		return CompactStats{}, fmt.Errorf("%w: %T", ErrNotRewritable, e.j)
	}
	if err := ctx.Err(); err != nil {
		return CompactStats{}, err
	}
	e.expire(ctx)
	// What to do with each record's entries, decided on the records as
	// they are now. A record created meanwhile is unknown here and kept
	// whole.
	type fate uint8
	const (
		keepAll  fate = iota // unfinished: every entry
		keepLast             // finished: last snapshot and outcomes
		drop                 // finished before the cutoff: nothing
	)
	e.compactMu.Lock()
	defer e.compactMu.Unlock()
	fates := map[string]fate{}
	e.mu.Lock()
	for id, s := range e.records {
		r := &s.r
		switch {
		case s.running || !r.Status.Final() || r.Incomplete:
			fates[id] = keepAll
		case !before.IsZero() && cmp.Or(r.Finished, r.Decided, r.Created).Before(before):
			fates[id] = drop
		default:
			fates[id] = keepLast
		}
	}
	// An action and its undo go together: one kept keeps the other.
	for id, s := range e.records {
		if fates[id] != drop {
			continue
		}
		for _, other := range []string{s.r.UndoOf, s.r.UndoneBy} {
			if f, ok := fates[other]; other != "" && (!ok || f != drop) {
				fates[id] = keepLast
			}
		}
	}
	// The records to drop leave the action center now, before the journal
	// is rewritten: an Undo or Approve that starts meanwhile finds nothing
	// to act on rather than outcomes about to vanish. They come back if
	// the rewrite fails.
	dropped := map[string]*state{}
	for id, f := range fates {
		if f == drop {
			dropped[id] = e.records[id]
			delete(e.records, id)
		}
	}
	e.mu.Unlock()
	restore := func() {
		e.mu.Lock()
		for id, s := range dropped {
			if _, ok := e.records[id]; !ok {
				e.records[id] = s
			}
		}
		e.pending()
		e.mu.Unlock()
	}

	// The position of each finished record's last snapshot.
	last := map[string]int{}
	i := 0
	for ent, err := range e.j.Replay(ctx) {
		if err != nil {
			restore()
			return CompactStats{}, fmt.Errorf("remediation: compact: %w", err)
		}
		if ent.Kind == EntryRecord {
			last[ent.Record.ID] = i
		}
		i++
	}

	i = -1
	keep := func(ent *Entry) bool {
		i++
		var id string
		switch ent.Kind {
		case EntryRecord:
			id = ent.Record.ID
		case EntryIntent:
			id = ent.Intent.RecordID
		case EntryOutcomes:
			id = ent.Outcomes.RecordID
		case EntryCalendar:
			id = ent.Calendar.RecordID
		default:
			return true
		}
		f, known := fates[id]
		switch {
		case !known || f == keepAll:
			return true
		case f == drop:
			return false
		case ent.Kind == EntryRecord:
			// Entries appended since the scan come after every position
			// it saw: a later snapshot is kept.
			return i >= last[id]
		case ent.Kind == EntryCalendar:
			// The entries an action with RemoveInvites removed: its undo
			// puts them back.
			return len(ent.Calendar.Removed) > 0
		default:
			return ent.Kind == EntryOutcomes
		}
	}
	before0, after, err := rw.Rewrite(ctx, keep)
	if err != nil {
		restore()
		return CompactStats{}, fmt.Errorf("remediation: compact: %w", err)
	}
	st := CompactStats{Before: before0, After: after, Removed: len(dropped)}
	e.mu.Lock()
	st.Kept = len(e.records)
	e.mu.Unlock()
	e.log.Info("remediation: journal compacted", "removed", st.Removed, "kept", st.Kept,
		"bytes_before", st.Before, "bytes_after", st.After)
	return st, nil
}
