package remediation

import (
	"context"
	"iter"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
)

// Journal is the durable log of the action center. The engine writes every
// record change, every batch's intent before the batch moves, and every
// batch's outcomes after it; replaying the journal rebuilds the action
// center and tells [Engine.Resume] what was in flight.
//
// Implementations are safe for concurrent use. Entries passed to one Append
// call are written together and in order; entries of concurrent calls may
// interleave only between calls.
type Journal interface {
	// Append writes entries. It returns only when they are durable (for a
	// file: written and fsync'd), or with an error. ctx is checked before
	// writing: a done ctx gives an error wrapping ctx.Err() and writes
	// nothing; a write already under way is not abandoned. After any other
	// error the journal refuses further appends. Implementations must not
	// keep entries, or slices they hold, after Append returns: callers
	// reuse them.
	Append(ctx context.Context, entries ...Entry) error
	// Replay streams every entry appended so far, in order. Entries
	// appended while it runs may or may not be included.
	Replay(ctx context.Context) iter.Seq2[Entry, error]
	// Close releases the journal; later calls fail with ErrClosed.
	Close() error
}

// EntryKind is the kind of a journal [Entry].
type EntryKind uint8

// Entry kinds.
const (
	EntryRecord   EntryKind = 1 // a snapshot of a record (everything but outcomes)
	EntryIntent   EntryKind = 2 // copies about to be acted on
	EntryOutcomes EntryKind = 3 // the outcomes of an intent
	EntryCalendar EntryKind = 4 // calendar work of an action
)

// Entry is one journal entry. Exactly the field of its Kind is set.
type Entry struct {
	// Kind says which of the fields below is set.
	Kind EntryKind
	// Record is the snapshot of an [EntryRecord]: the record as it was
	// when written. Replay keeps the last snapshot of an ID and adds the
	// outcomes and calendar decisions journaled after it.
	Record *Record
	// Intent is the batch of an [EntryIntent].
	Intent *Intent
	// Outcomes are the outcomes of an [EntryOutcomes].
	Outcomes *OutcomeBatch
	// Calendar is the calendar work of an [EntryCalendar].
	Calendar *CalendarStep
}

// Intent lists the copies of one mailbox an action is about to act on,
// written durably before anything moves.
type Intent struct {
	// RecordID is the ID of the action's record.
	RecordID string
	// Seq numbers the batches of an action; the outcomes of this intent
	// carry the same Seq.
	Seq uint64
	// Mailbox is the owner of the mailbox every copy of the intent is in.
	Mailbox string
	// To is the destination; the zero Location means a purge.
	To mailbox.Location
	// Copies are the copies about to be acted on, in the order of the
	// backend call.
	Copies []IntentCopy
}

// IntentCopy is one copy of an [Intent]: its address and Message-ID (so a
// copy that left its source during a crash can be found at the
// destination).
type IntentCopy struct {
	// Folder is the folder the copy is in before the action (the mailbox
	// is the intent's).
	Folder string
	// UIDValidity is the UIDVALIDITY of Folder that UID belongs to.
	UIDValidity uint32
	// UID is the copy's UID in Folder.
	UID uint32
	// MessageID is the copy's Message-ID without angle brackets; "" when
	// unknown. Reconciliation after a crash looks the copy up by it, at
	// its source and at the destination.
	MessageID string
	// Role is the role of Folder when the action selected the copy; ""
	// when unknown. Resume applies the invites of a copy that a
	// MoveToInbox took out of quarantine by it.
	Role mailbox.Role
}

// OutcomeBatch holds the outcomes of one intent (or, with Seq 0, of
// copies guards skipped, of copies found again after their folder was
// renumbered, or the failures of a batch whose backend call failed as a
// whole and which stays in flight for [Engine.Resume]).
type OutcomeBatch struct {
	// RecordID is the ID of the action's record.
	RecordID string
	// Seq is the Seq of the intent these outcomes close; 0 when they close
	// none (skips left over at the end of a mailbox, the failures of a
	// batch left in flight, or only the Done mark). A batch that closes an intent may also carry the skips
	// decided before it.
	Seq uint64
	// Mailbox is the owner of the mailbox of every outcome's Copy and To:
	// the journal stores it once per batch, not per outcome.
	Mailbox string
	// Done marks the last batch of a mailbox: the mailbox is finished.
	Done bool
	// Items are the outcomes, one per copy. It may be empty: a batch that
	// only marks the mailbox done, or that closes an intent whose copies
	// all had outcomes already.
	Items []Outcome
}

// CalendarStep is calendar work of an action. A plan lists invite series
// found in copies about to be purged (written before the purge); the
// decisions record what was done (written after).
type CalendarStep struct {
	// RecordID is the ID of the action's record. (Its JSON name, in
	// the journal's encoding, is "action".)
	RecordID string `json:"action"`
	// Seq is the Seq of the batch (intent) whose copies carried the
	// invites; the plan and the decisions of one batch share it.
	Seq uint64 `json:"seq"`
	// Plan lists the invite series still to be handled: all of them
	// before the purge, those not yet done after a failure. A later step
	// of the same Seq with an empty Plan closes the batch's calendar work;
	// until then [Engine.Resume] carries out the last Plan written.
	Plan []SeriesRef `json:"plan,omitempty"`
	// Decisions are what was done to calendar entries since the previous
	// step; replay appends them to [Record.Calendar].
	Decisions []CalendarDecision `json:"decisions,omitempty"`
	// Removed are the entries an action with RemoveInvites is about to
	// remove, whole, for its undo to put back: they are journaled before
	// they are removed. They stay in the journal only (not in the record).
	Removed []RemovedEntry `json:"removed,omitempty"`
}

// RemovedEntry is a calendar entry an action with RemoveInvites removed
// or reverted, as it was stored.
type RemovedEntry struct {
	// Owner is the calendar owner.
	Owner string `json:"owner"`
	// Calendar is the id of the calendar that held the entry.
	Calendar string `json:"calendar"`
	// UID is the entry's iCalendar UID.
	UID string `json:"uid"`
	// Organizer is the entry's organizer, lower-cased, without "mailto:".
	Organizer string `json:"organizer,omitempty"`
	// Provenance is the entry's provenance, restored with it.
	Provenance calendar.Provenance `json:"provenance"`
	// Raw is the entry's iCalendar text, byte for byte (JSON would
	// replace invalid UTF-8 in a string).
	Raw []byte `json:"raw"`
	// Reverted reports an entry put back as it was before a purged
	// update (its Provenance.Previous) rather than removed; the undo puts
	// this version back over the reverted one.
	Reverted bool `json:"reverted,omitempty"`
}

// SeriesRef names an invite series carried by one copy of one owner.
type SeriesRef struct {
	// Owner is the owner of the mailbox holding the copy, whose calendars
	// are cleaned.
	Owner string `json:"owner"`
	// MessageID is the message's Message-ID without angle brackets (the
	// header's, else the one selected); the invite entries that message
	// created are removed whatever their UID (see
	// calendar.RemoveInviteEntries).
	MessageID string `json:"message_id,omitempty"`
	// UID is the invite's iCalendar UID; "" when Err is set.
	UID string `json:"uid,omitempty"`
	// Organizer is the invite's normalized ORGANIZER address; "" when
	// Err is set or the invite names none.
	Organizer string `json:"organizer,omitempty"`
	// Err is set when the invite could not be read.
	Err string `json:"err,omitempty"`
}
