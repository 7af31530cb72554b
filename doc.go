// Package eradicate removes email threats from self-hosted mail the way
// Microsoft Defender for Office 365 does for Exchange Online: a security
// team, or an automation, picks malicious messages and eradicate moves,
// deletes, purges or restores every copy in every mailbox, removes the
// calendar entries that malicious meeting invites created, records every
// step in an action center, and groups related messages into clusters so
// that one verdict remediates a whole campaign.
//
// This package holds no code; it is the map. Start with the quickstart
// (go run ./examples/quickstart), then read the packages below.
//
// # Packages
//
//   - [github.com/eradicate-dev/eradicate/mailbox]: the message model
//     (copies addressed by mailbox, folder, UIDVALIDITY and UID), folder
//     roles, selection criteria, MIME parsing, and the Store interface a mail
//     backend implements.
//   - [github.com/eradicate-dev/eradicate/mailbox/imapstore]: the IMAP
//     backend (Dovecot, Cyrus, Stalwart…), requiring MOVE and UIDPLUS.
//   - [github.com/eradicate-dev/eradicate/calendar]: calendar entries with
//     provenance, iMIP/iTIP invite processing, and the rule that a hard
//     delete removes only the entries an invite created.
//   - [github.com/eradicate-dev/eradicate/calendar/caldavstore]: the CalDAV
//     backend (Radicale, Cyrus, SOGo, Nextcloud…).
//   - [github.com/eradicate-dev/eradicate/calendar/imipproc]: the invite
//     processor for deployments where nothing does what Outlook does on
//     delivery: it turns invites in IMAP mailboxes into CalDAV entries with
//     provenance.
//   - [github.com/eradicate-dev/eradicate/cluster]: indicators (URLs, files,
//     senders, body fingerprints), clusters of related messages, and the
//     chain of reasons that put each member there.
//   - [github.com/eradicate-dev/eradicate/remediation]: the actions, the
//     engine that runs them over every mailbox, the action center,
//     approvals and undo. Its journals (in memory, and a crash-safe file)
//     are [github.com/eradicate-dev/eradicate/remediation/journal];
//     detection rules are
//     [github.com/eradicate-dev/eradicate/remediation/rules] and automated
//     remediation of clusters
//     [github.com/eradicate-dev/eradicate/remediation/automation].
//   - [github.com/eradicate-dev/eradicate/api]: the HTTP API, an
//     http.Handler a program mounts: Microsoft Graph's analyzedEmails
//     remediate, eradicate's own actions, approvals and quarantine, bearer
//     tokens or client certificates with roles, four eyes, and its OpenAPI
//     document. The eradicate command (cmd/eradicate) serves it from one
//     TOML file and calls it.
//   - [github.com/eradicate-dev/eradicate/tap]: the delivery tap, an LMTP
//     server between the MTA (Postfix) and the mail server's LMTP
//     (Dovecot): it parses each message once, runs the detection rules
//     before the message lands (deliver, junk or quarantine), hands
//     invites to the invite processor and the message to indexers (the
//     cluster index), and records its quarantines in the action center.
//   - [github.com/eradicate-dev/eradicate/mock]: an in-memory tenant with
//     mailboxes, calendars, quarantine, invite processing on delivery and
//     fault injection, for tests and examples.
//
// # Actions
//
// Every action targets message copies (one message in one mailbox) and
// reports one outcome per copy: succeeded, already in destination, not
// found, failed or skipped.
//
//   - Move to junk, move to deleted items, soft delete (to a recoverable,
//     admin-only folder), quarantine (to the admin-only quarantine folder)
//     and move to inbox can be undone. The first four can also remove the
//     calendar entries the invites created (RemoveInvites), which their
//     undo puts back. The action center keeps why a message is quarantined
//     (the rule, the actor) and shows it with what quarantine holds.
//   - Hard delete purges the copy and removes the calendar entries the
//     invite created on delivery, in every recipient's calendar and for the
//     whole series, never an entry the user created or imported.
//   - Release from quarantine delivers to all original recipients or a
//     chosen subset, never to anyone else.
//   - Delete sender's copy soft-deletes the copy in an internal sender's
//     Sent folder.
//
// # Safety
//
// Selections that are empty or would match every message are refused, never
// widened; a configurable blast-radius limit asks for confirmation, and
// holds while an action runs and when it resumes; a proposed hard delete,
// or a proposal above that limit, needs an approver other than its actor
// (four eyes); every action is written to the journal before
// anything moves, so an interrupted action resumes without acting on any
// copy twice; the IMAP backend refuses servers whose only way to move would
// expunge more than the target, checks every address's UIDVALIDITY, and
// lets the server search only widen what exact verification then narrows.
// The journal is compacted on demand, keeping what undo and resume need.
package eradicate
