package hunt

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/eradicate-dev/eradicate/mailbox"
)

// Errors returned by [Store] implementations and the functions of this
// package. Callers test for them with [errors.Is].
var (
	// ErrNotFound means no message of the index has the network id asked
	// for.
	ErrNotFound = errors.New("hunt: not found")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("hunt: store closed")
	// ErrInvalidQuery means a [Query] or [CountQuery] cannot be answered
	// as given; the error says why.
	ErrInvalidQuery = errors.New("hunt: invalid query")
)

// DefaultRetention is how long the index keeps a copy after it left its
// mailbox (expunged, purged) when nothing else is configured: 30 days, as
// Defender keeps its email events. A copy still in its mailbox stays in
// the index while it is there: a [Narrower] may skip a mailbox only when
// the index holds every copy in it.
const DefaultRetention = 30 * 24 * time.Hour

// Message is what the index holds of one message: the facts all its copies
// share. [NewMessage] builds one from a parsed message.
type Message struct {
	// NetworkID is eradicate's own id of the message, the same for every
	// copy of it in every mailbox (Defender's network message id):
	// [NetworkID] of the parsed message.
	NetworkID string `json:"network_id"`
	// MessageID is the Message-ID header in [mailbox.NormalizeMessageID]
	// form; "" when absent.
	MessageID string `json:"message_id,omitempty"`
	// EnvelopeFrom is the SMTP MAIL FROM (P1 sender), lower-cased.
	EnvelopeFrom string `json:"envelope_from,omitempty"`
	// From is the header From address (P2 sender), lower-cased.
	From string `json:"from,omitempty"`
	// FromName is the display name of the header From.
	FromName string `json:"from_name,omitempty"`
	// Recipients are the To, Cc and Bcc addresses, lower-cased, without
	// duplicates.
	Recipients []string `json:"recipients,omitempty"`
	// Subject is the decoded Subject header.
	Subject string `json:"subject,omitempty"`
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time `json:"date"`
	// Size is the raw message size in bytes.
	Size int64 `json:"size"`
	// URLs are the message's URLs in [mailbox.NormalizeURL] form (the
	// form clusters name them by), without duplicates, in order of first
	// appearance.
	URLs []string `json:"urls,omitempty"`
	// Attachments are the attached files.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Truncated reports that the message was parsed only in part
	// ([mailbox.Parsed.Truncated]): URLs or attachments may be missing.
	Truncated bool `json:"truncated,omitempty"`
}

// Attachment is one attached file of a [Message].
type Attachment struct {
	Name   string `json:"name,omitempty"`   // the decoded file name; may be ""
	Type   string `json:"type,omitempty"`   // the lower-cased media type
	Size   int64  `json:"size"`             // decoded size in bytes
	SHA256 string `json:"sha256"`           // lower-case hex SHA-256
	TLSH   string `json:"tlsh,omitempty"`   // TLSH digest; "" when the file is too short or too uniform
	Inline bool   `json:"inline,omitempty"` // Content-Disposition inline
}

// Copy is one delivered copy of a message in one mailbox, as the index
// knows it: where it was delivered and where it is now.
type Copy struct {
	// Mailbox is the mailbox owner holding the copy.
	Mailbox string `json:"mailbox"`
	// DeliveredFolder is the folder the copy was first seen in, its
	// delivery location.
	DeliveredFolder string `json:"delivered_folder"`
	// Address is where the copy is now; zero when Removed is set.
	Address mailbox.Address `json:"address"`
	// Role is the role of the folder the copy is in now.
	Role mailbox.Role `json:"role,omitempty"`
	// Removed is when the copy was seen gone from the mailbox (expunged);
	// zero while it is present.
	Removed time.Time `json:"removed,omitzero"`
	// Delivered is when the copy was delivered: the delivery path's time,
	// or for a crawled copy the date of its topmost Received header, else
	// its Date header, else when it was first indexed.
	Delivered time.Time `json:"delivered"`
	// Updated is when the index last changed the copy's location.
	Updated time.Time `json:"updated"`
	// Message is the message the copy is of. Copies returned by
	// [Reader.Copies] carry its summary (the fields of [mailbox.Message]
	// and NetworkID) but not URLs or Attachments; [Reader.Entity] gives
	// them.
	Message Message `json:"message"`
}

