package remediation

import (
	"errors"
	"slices"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Errors returned by the [Engine]. Callers test for them with [errors.Is].
var (
	// ErrNotFound means no record has the given id.
	ErrNotFound = errors.New("remediation: no such action")
	// ErrNeedsConfirmation means the selection is larger than
	// [Options.BlastRadius] and the request did not set Confirm.
	ErrNeedsConfirmation = errors.New("remediation: selection exceeds the blast-radius limit; set Confirm to act on it")
	// ErrEmptySelection means a request selects nothing: neither criteria
	// nor copies.
	ErrEmptySelection = errors.New("remediation: empty selection")
	// ErrInvalidRequest means a request is malformed; the error says why.
	ErrInvalidRequest = errors.New("remediation: invalid request")
	// ErrNotRecipient means a release names a recipient who holds no
	// quarantined copy of the selected messages: a release never delivers
	// to anyone who was not a recipient.
	ErrNotRecipient = errors.New("remediation: not an original recipient of the quarantined message")
	// ErrNotPending means an approval or decline was asked for an action
	// that is not pending approval (already decided, or expired).
	ErrNotPending = errors.New("remediation: action is not pending approval")
	// ErrExpired means a pending action expired before it was approved.
	ErrExpired = errors.New("remediation: pending action expired")
	// ErrUndoUndo means an undo of an undo was asked; it is refused (run
	// the original action again instead).
	ErrUndoUndo = errors.New("remediation: an undo cannot be undone; run the original action again")
	// ErrIrreversible means an undo of a hard delete was asked: purged
	// copies are gone from the mailbox (an admin may restore from the
	// evidence store when one is configured).
	ErrIrreversible = errors.New("remediation: a hard delete cannot be undone")
	// ErrAlreadyUndone means the action was already undone.
	ErrAlreadyUndone = errors.New("remediation: action already undone")
	// ErrNotFinished means an undo was asked for an action that has not
	// run to its end (pending, running, declined, expired).
	ErrNotFinished = errors.New("remediation: action has not finished")
	// ErrFourEyes means an approval was refused by the four-eyes rule
	// ([Options.FourEyes]): the proposal needs an approver other than its
	// actor. It stays pending.
	ErrFourEyes = errors.New("remediation: four-eyes rule: the proposal needs an approver other than its actor")
	// ErrAmbiguous means an abbreviated action id matches more than one
	// action.
	ErrAmbiguous = errors.New("remediation: abbreviated action id matches several actions")
	// ErrAlreadyReleased means a release names a recipient to whom the
	// selected messages were released already: they are out of
	// quarantine, and nothing was released again.
	ErrAlreadyReleased = errors.New("remediation: already released to this recipient")
	// ErrClosed means the engine's journal was closed. A [Journal]
	// returns it (or an error wrapping it) from every call after Close.
	ErrClosed = errors.New("remediation: journal closed")
	// ErrEngineClosed means [Engine.Start] was called after
	// [Engine.Close]: no action was started.
	ErrEngineClosed = errors.New("remediation: engine closed; no action was started")
)

// Severity is how severe the threat an action answers is.
type Severity string

// Severities.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
)

// Source is where a request came from.
type Source string

// Sources.
const (
	SourceManual        Source = "manual"
	SourceExplorer      Source = "explorer"
	SourceHunting       Source = "hunting"
	SourceDetectionRule Source = "detection_rule"
	SourceAutomation    Source = "automation"
	SourceAPI           Source = "api"
)

// DecidedByAutomation is the DecidedBy of actions that ran without a
// person's decision ([SourceAutomation]).
const DecidedByAutomation = "automation"

// Status is where an action is in its life.
type Status string

