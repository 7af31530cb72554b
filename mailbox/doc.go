// Package mailbox is the mail side of eradicate: the model of a message
// copy, folder roles, selection criteria, the [Store] interface a mail
// backend implements, and the MIME parser that reads what remediation and
// clustering need from a raw message.
//
// The package is a leaf: it knows nothing of remediation, clusters or
// calendars. Backends live in sub-packages ([Store] is implemented by
// mailbox/imapstore and by the in-memory tenant in package mock) and all of
// them pass the conformance suite in mailbox/mailboxtest.
//
// # Copies and addresses
//
// Remediation acts on copies: one message in one folder of one mailbox.
// An [Address] names a copy exactly, as IMAP does: mailbox owner, folder
// name, UIDVALIDITY and UID (RFC 9051 section 2.3.1.1). A UID names the
// same message only while the folder's UIDVALIDITY is unchanged; a store
// that finds a different UIDVALIDITY refuses with [ErrUIDValidity] rather
// than guess. A [Message] is what a search returns for a copy: its address
// and role, and the header fields selection needs (message id, envelope
// and header sender, recipients, subject, date, size, flags).
//
// # Roles
//
// A [Role] says what a folder is for, whatever it is called on a server:
// [RoleInbox], [RoleJunk], [RoleDeleted] (Deleted Items), [RoleSent],
// [RoleRecoverable] (hidden, admin-recoverable, like Exchange's
// Recoverable Items\Deletions), and the admin-only [RoleQuarantine] and
// [RoleEvidence]. IMAP backends resolve roles through SPECIAL-USE
// attributes (RFC 6154) or configuration. A [Location] is either a role or
// a folder name, never both.
//
// # The Store contract
//
// [Store] has six methods, each taking a ctx first; a done ctx ends
// blocking I/O with an error wrapping ctx.Err(), and implementations are
// safe for concurrent use. In short:
//
//   - Search streams the copies in one mailbox that match a [Criteria],
//     verifying every hit with [Criteria.Match] even when a server-side
//     search narrowed the candidates. An invalid criteria yields one error
//     wrapping [ErrEmptyCriteria] or [ErrMatchesEverything].
//   - Fetch returns the raw message; a missing copy gives [ErrNotFound].
//   - Move reports one [Moved] per address: a copy already at the
//     destination counts as moved, a vanished copy carries [ErrNotFound],
//     and the others still move. Move never expunges anything but the
//     moved copies; a server without a safe move (IMAP MOVE and UIDPLUS)
//     gives [ErrUnsupported] instead of a wider fallback.
//   - Expunge removes exactly the addressed copies and reports one error
//     per address.
//   - Append stores a raw message and returns the new copy's address.
//
// # Criteria
//
// A [Criteria] selects copies: lists of message ids, senders, sender
// domains, recipients, URLs and attachment SHA-256 hashes (any element of
// a list may match), a subject substring, a time range, folders and
// roles; every field set must match, and And and Or nest criteria.
// Matching of ids, addresses and domains is exact and case-insensitive; a
// sender domain also matches its subdomains; URLs are compared by their
// identity, [NormalizeURL] (rewriters such as Safe Links unwrapped, then
// canonicalised), which is also the name clusters give them; Message-IDs
// by [NormalizeMessageID]. A criteria that selects nothing, or that would match
// every message (only a folder, a role or a time range, a wildcard, a
// top-level domain or another public suffix such as co.uk or github.io),
// is refused by [Criteria.Validate] and never widened.
// [Criteria.NeedsContent] tells whether evaluating it needs the parsed
// message (URLs and attachment hashes) or only the [Message] summary.
//
// # Parsing
//
// [Parse] reads a raw RFC 5322 message into a [Parsed]: decoded headers
// (RFC 2047 encoded words, RFC 2231 parameters, any charset go-message
// knows), lower-cased addresses, the Received chain newest first, the
// text and HTML bodies in UTF-8, the attachments with their SHA-256, the
// calendar parts (iMIP, RFC 6047) and the URLs of the message, including
// those inside attached HTML, PDF and Office files. [ParseHeader] reads
// only the header block, for summaries.
//
// Parsing never panics and never gives up on a message: mail that is
// malformed — broken boundaries, bad base64, unknown charsets, truncated
// parts, header lines without a name — yields an error wrapping
// [ErrMalformed] that lists the problems, together with everything that
// could be read. Hostile input is bounded: at most [MaxDepth] levels of
// nesting, [MaxParts] parts and [MaxURLs] URLs per message, one budget
// per message for reading attached files ([MaxInflatePerMessage] bytes
// decompressed, [MaxTokensPerMessage] tokens of markup and password
// tries), and no step whose cost grows faster than the size of the part
// it reads. A message a limit cut short is kept, with
// [Parsed.Truncated] set.
//
// # Concurrency
//
// The functions of this package hold no state and may be called from any
// number of goroutines. A [Parsed] is not modified after [Parse] returns;
// the Content of its attachments must not be modified by callers.
package mailbox
