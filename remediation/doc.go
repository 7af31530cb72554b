// Package remediation carries out remediation actions on message copies in
// every mailbox of a tenant, keeps the action center (a journal of every
// action, with per-copy outcomes), and handles approvals, undo and resume
// after a crash.
//
// An [Engine] works on a [mailbox.Store] (and a calendar.Store for meeting
// invites) and writes to a [Journal]:
//
//	j, _ := journal.OpenFile("/var/lib/eradicate/journal", nil) // package remediation/journal
//	e, _ := remediation.New(mailStore, calStore, j, nil)
//	_, _ = e.Resume(ctx) // finish what a crash interrupted
//	rec, err := e.Execute(ctx, remediation.Request{
//		Action:    remediation.SoftDelete,
//		Actor:     "analyst@corp.example",
//		Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"evil.example"}}},
//	})
//
// # Actions
//
// One copy is one message in one mailbox. Each [Action] puts every selected
// copy somewhere:
//
//   - [MoveToJunk]: to the Junk folder (role junk).
//   - [MoveToDeleted]: to Deleted Items (role deleted).
//   - [SoftDelete]: to recoverable items (role recoverable), hidden from the
//     user and recoverable by an admin. Calendar entries are kept.
//   - [HardDelete]: purged (Store.Expunge), or moved to the admin-only
//     evidence folder when [Options.EvidenceOnHardDelete] is set. Before a
//     copy is purged it is fetched and parsed, and the UID and ORGANIZER of
//     each invite delivery applies (imipproc.MessageInvites: not a plain
//     .ics attachment, not a PUBLISH) are journaled; after the purge,
//     calendar.RemoveInviteEntries removes, in the owner's calendars, the
//     entries that a purged message created: this one, or another message
//     this action purges, or one an earlier hard delete or action with
//     RemoveInvites (not undone) recorded a calendar decision for. It
//     reverts the entries a purged message only updated to their version
//     before that update ([VerdictReverted]), and keeps entries another
//     message created, the user imported from an .ics file or created, or
//     whose provenance or creator is unknown. Each removed, reverted or
//     kept entry is a [CalendarDecision] with its reason in
//     [Record.Calendar]. An invite that cannot be read never blocks the
//     purge: the decision records the error and entries are looked up by
//     Message-ID alone.
//   - [Quarantine]: to the mailbox's admin-only quarantine folder (role
//     quarantine), hidden from the user until released ([Release]) or
//     undone ([Engine.Undo], back to the folder each copy came from). The
//     record keeps why (name, description, source, rule, actor) and
//     [Engine.Held] shows it. With [Request.RemoveInvites] the entries the
//     copies' invites created are removed as a hard delete removes them;
//     an undo puts them back, a release applies the invites again as a
//     fresh delivery. A copy already in quarantine (the delivery tap
//     quarantines before the message lands) is [AlreadyInDestination]:
//     the record then says why it is held.
//   - [MoveToInbox]: to the Inbox from junk, deleted items, recoverable
//     items or quarantine; a copy elsewhere is skipped.
//   - [Release]: copies held in quarantine (each mailbox's admin-only
//     quarantine folder) go to the Inbox of every recipient, or of the
//     subset [Request.Recipients] names. A named recipient who holds no
//     quarantined copy of the selection is refused with [ErrNotRecipient]
//     before anything moves. A released invite is processed as a fresh
//     delivery (calendar.ApplyInvite). [Engine.Held] lists what quarantine
//     holds and [Engine.ReleaseHistory] who released what to whom.
//   - [DeleteSenderCopy]: the copy in the Sent folder of an internal sender
//     (a mailbox owner who is the message's From or envelope sender) is
//     soft-deleted.
//
// Guards keep actions to the copies they are meant for: other actions skip
// copies in quarantine (except a hard delete and a quarantine), in the
// evidence folder, and in Sent folders.
//
// # Outcomes
//
// Each copy gets one [Outcome]: [Succeeded] (with its new address),
// [AlreadyInDestination], [NotFound] (moved or deleted since it was
// selected), [Failed] (with the backend's error) or [Skipped] (with the
// guard's reason). [Engine.Outcomes] streams them from the journal; the
// record only holds [Counts]. An action with no failure is completed;
// with failures it is partially completed or failed.
//
// # Selection
//
// A [Selection] is either criteria, evaluated in every mailbox (or those
// listed), or an explicit list of copies. Empty and match-everything
// criteria are refused (mailbox.ErrEmptyCriteria,
// mailbox.ErrMatchesEverything), never widened; so are criteria whose only
// content selector is a recipient, which would select the recipient's
// whole mailbox (mailbox.Criteria.ValidateSelection). Selection is streamed:
// mailboxes are searched one by one by [Options.Workers] workers, copies
// acted on in batches of [Options.BatchSize], and no list of the whole
// selection is ever held; there is no cap on its size. Above
// [Options.BlastRadius] copies, or the request's own MaxCopies, (counted in
// a first pass that stops at the limit) a request must set Confirm or it is
// refused with [ErrNeedsConfirmation]; the limit holds while the action
// runs too, should the selection grow meanwhile. [Engine.DryRun] counts copies per mailbox and
// folder without acting. A copy whose folder was renumbered (its
// UIDVALIDITY changed) between selection and action is found again in
// that folder by its Message-ID and size and acted on; a hand-picked copy
// there, which cannot be told from the others, fails.
//
// # The action center
//
// Every action is a [Record]: id, name, description, severity, source
// (manual, explorer, hunting, detection rule, automation, API), action,
// actor, decider, status, timestamps, selection, counts, calendar
// decisions, and the links between an action and its undo. [Engine.Get]
// and [Engine.Query] (by time, status, actor, source, action) read them
// (Get, Outcomes, Approve, Decline and Undo also take a unique prefix of
// an id, or of its random tail);
// the engine rebuilds them from the journal when it starts. Options.Progress
// reports copies done out of the total while an action runs.
//
// # Journal
//
// A [Journal] is an append-only log of entries ([Entry]): record
// snapshots, intents (the copies of one mailbox about to be acted on,
// written durably before the backend call), outcomes (written after it)
// and calendar steps. This package holds the contract; the journals are in
// package [github.com/eradicate-dev/eradicate/remediation/journal]: one in
// memory and one in a file, the embedded default. A journal of another
// kind proves itself with the conformance suite of package
// [github.com/eradicate-dev/eradicate/remediation/journaltest]. The engine
// adds to the journal's own batching: a batch's outcomes ride with the
// next intent's write, and a worker that has several small mailboxes
// waiting writes their intents together.
//
// # Retention
//
// The journal only grows until [Engine.Compact] rewrites it: the actions
// that finished before a cutoff go (the action center's retention; an
// action and its undo go together), and of the others only what readers
// need stays: the last snapshot of a finished record and its outcomes,
// everything of an unfinished one. The journal must be a [Rewriter]; the
// rewrite is atomic (the file journal renames a new file over the old
// one), and appends wait meanwhile. A service calls it,
// say, daily with a cutoff of 30 days, as long as Defender keeps its
// action history.
//
// # Resume
//
// [Engine.Resume] finishes every action that a crash or restart
// interrupted, and every action that ended incomplete because a backend
// call failed. Each is checked first as a new one is: its criteria
// (ValidateSelection), its blast-radius limit counting the copies it
// acted on already with those still selected, and, for an approved
// proposal, the four-eyes rule; one that fails a check ends
// failed (or partially completed) and acts on nothing more. Mailboxes the journal marks done are skipped. An intent
// without outcomes (the batch was in flight) is reconciled by searching
// its mailbox for the intent's Message-IDs (a copy without one is looked
// for at its address): a copy still at its source is acted on, one found
// at the destination is recorded as succeeded at its new address, a purged
// one as succeeded; nothing is moved twice. A resumed release applies the
// invites of the copies it finds in the inbox. Copies
// that failed are retried (their outcome is marked Retry). Remaining
// mailboxes are then selected again, skipping every copy that already has
// an outcome. No copy is acted on twice and none is lost.
//
// # Approvals
//
// [Engine.Propose] records a request as pending approval; [Engine.Approve]
// runs it in the name of a named approver (the record's DecidedBy) and
// [Engine.Decline] declines it with a reason. A pending action expires
// after [Options.ApprovalTTL] (one week by default), checked whenever the
// action center is read. [Engine.Execute] runs directly, with the actor as
// decider, or "automation" for [SourceAutomation]. [Engine.Start] is
// Execute for an embedder that answers before the action ends (an API's
// 202 with a Location, a SOAR playbook): it refuses what Execute refuses,
// journals the record and returns it, then runs the action in the
// background; [Engine.Wait] waits for its end and [Engine.Close] waits for
// (or stops, to be resumed) the actions it began.
//
// Four eyes: by default a proposed hard delete, and a proposal whose
// selection is above the blast-radius limit (proposed with Confirm), need
// an approver other than their actor; Approve refuses the actor with
// [ErrFourEyes] and the proposal stays pending. [Options.FourEyes] turns
// the rule off or widens it to every proposal. Actions executed directly,
// automation's own among them, are not proposals; rules in propose mode
// and automation's proposals over its cap follow the rule.
//
// # Undo
//
// [Engine.Undo] moves every copy an action moved back to the folder it came
// from, as a new record linked both ways (UndoOf, UndoneBy). A copy moved
// since by its user is reported as not found and left where it is. An
// undo cannot be undone ([ErrUndoUndo]); a hard delete cannot be undone
// ([ErrIrreversible]); an action is undone at most once
// ([ErrAlreadyUndone]).
//
// # Detection rules and automation
//
// Detection rules (criteria, an action and a mode, checked on delivery
// and run on demand) are package
// [github.com/eradicate-dev/eradicate/remediation/rules]; automation, the
// counterpart of Defender's automated investigation and response that
// soft-deletes clusters of package cluster, is package
// [github.com/eradicate-dev/eradicate/remediation/automation]. Both act
// through an Engine's methods only.
//
// # Concurrency
//
// An Engine is safe for concurrent use. One journal must be used by one
// Engine at a time.
package remediation
