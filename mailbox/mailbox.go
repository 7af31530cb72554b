package mailbox

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"
)

// Errors returned by [Store] implementations. Callers test for them with
// [errors.Is]; implementations wrap them with detail using %w.
var (
	// ErrNotFound means the addressed copy (or folder, or mailbox) does not
	// exist: it was moved or expunged since it was selected.
	ErrNotFound = errors.New("mailbox: not found")
	// ErrNoMailbox means the mailbox owner is unknown to the store.
	ErrNoMailbox = errors.New("mailbox: no such mailbox")
	// ErrNoFolder means a folder, or the folder a role resolves to, does
	// not exist in the mailbox.
	ErrNoFolder = errors.New("mailbox: no such folder")
	// ErrUIDValidity means the folder's UIDVALIDITY differs from the one in
	// the address: the UIDs in the address no longer name the same
	// messages, and the store refused to guess.
	ErrUIDValidity = errors.New("mailbox: UIDVALIDITY changed")
	// ErrEmptyCriteria means a [Criteria] selects nothing at all.
	ErrEmptyCriteria = errors.New("mailbox: empty criteria")
	// ErrMatchesEverything means a [Criteria] would match every message
	// (for example only a folder or a time range); it is refused, never
	// widened.
	ErrMatchesEverything = errors.New("mailbox: criteria would match every message")
	// ErrUnsupported means the server lacks a capability the operation
	// needs and the store refused to fall back to something less safe.
	ErrUnsupported = errors.New("mailbox: unsupported by server")
)

// Role is what a folder is for, independent of its name on a server.
// Backends resolve roles to real folders (IMAP by SPECIAL-USE, RFC 6154).
type Role string

// Folder roles. The admin-only roles ([RoleRecoverable], [RoleQuarantine],
// [RoleEvidence]; see [Role.AdminOnly]) are never visible to the mailbox
// owner.
const (
	RoleNone        Role = ""            // a folder with no special role
	RoleInbox       Role = "inbox"       // INBOX
	RoleJunk        Role = "junk"        // \Junk
	RoleDeleted     Role = "deleted"     // \Trash: Deleted Items
	RoleSent        Role = "sent"        // \Sent
	RoleRecoverable Role = "recoverable" // hidden, admin-recoverable (Recoverable Items\Deletions)
	RoleQuarantine  Role = "quarantine"  // admin-only store of held messages
	RoleEvidence    Role = "evidence"    // admin-only store of purged copies kept as evidence
)

// Roles returns every role a store resolves, in a stable order. The slice
// is the caller's: each call returns a new one.
func Roles() []Role {
	return []Role{RoleInbox, RoleJunk, RoleDeleted, RoleSent, RoleRecoverable, RoleQuarantine, RoleEvidence}
}

// AdminOnly reports whether the role names a folder the mailbox owner never
// sees.
func (r Role) AdminOnly() bool {
	return r == RoleQuarantine || r == RoleEvidence || r == RoleRecoverable
}

// Address is the exact address of one copy of a message: one message in one
// folder of one mailbox. UIDValidity and UID behave as in IMAP (RFC 9051
// section 2.3.1.1): a UID names the same message only while the folder's
// UIDVALIDITY is unchanged.
type Address struct {
	Mailbox     string `json:"mailbox"`     // the owner, e.g. "alice@example.com"
	Folder      string `json:"folder"`      // the folder's name on the store, e.g. "INBOX"
	UIDValidity uint32 `json:"uidvalidity"` // the folder's UIDVALIDITY that UID belongs to
	UID         uint32 `json:"uid"`         // the copy's UID in the folder; never 0 for a real copy
}

// String formats the address as "mailbox/folder;UIDVALIDITY=v/;UID=u",
// after the IMAP URL form of RFC 5092.
func (a Address) String() string {
	return fmt.Sprintf("%s/%s;UIDVALIDITY=%d/;UID=%d", a.Mailbox, a.Folder, a.UIDValidity, a.UID)
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a == Address{} }