// Pending reports whether the copy is one a delivery path announced
// before the mail server stored it ([Pending]): its mailbox is
// known, its folder and UID not yet (Address holds only the mailbox). The
// next crawl that finds it fills them in.
func (c *Copy) Pending() bool { return c.Removed.IsZero() && c.Address.UID == 0 }

// Summary returns the copy as a [mailbox.Message] summary, as a
// [mailbox.Store] search would return it.
func (c *Copy) Summary() mailbox.Message {
	return mailbox.Message{
		Address:      c.Address,
		Role:         c.Role,
		MessageID:    c.Message.MessageID,
		EnvelopeFrom: c.Message.EnvelopeFrom,
		From:         c.Message.From,
		Recipients:   c.Message.Recipients,
		Subject:      c.Message.Subject,
		Date:         c.Message.Date,
		Size:         c.Message.Size,
	}
}

// PendingGrace is how long after its delivery time a pending copy
// ([Copy.Pending]) may take to reach its mailbox: a crawl of the mailbox
// that completes ([Store.SetCursor]) and started later than that without
// finding it settles it as never arrived (removed). It covers the tap's
// checks and its delivery to the mail server, with their default time
// limits.
const PendingGrace = 15 * time.Minute

// Delivery is one copy to index: a message and where it landed.
type Delivery struct {
	// Address is where the copy is: Mailbox, Folder and UID; or, for a
	// pending copy (announced by a delivery path before the mail server
	// stored it: [Pending]), Mailbox alone. A mailbox holds at most
	// one pending copy of a message; a later delivery of the message at
	// a full address in that mailbox (the crawler's) fills it in. A
	// pending copy of a message the mailbox holds at an address already
	// is not added (the delivery path was slower than the crawler).
	Address mailbox.Address
	// Role is the role of the folder.
	Role mailbox.Role
	// At is when the copy was delivered; zero means now.
	At time.Time
	// Message is the message; NetworkID is required.
	Message Message
}

// Relocation says where a copy went: an action's outcome or what a crawl
// saw.
type Relocation struct {
	// From is the copy's address as the index knows it.
	From mailbox.Address
	// To is the copy's new address; zero means the copy is gone
	// (expunged).
	To mailbox.Address
	// Role is the role of To's folder; RoleNone means unknown: the index
	// then gives the copy the role it knows the folder by (from the last
	// crawl, or another copy in it), if any.
	Role mailbox.Role
	// At is when it happened; zero means now.
	At time.Time
}

// AnnotationKind says what an [Annotation] records.
type AnnotationKind string

// The kinds of annotation.
const (
	// AnnotateCluster: the message belongs to the cluster named by Name.
	AnnotateCluster AnnotationKind = "cluster"
	// AnnotateDetection: a detection (a rule, a verdict) named by Name
	// fired on the message.
	AnnotateDetection AnnotationKind = "detection"
	// AnnotateAction: an action (record Record, of kind Name) was taken on
	// the copy at Address with the outcome Outcome.
	AnnotateAction AnnotationKind = "action"
)