// Statuses. Pending, queued and running are not final; the others are.
const (
	StatusPending   Status = "pending_approval"
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusPartial   Status = "partially_completed"
	StatusFailed    Status = "failed"
	StatusDeclined  Status = "declined"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Final reports whether s is a status an action never leaves (except that
// [Engine.Resume] finishes an incomplete action; see [Record.Incomplete]).
func (s Status) Final() bool {
	return s != StatusPending && s != StatusQueued && s != StatusRunning
}

// OutcomeKind is the result of an action on one copy.
type OutcomeKind uint8

// Outcome kinds.
const (
	Succeeded            OutcomeKind = iota + 1 // the copy moved (or was purged)
	AlreadyInDestination                        // the copy was already where the action puts it
	NotFound                                    // moved or deleted since selection
	Failed                                      // the backend failed; Detail holds the error
	Skipped                                     // a guard refused; Detail holds the reason
)

var outcomeNames = [...]string{"", "succeeded", "already_in_destination", "not_found", "failed", "skipped"}

// String returns the outcome's name, e.g. "not_found".
func (k OutcomeKind) String() string {
	if int(k) < len(outcomeNames) && k != 0 {
		return outcomeNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (k OutcomeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *OutcomeKind) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if i > 0 && n == string(b) {
			*k = OutcomeKind(i)
			return nil
		}
	}
	return errors.New("remediation: unknown outcome " + string(b))
}

// Outcome is the result of an action on one copy.
type Outcome struct {
	// Copy is the address the copy had when it was selected.
	Copy mailbox.Address `json:"copy"`
	// To is the copy's new address after a move; zero for a purge and
	// for outcomes other than Succeeded and AlreadyInDestination.
	To mailbox.Address `json:"to,omitzero"`
	// MessageID is the copy's Message-ID without angle brackets, as read
	// when the copy was selected; "" when the message has none or the
	// copy was gone before it could be read.
	MessageID string `json:"message_id,omitempty"`
	// Kind is what happened to the copy; it is never zero in an outcome
	// the engine recorded.
	Kind OutcomeKind `json:"kind"`
	// Detail is the error text of a failure, the guard's reason of a
	// skip, or why a copy was not found; on a success it says when the
	// success was established by a resume after an interruption ("found
	// at the destination after an interruption", "purged before an
	// interruption"), and is "" otherwise.
	Detail string `json:"detail,omitempty"`
	// Retry marks the outcome of a retry of a copy that failed before
	// ([Engine.Resume] retries failed copies); it replaces the failure in
	// the counts.
	Retry bool `json:"retry,omitempty"`
}

// Counts counts the outcomes of an action.
type Counts struct {
	// Succeeded is the number of copies moved or purged.
	Succeeded int64 `json:"succeeded"`
	// AlreadyInDestination is the number of copies that were already
	// where the action puts them and were left there.
	AlreadyInDestination int64 `json:"already_in_destination"`
	// NotFound is the number of copies moved or deleted since they were
	// selected (for an undo: moved since the action).
	NotFound int64 `json:"not_found"`
	// Failed is the number of copies whose last attempt failed. An
	// outcome with Retry set takes its copy's earlier failure back out,
	// so a copy retried by [Engine.Resume] is counted once, under its
	// latest outcome.
	Failed int64 `json:"failed"`
	// Skipped is the number of copies a guard refused to act on.
	Skipped int64 `json:"skipped"`
}

// Total is the number of copies with an outcome.
func (c Counts) Total() int64 {
	return c.Succeeded + c.AlreadyInDestination + c.NotFound + c.Failed + c.Skipped
}

func (c *Counts) add(k OutcomeKind, n int64) {
	switch k {
	case Succeeded:
		c.Succeeded += n
	case AlreadyInDestination:
		c.AlreadyInDestination += n
	case NotFound:
		c.NotFound += n
	case Failed:
		c.Failed += n
	case Skipped:
		c.Skipped += n
	}
}

// Selection is what an action targets: copies matching Criteria across
// mailboxes, or an explicit list of copies. Exactly one of Criteria and
// Copies is set.
type Selection struct {
	// Criteria select copies in every mailbox (or those in Mailboxes). An
	// empty or match-everything criteria is refused.
	Criteria *mailbox.Criteria `json:"criteria,omitempty"`
	// Copies are hand-picked copies.
	Copies []mailbox.Address `json:"copies,omitempty"`
	// Mailboxes restricts the mailboxes searched; nil means all.
	Mailboxes []string `json:"mailboxes,omitempty"`
}

// Request asks for an action.
type Request struct {
	// Action is what to do with the selected copies; required, and
	// [Action.Valid] ([Undo] is refused: use [Engine.Undo]).
	Action Action `json:"action"`
	// Name is a short title for the action center; "" means the action's
	// own name, e.g. "soft_delete".
	Name string `json:"name,omitempty"`
	// Description is free text kept with the record; optional.
	Description string `json:"description,omitempty"`
	// Severity is how severe the threat is; "" leaves it unset. It is
	// recorded as given, not checked against the Severity constants.
	Severity Severity `json:"severity,omitempty"`
	// Source is where the request came from; "" means manual.
	Source Source `json:"source,omitempty"`
	// Actor is who asked (a person or a system); required.
	Actor string `json:"actor"`
	// Selection is what the action targets: exactly one of its Criteria
	// and Copies is set (neither gives [ErrEmptySelection], both
	// [ErrInvalidRequest]), and every copy address is complete.
	Selection Selection `json:"selection"`
	// Recipients restricts a [Release] to these original recipients;
	// nil releases to every recipient holding a quarantined copy.
	Recipients []string `json:"recipients,omitempty"`
	// Confirm acknowledges a selection above the blast-radius limit.
	Confirm bool `json:"confirm,omitempty"`
	// RuleName names the detection rule of a [SourceDetectionRule]
	// request.
	RuleName string `json:"rule_name,omitempty"`
	// Cluster names the cluster of messages a [SourceAutomation] request
	// answers (package automation gives its seed, as cluster.Seed's
	// String writes it); "" when none. It is kept in the record, so that
	// an events index can file the copies acted on under their cluster.
	Cluster string `json:"cluster,omitempty"`
	// MaxCopies, when positive, is a blast-radius limit for this request
	// alone, applied with [Options.BlastRadius] (the lower wins): above it
	// the request must set Confirm. Automation sets it to its size cap.
	MaxCopies int `json:"max_copies,omitempty"`
	// RemoveInvites makes a [Quarantine], [SoftDelete], [MoveToDeleted]
	// or [MoveToJunk] also remove the calendar entries the copies'
	// invites created, by the rule of a hard delete; the journal keeps the
	// removed entries and [Engine.Undo] puts them back ([Release] applies
	// a released invite again). Other actions refuse it ([HardDelete]
	// always removes them, for good).
	RemoveInvites bool `json:"remove_invites,omitempty"`
}

// CalendarDecision is what a hard delete (or a release, or an action with
// RemoveInvites, or its undo) did to one calendar entry of one owner.
type CalendarDecision struct {
	// Owner is the mailbox owner whose calendars were looked at: the
	// owner of the purged or released copy.
	Owner string `json:"owner"`
	// MessageID is the Message-ID (without angle brackets) of the message
	// that carried the invite; "" when it has none.
	MessageID string `json:"message_id,omitempty"`
	// UID is the iCalendar UID of the entry removed or kept, or of the
	// invite applied; "" when the invite could not be read.
	UID string `json:"uid,omitempty"`
	// Organizer is the lower-cased organizer address of the entry or
	// invite, without "mailto:"; "" when unknown.
	Organizer string `json:"organizer,omitempty"`
	// Calendar is the store's id of the calendar holding the entry; ""
	// when no entry is concerned (most errors).
	Calendar string `json:"calendar,omitempty"`
	// EntryID is the store's id of the entry within Calendar; "" when
	// Calendar is.
	EntryID string `json:"entry_id,omitempty"`
	// Summary is the entry's SUMMARY (the master's, else the first
	// override's), or the released invite's; "" when unknown.
	Summary string `json:"summary,omitempty"`
	// Verdict is "removed", "kept", "applied" (a released invite was
	// processed as on delivery), "restored" (an undo put a removed entry
	// back), "not_checked" (no calendar store is configured: one decision
	// per invite series whose entries were not looked at) or "error".
	Verdict string `json:"verdict"`
	// Reason is a stable code: the calendar.Reason of a removed or kept
	// entry, the calendar.Action of an applied invite (kept when applying
	// it failed), "undo" for a restored entry and "exists" for one an undo
	// found back already, "no-calendar-store" for a series not checked,
	// or "unreadable-invite", "no-calendar",
	// "fetch-failed" or "restore-failed" for an error.
	Reason string `json:"reason,omitempty"`
	// Detail explains Reason to a person: the reason's text, the error,
	// or why an applied invite changed nothing ("" when it did change).
	Detail string `json:"detail,omitempty"`
}

// Calendar decision verdicts.
const (
	VerdictRemoved    = "removed"
	VerdictKept       = "kept"
	VerdictApplied    = "applied"
	VerdictRestored   = "restored"
	VerdictReverted   = "reverted" // put back as it was before a purged invite updated it
	VerdictError      = "error"
	VerdictNotChecked = "not_checked" // no calendar store: the series' entries were not looked at
)

// Record is one action in the action center. Per-copy outcomes are not
// held in the record (an action may touch millions of copies); stream
// them with [Engine.Outcomes].
type Record struct {
	// ID identifies the action: its creation time in UTC to the second and
	// 8 random hex digits, e.g. "20250102T150405-1a2b3c4d". Ids of one
	// second do not sort in creation order.
	ID string `json:"id"`
	// Name is a short title: the request's Name, or the action (e.g.
	// "soft_delete") when it gave none; an undo's is "Undo: " followed by
	// the original's name.
	Name string `json:"name,omitempty"`
	// Description is the request's free text; an undo's is "undo of "
	// followed by the original's ID.
	Description string `json:"description,omitempty"`
	// Severity is the request's severity, "" when it gave none; an undo
	// keeps the original's.
	Severity Severity `json:"severity,omitempty"`
	// Source is where the request came from; never "": a request without
	// one, and every undo, is [SourceManual].
	Source Source `json:"source"`
	// Action is what the action does; [Undo] for an undo.
	Action Action `json:"action"`
	// Actor is who asked for the action, a person or a system
	// ([DecidedByAutomation] for automation: package
	// [github.com/eradicate-dev/eradicate/remediation/automation]).
	Actor string `json:"actor"`
	// DecidedBy is the approver: the actor for a direct execution, the
	// approver of a proposal, or "automation". It is "" while the action
	// is pending and when it expired.
	DecidedBy string `json:"decided_by,omitempty"`
	// RuleName is the name of the detection rule behind a
	// [SourceDetectionRule] action; "" for other sources.
	RuleName string `json:"rule_name,omitempty"`
	// Cluster is the request's Cluster: the cluster of messages an
	// automation action answers; "" for other actions.
	Cluster string `json:"cluster,omitempty"`
	// Status is where the action is in its life; see [Status.Final].
	Status Status `json:"status"`
	// Incomplete reports an action that ended with mailboxes it could not
	// finish (a backend failure); [Engine.Resume] finishes it.
	Incomplete bool `json:"incomplete,omitempty"`

	// Created is when the action was recorded, in UTC by [Options.Now].
	// [Filter] selects records by it and [Engine.Query] orders them by it.
	Created time.Time `json:"created"`
	// Decided is when the action was decided: Created for one executed
	// directly (and for an undo), the approval or decline of a proposal.
	// Zero while pending and for a proposal that expired.
	Decided time.Time `json:"decided,omitzero"`
	// Started is when the action first started running; zero for one that
	// never ran (pending, declined, expired, or refused when approved).
	// [Engine.Resume] keeps it.
	Started time.Time `json:"started,omitzero"`
	// Finished is when the action reached a final status, including
	// declined and expired; zero while it is pending, queued or running
	// (a resumed action's is cleared until it ends again).
	Finished time.Time `json:"finished,omitzero"`
	// Expires is when a proposal expires unless decided:
	// [Options.ApprovalTTL] after Created. Zero for an action executed
	// directly.
	Expires time.Time `json:"expires,omitzero"`

	// Selection is what the action targets, as requested; zero for an
	// undo, which acts on the outcomes of the action UndoOf names.
	Selection Selection `json:"selection"`
	// Recipients are the recipients a [Release] is restricted to, trimmed
	// and lower-cased; nil means every recipient.
	Recipients []string `json:"recipients,omitempty"`
	// Confirm reports that the request acknowledged a selection above the
	// blast-radius limit ([Options.BlastRadius]).
	Confirm bool `json:"confirm,omitempty"`
	// MaxCopies is the request's MaxCopies.
	MaxCopies int `json:"max_copies,omitempty"`
	// RemoveInvites is the request's RemoveInvites: the action removes
	// the invite-created calendar entries, and its undo restores them.
	RemoveInvites bool `json:"remove_invites,omitempty"`
	// Counts counts the outcomes so far.
	Counts Counts `json:"counts"`
	// Calendar lists the calendar entries a hard delete (or an action
	// with RemoveInvites) removed or kept, those an undo restored, and
	// invites a release applied. Without a calendar store it lists the
	// invite series whose entries were not checked ([VerdictNotChecked]).
	Calendar []CalendarDecision `json:"calendar,omitempty"`
	// UndoOf is, for an undo, the ID of the action it reverses; ""
	// otherwise.
	UndoOf string `json:"undo_of,omitempty"`
	// UndoneBy is the ID of the undo of this action; "" while it is not
	// undone. It is set when the undo starts, whatever the undo's outcome,
	// and an action is undone at most once.
	UndoneBy string `json:"undone_by,omitempty"`
	// DeclineReason is the reason an approver gave when declining.
	DeclineReason string `json:"decline_reason,omitempty"`
	// Error summarises failures (the first few), "" when none.
	Error string `json:"error,omitempty"`
}

func (r *Record) clone() *Record {
	c := *r
	c.Selection.Copies = slices.Clone(r.Selection.Copies)
	c.Selection.Mailboxes = slices.Clone(r.Selection.Mailboxes)
	if r.Selection.Criteria != nil {
		cr := r.Selection.Criteria.Clone()
		c.Selection.Criteria = &cr
	}
	c.Recipients = slices.Clone(r.Recipients)
	c.Calendar = slices.Clone(r.Calendar)
	return &c
}

// Progress reports how far a running action is.
type Progress struct {
	// ID is the ID of the action's record.
	ID string
	// Done is the number of copies with an outcome so far.
	Done int64
	// Total is the number of selected copies, or -1 when it is not known
	// (the selection was not counted in advance).
	Total int64
}

// Filter selects records for [Engine.Query]. Zero fields match
// everything.
type Filter struct {
	// Since, when not zero, keeps the records created at or after it.
	Since time.Time
	// Before, when not zero, keeps the records created before it.
	Before time.Time
	// Statuses keeps the records in one of these statuses.
	Statuses []Status
	// Actors keeps the records whose Actor is one of these, compared
	// exactly (DecidedBy is not looked at).
	Actors []string
	// Sources keeps the records from one of these sources.
	Sources []Source
	// Actions keeps the records of one of these actions.
	Actions []Action
}

func (f *Filter) match(r *Record) bool {
	if !f.Since.IsZero() && r.Created.Before(f.Since) {
		return false
	}
	if !f.Before.IsZero() && !r.Created.Before(f.Before) {
		return false
	}
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, r.Status) {
		return false
	}
	if len(f.Actors) > 0 && !slices.Contains(f.Actors, r.Actor) {
		return false
	}
	if len(f.Sources) > 0 && !slices.Contains(f.Sources, r.Source) {
		return false
	}
	if len(f.Actions) > 0 && !slices.Contains(f.Actions, r.Action) {
		return false
	}
	return true
}
