package mailbox

import "context"

// FolderStatus is the state of one folder, as IMAP STATUS reports it
// (RFC 9051 section 6.3.11; HIGHESTMODSEQ from CONDSTORE, RFC 7162
// section 3.1.2.2). When none of UIDValidity, UIDNext, Messages and
// HighestModSeq changed, no copy was added to or removed from the folder.
type FolderStatus struct {
	// Name is the folder's name on the store.
	Name string `json:"name"`
	// Role is the folder's role; RoleNone for an ordinary folder.
	Role Role `json:"role,omitempty"`
	// UIDValidity is the folder's UIDVALIDITY.
	UIDValidity uint32 `json:"uidvalidity"`
	// UIDNext is the UID the next copy stored in the folder will get.
	UIDNext uint32 `json:"uidnext"`
	// Messages is the number of copies in the folder.
	Messages uint32 `json:"messages"`
	// HighestModSeq is the folder's highest mod-sequence; 0 when the store
	// does not keep one (IMAP without CONDSTORE).
	HighestModSeq uint64 `json:"highestmodseq,omitempty"`
}

// FolderStater is a [Store] that reports the state of a mailbox's folders
// cheaply, without reading any message: what an index needs to tell that
// nothing changed since it last looked. It is an optional capability,
// found by type assertion.
type FolderStater interface {
	// FolderStatus returns the state of every folder of mailbox, in the
	// order Search visits them. An unknown mailbox gives ErrNoMailbox.
	FolderStatus(ctx context.Context, mailbox string) ([]FolderStatus, error)
}