// Message describes one copy of a message as a [Store] search returns it:
// the envelope and headers remediation and selection need, not the body.
type Message struct {
	// Address is where the copy is.
	Address Address `json:"address"`
	// Role is the role of the folder the copy is in, RoleNone for an
	// ordinary folder.
	Role Role `json:"role,omitempty"`
	// MessageID is the Message-ID header without angle brackets.
	MessageID string `json:"message_id,omitempty"`
	// EnvelopeFrom is the SMTP MAIL FROM (Return-Path), Defender's P1 sender.
	EnvelopeFrom string `json:"envelope_from,omitempty"`
	// From is the header From address, Defender's P2 sender.
	From string `json:"from,omitempty"`
	// Recipients are the addresses in To, Cc and Bcc, lower-cased.
	Recipients []string `json:"recipients,omitempty"`
	// Subject is the Subject header, RFC 2047-decoded; "" when absent.
	Subject string `json:"subject,omitempty"`
	// Date is the Date header, or the internal date when the header is
	// missing or unreadable.
	Date time.Time `json:"date"`
	// Size is the size of the raw message in bytes.
	Size int64 `json:"size"`
	// Flags are the copy's IMAP flags as the store reports them, system
	// flags such as `\Seen` and keywords; nil when it has none.
	Flags []string `json:"flags,omitempty"`
}

// Location is where a copy goes: a role, resolved by the store, or a folder
// by name. Exactly one of the two is set.
type Location struct {
	// Role is a folder role the store resolves in the mailbox; RoleNone
	// when Folder is set.
	Role Role `json:"role,omitempty"`
	// Folder is a folder's name on the store; "" when Role is set.
	Folder string `json:"folder,omitempty"`
}

// In returns the Location of a role.
func In(r Role) Location { return Location{Role: r} }

// InFolder returns the Location of a folder by name.
func InFolder(name string) Location { return Location{Folder: name} }

// String returns the role or the folder name.
func (l Location) String() string {
	if l.Folder != "" {
		return l.Folder
	}
	return string(l.Role)
}

// Validate reports an error unless exactly one of Role and Folder is set.
func (l Location) Validate() error {
	if (l.Role == RoleNone) == (l.Folder == "") {
		return fmt.Errorf("mailbox: location needs exactly one of role and folder, got role %q folder %q", l.Role, l.Folder)
	}
	return nil
}

// Moved is the outcome of moving one copy.
type Moved struct {
	// From is the copy's address before the move, as given to Move.
	From Address `json:"from"`
	// To is the copy's new address; zero when Err is set.
	To Address `json:"to"`
	// Err is nil, or wraps ErrNotFound, ErrUIDValidity or a backend error.
	Err error `json:"-"`
}

// AppendOptions are optional settings of [Store.Append]. A nil pointer is
// the same as a zero value.
type AppendOptions struct {
	// Flags are set on the new copy, e.g. `\Seen`.
	Flags []string
	// Date is the internal date; zero means now.
	Date time.Time
}

// Store is a mail backend: the mailboxes of one tenant.
//
// Every method takes a ctx; a done ctx ends blocking I/O and the method
// returns an error wrapping ctx.Err(). Implementations are safe for
// concurrent use by multiple goroutines.
type Store interface {
	// Mailboxes lists the owners of every mailbox the store can reach, in a
	// stable order.
	Mailboxes(ctx context.Context) ([]string, error)

	// Search streams the copies in one mailbox that match c, over every
	// folder, admin-only ones included, unless c restricts the folder or
	// role. It matches exactly as [Criteria.Match] does: a backend may use a
	// server-side search to narrow, but verifies every hit. c is validated
	// first; an invalid c yields one error wrapping ErrEmptyCriteria or
	// ErrMatchesEverything. An unknown mailbox yields ErrNoMailbox. The
	// sequence stops at the first error.
	Search(ctx context.Context, mailbox string, c Criteria) iter.Seq2[Message, error]

	// Fetch returns the raw RFC 5322 message at addr. A missing copy gives
	// ErrNotFound; a stale UIDVALIDITY gives ErrUIDValidity.
	Fetch(ctx context.Context, addr Address) ([]byte, error)

	// Move moves copies of one mailbox to the location to and returns one
	// Moved per address, in order. Addresses may span folders. A copy that
	// is already at to is reported as moved with To equal to From. A copy
	// that is gone gives a Moved whose Err wraps ErrNotFound; others still
	// move. The returned error is non-nil only when nothing could be tried
	// (unknown mailbox or folder, missing capability, ctx done); then
	// no copy was moved. Move never expunges anything but the moved copies.
	Move(ctx context.Context, addrs []Address, to Location) ([]Moved, error)

	// Expunge removes copies of one mailbox permanently. It returns one
	// error per address, in order: nil when the copy was removed, or
	// wrapping ErrNotFound when it was already gone. The returned error is
	// non-nil only when nothing could be tried. Only the addressed copies
	// are ever removed.
	Expunge(ctx context.Context, addrs []Address) ([]error, error)

	// Append stores raw as a new copy at to in mailbox and returns its
	// address. opts may be nil.
	Append(ctx context.Context, mailbox string, to Location, raw []byte, opts *AppendOptions) (Address, error)
}