// Annotation is something learnt about a message or one of its copies:
// the clusters it belongs to, the detections that fired on it, the actions
// taken on its copies.
type Annotation struct {
	// Kind says what the annotation records.
	Kind AnnotationKind `json:"kind"`
	// NetworkID names the message; for an action it may be "" when
	// Address names a copy the index holds.
	NetworkID string `json:"network_id,omitempty"`
	// Address names the copy an action was taken on, as it was before the
	// action; zero for clusters and detections.
	Address mailbox.Address `json:"address,omitzero"`
	// Name is the cluster id, the detection's name, or the action's kind.
	Name string `json:"name"`
	// Record is the action center record of an action.
	Record string `json:"record,omitempty"`
	// Outcome is an action's outcome on the copy (e.g. "succeeded").
	Outcome string `json:"outcome,omitempty"`
	// Actor is who asked for the action, or what produced the detection.
	Actor string `json:"actor,omitempty"`
	// At is when it happened; zero means now.
	At time.Time `json:"at"`
}

// Entity is the entity view of one message: the message, every copy of it
// and where each is now, its clusters, detections and the actions taken.
type Entity struct {
	// Message is what the index holds of the message, URLs and
	// attachments included.
	Message Message `json:"message"`
	// Copies are every copy of the message in the order they were
	// indexed, removed ones included.
	Copies []Copy `json:"copies"`
	// Annotations are its clusters, detections and the actions taken on
	// its copies, oldest first.
	Annotations []Annotation `json:"annotations,omitempty"`
}

// Query selects copies from the index.
type Query struct {
	// Criteria selects copies exactly as [mailbox.Criteria.Match] does on
	// the copy's summary and the message's URLs and attachments; Folders
	// and Roles apply to where the copy is now. It must pass
	// [mailbox.Criteria.Validate] unless Mailboxes or NetworkIDs narrow
	// the query; nil or zero then selects every copy they name.
	Criteria *mailbox.Criteria
	// Mailboxes, when set, keep only copies in these mailboxes.
	Mailboxes []string
	// NetworkIDs, when set, keep only copies of these messages.
	NetworkIDs []string
	// Removed also returns copies seen removed from their mailbox.
	Removed bool
}

// Dimension is what [CountQuery] groups copies by.
type Dimension string

// The dimensions Explorer counts by.
const (
	BySender       Dimension = "sender"        // the header From address
	BySenderDomain Dimension = "sender_domain" // the domain of the header From
	ByRecipient    Dimension = "recipient"     // the mailbox holding the copy
	ByURL          Dimension = "url"           // each canonical URL of the message
	ByURLDomain    Dimension = "url_domain"    // the host of each canonical URL
	ByFile         Dimension = "file"          // each attachment's SHA-256
	ByFolder       Dimension = "folder"        // the folder the copy was delivered to
)

// CountQuery asks how many copies there are per value of a dimension,
// Explorer's charts and top-N lists.
type CountQuery struct {
	// By is the dimension; required.
	By Dimension
	// Criteria, when not nil, keeps only the copies it selects (as in
	// [Query]); it must pass [mailbox.Criteria.Validate].
	Criteria *mailbox.Criteria
	// Since and Before bound the copies' delivery time: Since <= t <
	// Before; zero is no bound.
	Since, Before time.Time
	// Top keeps the Top values with the most copies; 0 means 10.
	Top int
	// Bucket, when positive, also splits the counts of those values
	// into time buckets of this length (aligned to the Unix epoch).
	Bucket time.Duration
}

// Count is one value of a [CountQuery] dimension and its number of
// copies, in one time bucket when the query has a Bucket.
type Count struct {
	// Key is the value: an address, domain, URL or SHA-256.
	Key string `json:"key"`
	// Start is the start of the time bucket; zero for totals.
	Start time.Time `json:"start,omitzero"`
	// Copies is the number of copies.
	Copies int64 `json:"copies"`
}

// Cursor is the crawl state of one mailbox.
type Cursor struct {
	// Mailbox is the owner.
	Mailbox string `json:"mailbox"`
	// Fresh is the start of the last complete crawl of the mailbox: the
	// index holds every copy the mailbox held then. Zero when never
	// crawled.
	Fresh time.Time `json:"fresh,omitzero"`
	// Folders are the folder states the last crawl saw, when the store
	// reports them ([mailbox.FolderStater]).
	Folders []mailbox.FolderStatus `json:"folders,omitempty"`
}

