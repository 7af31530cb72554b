// Package hunt is eradicate's email events index: one row per delivered
// copy of a message, so that hunting, Explorer's views and the entity
// view of a message answer from the index instead of scanning every
// folder of every mailbox.
//
// It plays the part of Defender's EmailEvents, EmailUrlInfo and
// EmailAttachmentInfo tables. For each copy the index holds the
// message's [NetworkID] (eradicate's own id of the message, shared by all
// its copies), Message-ID, envelope and header senders, recipients,
// subject, date and size, its URLs in the canonical form clusters use
// ([mailbox.NormalizeURL]), its attachments (name, type, SHA-256, TLSH),
// the folder it was delivered to and where it is now, the clusters it
// belongs to, the detections that fired on it and the actions taken on
// it. A copy stays in the index while it is in its mailbox, and for a
// retention period after it left, [DefaultRetention] unless configured.
//
// # Feeding the index
//
// Three feeds write to a [Store]: the delivery path (the tap, through
// tap.AnnounceIndexer and [Pending]: each message as a pending copy in
// each recipient's mailbox before the mail server stores it, so that
// hunts and the [Narrower] see it at once; or an [Indexer] that knows
// the copy's address, [StoreIndexer]), a [Crawler] that backfills any
// [mailbox.Store] and then keeps up (reading only new mail, skipping
// unchanged mailboxes when the store reports folder states,
// [mailbox.FolderStater], and filling in the folder and UID of pending
// copies), and the engine's outcomes ([RecordActions] as the engine's
// remediation.Options.AfterAction, or [RecordAction]: where copies went,
// the actions taken, the detections of rules' actions and the clusters
// of automation's). Each mailbox's [Cursor] says how fresh the index is
// for it.
//
// # Reading it
//
// [Reader.Copies] answers every [mailbox.Criteria] field from the index,
// with exactly the matching rules of [mailbox.Criteria.Match];
// [Reader.Counts] gives Explorer's top-N lists and counts over time by
// sender, domain, recipient, URL, URL domain, file or folder;
// [Reader.Entity] gives a message's entity view. Streams are
// [iter.Seq2] values that stop at the first error.
//
// # Selecting from the index
//
// A [Narrower], set as the engine's remediation.Options.Narrower, makes
// an action selected by criteria open only the mailboxes the index places
// a copy in, plus every mailbox whose index is older than its MaxAge
// (unless the store's folder states show it unchanged since its crawl,
// Narrower.Stater). In a mailbox the index vouches for, the engine
// matches the criteria on the server against the copies the index holds
// there, by UID ([mailbox.CopySearcher]); every other mailbox, and one
// where such a copy has moved, is searched on the server, so a stale
// index never makes an action miss what a scan would find. Every copy is
// verified on the server before it is acted on.
//
// The package huntapi serves a Reader through the HTTP API (package api)
// as Graph's analyzedEmails.
//
// # Storage
//
// The package sqlstore implements [Store] on SQLite, in one file and
// without cgo, and on PostgreSQL; the package hunttest is the conformance
// suite every store runs.
package hunt
