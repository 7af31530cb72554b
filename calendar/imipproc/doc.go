// Package imipproc applies the meeting invites in delivered mail to CalDAV
// calendars: the delivery processing that Exchange does for Outlook and
// that self-hosted mail systems usually lack.
//
// A [Processor] reads mail from any mailbox.Store (IMAP, the mock) and
// writes entries to any calendar.Store (CalDAV, the mock) with
// calendar.ApplyInvite, so entries carry invite provenance (the message,
// the organizer, the method, the series UID) and a hard delete of the
// invite removes them. The package imports both mailbox and calendar,
// which must not import each other; that is why it is a package of its
// own.
//
// # Which parts are invites
//
// As the mock tenant does on delivery: a message's inline text/calendar
// parts are its invite (RFC 6047 section 2.4); .ics attachments are
// processed only when the message has no inline part and the attachment's
// Content-Type names a method. Each UID is applied once per message.
// Copies in admin-only folders (quarantine, evidence, recoverable items)
// are never processed.
// REQUEST creates or updates, CANCEL cancels, REPLY updates the
// organizer's copy; the rest is left to the user (see
// calendar.ApplyInvite).
//
// # Modes
//
//   - [Processor.Deliver] takes the address of a delivered copy: the call
//     for a delivery hook (Dovecot's Sieve vnd.dovecot.execute, an LMTP
//     proxy, a notify plugin) that knows the copy.
//   - [Processor.ProcessMessageIDs] takes message ids, for hooks that only
//     know those (an MTA's log); the copies are found in the folders of
//     [Options.Roles] (Inbox and Junk by default).
//   - [Processor.Scan] catches up: it lists the copies dated since a time
//     in those folders and fetches each to look for calendar parts. A
//     mailbox.Criteria must narrow by content and has no selector for
//     "has a calendar part", so the scan selects Recipients = the owner
//     (which matches every copy of the owner's mailbox) within the time
//     range; it costs one fetch per message and suits a periodic run over
//     a short window, not the first pass over years of mail.
//
// Processing is idempotent: an invite whose message id and UID an invite
// entry of the owner already records is reported as
// [ActionAlreadyProcessed] and left alone, so a rescan never resets the
// user's answer to TENTATIVE.
//
// # Backfill (a heuristic, off by default)
//
// Where users' calendar programs already processed invites themselves
// (Thunderbird, Evolution, iOS write the event through CalDAV), the
// entries have no provenance: unknown, never removed by a hard delete.
// With [Options.Backfill] the processor marks such an entry as created by
// the invite when all of these hold: its UID is the invite's, its
// ORGANIZER is the invite's and is not the owner, the owner is an attendee
// of both the invite and the entry, it has no provenance, the invite's
// SEQUENCE is not lower than the entry's (an older revision, such as a
// spoof reusing a real meeting's UID and ORGANIZER, did not make it), and
// the invite message is still in the mailbox (the processor is reading
// it); the message is recorded as the entry's creator. It cannot tell an
// entry the user's client made from the invite from one the user imported
// from the same .ics through that client, or made by hand with a copied
// UID; those would then be removed by a hard delete of the invite. That
// is why it is off by default. The backfilled entry keeps the client's
// text; only the provenance property is added.
//
// # Errors
//
// Every call returns its outcomes, one per processed calendar part, also
// when it returns an error; the error joins the failures. A copy that is
// gone gives mailbox.ErrNotFound from Deliver and is skipped by the
// searching modes.
package imipproc