// Reader is the read side of an events index: hunting, Explorer's counts,
// the entity view and how fresh the index is per mailbox. Code that only
// reads the index (an API serving it, a report) takes a Reader; every
// [Store] is one.
//
// Every method takes a ctx; a done ctx ends the call with an error
// wrapping ctx.Err(). Implementations are safe for concurrent use.
type Reader interface {
	// Copies streams the copies q selects, in the order they were
	// indexed. An invalid q yields one error wrapping ErrInvalidQuery or
	// the criteria's validation error.
	Copies(ctx context.Context, q Query) iter.Seq2[Copy, error]

	// Counts streams Explorer counts: the Top values of q.By with the
	// most copies, most first (ties by key); with a Bucket, each value's
	// count per non-empty bucket, in time order, values in the same order.
	Counts(ctx context.Context, q CountQuery) iter.Seq2[Count, error]

	// Entity returns the entity view of the message with this network
	// id, removed copies included, or an error wrapping ErrNotFound.
	Entity(ctx context.Context, networkID string) (Entity, error)

	// Cursor returns the crawl state of a mailbox; a mailbox never
	// crawled gives a Cursor with only Mailbox set.
	Cursor(ctx context.Context, mailbox string) (Cursor, error)
}

// Store is an events index: the copies of delivered mail, what they carry
// and what happened to them. The package sqlstore implements it on SQLite
// and PostgreSQL.
//
// Every method takes a ctx; a done ctx ends the call with an error
// wrapping ctx.Err(). Implementations are safe for concurrent use. After
// Close every method fails with [ErrClosed].
type Store interface {
	Reader

	// Ingest adds copies. A copy is named by its address: ingesting an
	// address the index already holds changes nothing, so a retry or a
	// second feed (tap and crawler) is harmless. Copies of one NetworkID
	// share one message; its facts are those of the first ingest. The
	// deliveries are written together or not at all.
	Ingest(ctx context.Context, ds []Delivery) error

	// Relocate records that copies moved or were removed. A From the
	// index does not hold is ignored. Relocations are applied in order.
	Relocate(ctx context.Context, rs []Relocation) error

	// Annotate records clusters, detections and actions. An annotation
	// naming a message or copy the index does not hold is ignored.
	// Recording the same annotation twice keeps one.
	Annotate(ctx context.Context, as []Annotation) error

	// SetCursor stores the crawl state of a mailbox, replacing the
	// previous one. A crawl that found no copy of a pending copy's
	// message settles it: the pending copies of the mailbox delivered
	// more than [PendingGrace] before c.Fresh are marked removed at
	// c.Fresh.
	SetCursor(ctx context.Context, c Cursor) error

	// Expire removes the copies seen removed from their mailbox before
	// the time given, with their annotations, and messages left without
	// copies. Copies still in a mailbox are kept, however old. It returns
	// how many copies it removed.
	Expire(ctx context.Context, before time.Time) (int64, error)

	// Close releases the store. Calls in flight may fail with ErrClosed.
	Close() error
}

// Indexer is what a delivery path (the tap) feeds: each delivered copy
// with its parsed message. [StoreIndexer] adapts a [Store].
type Indexer interface {
	// Index records that p was delivered at addr. The Indexer must not
	// keep p or anything it points to after it returns.
	Index(ctx context.Context, addr mailbox.Address, role mailbox.Role, p *mailbox.Parsed) error
}

// StoreIndexer returns an [Indexer] that ingests into s.
func StoreIndexer(s Store) Indexer { return storeIndexer{s} }

type storeIndexer struct{ s Store }

func (si storeIndexer) Index(ctx context.Context, addr mailbox.Address, role mailbox.Role, p *mailbox.Parsed) error {
	return si.s.Ingest(ctx, []Delivery{{Address: addr, Role: role, Message: NewMessage(p)}})
}
