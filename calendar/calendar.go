package calendar

import (
	"context"
	"errors"
	"time"
)

// Errors returned by [Store] implementations and the invite functions.
var (
	// ErrNotFound means a calendar or entry does not exist.
	ErrNotFound = errors.New("calendar: not found")
	// ErrNoOwner means the calendar owner is unknown to the store.
	ErrNoOwner = errors.New("calendar: no such owner")
	// ErrInvalid means iCalendar data could not be read; the error says
	// what was wrong.
	ErrInvalid = errors.New("calendar: invalid iCalendar")
	// ErrEmptyQuery means a [Query] sets neither UID nor source.
	ErrEmptyQuery = errors.New("calendar: empty query")
	// ErrConflict means a Put would give a calendar two entries with one
	// UID (CalDAV's no-uid-conflict precondition, RFC 4791 section
	// 5.3.2.1).
	ErrConflict = errors.New("calendar: UID used by another entry of the calendar")
	// ErrChanged means a conditional [Store.Delete] found the entry
	// changed since it was read (another ETag); the entry is left as it
	// is.
	ErrChanged = errors.New("calendar: entry changed since it was read")
)

// ProvenanceKind says how an entry came to be in a calendar.
type ProvenanceKind string

// Provenance kinds. Only [ProvenanceInvite] entries are ever removed by a
// hard delete of the invite; [ProvenanceUnknown] is never removed.
const (
	ProvenanceUnknown  ProvenanceKind = ""         // the store cannot tell
	ProvenanceInvite   ProvenanceKind = "invite"   // created by processing an iMIP invite on delivery
	ProvenanceImported ProvenanceKind = "imported" // the user imported an .ics file
	ProvenanceUser     ProvenanceKind = "user"     // the user created it
)

// Provenance records where an entry came from.
type Provenance struct {
	// Kind is how the entry came to be in the calendar; the zero value,
	// [ProvenanceUnknown], means the store cannot tell, and such an entry
	// is never removed. The other fields apply to invite and imported
	// entries.
	Kind ProvenanceKind `json:"kind,omitempty"`
	// MessageID is the Message-ID (without angle brackets) of the message
	// whose invite created or last updated the entry, or whose .ics
	// attachment was imported.
	MessageID string `json:"message_id,omitempty"`
	// CreatedBy is the Message-ID (without angle brackets) of the message
	// whose invite created the entry; updates keep it. "" when unknown:
	// the entry was stored before creators were recorded, or the creating
	// message had no Message-ID. [RemoveInviteEntries] removes an invite
	// entry only when its creator was purged, so an entry without one is
	// never removed.
	CreatedBy string `json:"created_by,omitempty"`
	// Organizer is the lower-cased organizer address of the invite.
	Organizer string `json:"organizer,omitempty"`
	// Method is the iTIP method that created the entry, e.g. "REQUEST".
	Method string `json:"method,omitempty"`
	// SeriesUID is the UID of the invite series.
	SeriesUID string `json:"series_uid,omitempty"`
	// Attachment is the file name of an imported .ics attachment.
	Attachment string `json:"attachment,omitempty"`
	// Previous is the entry as it was before the invite of MessageID
	// updated it, when that message did not create it; nil for an entry
	// never updated, or whose previous text exceeded [MaxPreviousSize].
	// [RemoveInviteEntries] puts it back when only that update is purged.
	// It holds one version: its own provenance has no Previous.
	Previous *Revision `json:"previous,omitempty"`
}

// MaxPreviousSize bounds the iCalendar text kept in [Provenance.Previous]:
// a previous version larger than this is not kept (nil), so an entry's
// provenance stays small.
const MaxPreviousSize = 32 << 10

// Revision is an earlier version of an invite entry, kept in
// [Provenance.Previous].
type Revision struct {
	// MessageID is the Message-ID (without angle brackets) of the message
	// whose invite wrote this version.
	MessageID string `json:"message_id,omitempty"`
	// Method is the iTIP method that wrote this version.
	Method string `json:"method,omitempty"`
	// Raw is the iCalendar text of this version, at most
	// [MaxPreviousSize] bytes.
	Raw []byte `json:"raw"`
}

// Clone returns a copy of p that shares no memory with it.
func (p Provenance) Clone() Provenance {
	if p.Previous != nil {
		prev := *p.Previous
		prev.Raw = append([]byte(nil), prev.Raw...)
		p.Previous = &prev
	}
	return p
}

// Equal reports whether p and q are the same provenance, Previous
// compared by content.
func (p Provenance) Equal(q Provenance) bool {
	pp, qp := p.Previous, q.Previous
	p.Previous, q.Previous = nil, nil
	if p != q || (pp == nil) != (qp == nil) {
		return false
	}
	return pp == nil || pp.MessageID == qp.MessageID && pp.Method == qp.Method && string(pp.Raw) == string(qp.Raw)
}

// Attendee is one ATTENDEE of an event.
type Attendee struct {
	Email    string `json:"email"`              // lower-cased, without "mailto:"
	Name     string `json:"name,omitempty"`     // CN
	PartStat string `json:"partstat,omitempty"` // NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE
	Role     string `json:"role,omitempty"`     // REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR...; "" when absent
}

// Occurrence is one VEVENT of an entry: the master (RecurrenceID zero) or an
// override of one instance. A VTODO (a task sent as an invite) is read into
// an Occurrence too, its DUE as End; [Encode] writes VEVENTs only, so an
// entry of a VTODO keeps its meaning only through its Raw text.
type Occurrence struct {
	// RecurrenceID is the RECURRENCE-ID: the original start of the
	// instance an override replaces. Zero for the master.
	RecurrenceID time.Time `json:"recurrence_id,omitzero"`
	// Sequence is the SEQUENCE, the revision number iTIP compares (RFC
	// 5546 section 2.1.5); 0 when absent, capped at 2^30.
	Sequence int `json:"sequence"`
	// Summary is the SUMMARY text, unescaped; "" when absent.
	Summary string `json:"summary,omitempty"`
	// Start is DTSTART; zero when absent or unreadable. Times are
	// instants (see the package documentation).
	Start time.Time `json:"start,omitzero"`
	// End is DTEND (DUE for a VTODO), else Start plus DURATION, else the
	// day after Start for an all-day event; zero when none applies.
	End time.Time `json:"end,omitzero"`
	// AllDay reports DATE values (VALUE=DATE) for Start, End,
	// RecurrenceID and ExDates: midnight UTC of the date.
	AllDay bool   `json:"all_day,omitempty"`
	Status string `json:"status,omitempty"` // TENTATIVE, CONFIRMED, CANCELLED
	// Organizer is the component's ORGANIZER address, normalized by
	// [NormalizeAddress]; "" when absent.
	Organizer string `json:"organizer,omitempty"`
	// Attendees are the ATTENDEE properties, in the order written.
	Attendees []Attendee `json:"attendees,omitempty"`
	// RRule is the RRULE value as written (trimmed), e.g.
	// "FREQ=WEEKLY;COUNT=10"; "" for no recurrence. It is never expanded.
	RRule string `json:"rrule,omitempty"`
	// ExDates are the EXDATE instants, all lists of the component
	// together, at most 2,000.
	ExDates []time.Time `json:"exdates,omitempty"`
}

// Entry is one calendar object: every VEVENT that shares a UID in one
// calendar, as CalDAV stores them (RFC 4791 section 4.1).
type Entry struct {
	// Calendar is the store's id of the calendar holding the entry.
	Calendar string `json:"calendar"`
	// ID is the store's id of the entry within the calendar (a CalDAV
	// object path); "" for an entry not yet stored.
	ID string `json:"id,omitempty"`
	// UID is the iCalendar UID shared by every occurrence.
	UID string `json:"uid"`
	// Organizer is the lower-cased organizer address, without "mailto:".
	Organizer string `json:"organizer,omitempty"`
	// Master is the main VEVENT; nil when the calendar holds overrides only.
	Master *Occurrence `json:"master,omitempty"`
	// Overrides are the VEVENTs with a RECURRENCE-ID, in time order.
	Overrides []Occurrence `json:"overrides,omitempty"`
	// Provenance is where the entry came from, kept by the store beside
	// Raw; zero (unknown) in the entries [Decode] and [DecodeEntry] return.
	Provenance Provenance `json:"provenance"`
	// Raw is the iCalendar text of the object. It is authoritative: a
	// store keeps Raw and Provenance, and the fields above are what
	// DecodeEntry reads from Raw (see Normalize).
	Raw []byte `json:"-"`
	// ETag is the store's version of the entry as it was read (a CalDAV
	// ETag); "" when the store gave none or the entry was not read from a
	// store. [Store.Delete] with it removes that version only.
	ETag string `json:"etag,omitempty"`
}

// Info is one calendar of an owner.
type Info struct {
	// ID is the store's id of the calendar, as [Entry.Calendar] and
	// [Store.Delete] take it (for CalDAV, the collection's last path
	// segment).
	ID string `json:"id"`
	// Name is the calendar's display name; it may be "" (the CalDAV store
	// gives the ID when the collection has no display name).
	Name string `json:"name"`
}

// Query selects entries of one owner. At least one of UID and MessageID is
// set; when both are, an entry must match both. Matching is exact: UIDs
// are compared byte for byte, message ids without angle brackets and
// case-insensitively.
type Query struct {
	// UID selects entries with this iCalendar UID.
	UID string
	// MessageID selects entries whose Provenance.MessageID is this.
	MessageID string
}

// Store is a calendar backend: the calendars of every owner of a tenant.
// Owners are named as mailbox owners are (e-mail addresses).
//
// Every method takes a ctx; a done ctx ends blocking I/O and the method
// returns an error wrapping ctx.Err(). Implementations are safe for
// concurrent use by multiple goroutines.
type Store interface {
	// Calendars lists the owner's calendars; ErrNoOwner for an unknown
	// owner.
	Calendars(ctx context.Context, owner string) ([]Info, error)

	// Find returns the owner's entries matching q over all their
	// calendars, exactly (a server-side filter may narrow, the store
	// verifies), each with its ETag. No match is an empty slice and a nil
	// error. An empty q is ErrEmptyQuery; an unknown owner ErrNoOwner.
	Find(ctx context.Context, owner string, q Query) ([]Entry, error)

	// Put stores e in the calendar e.Calendar, replacing the entry with the
	// same ID, or with the same UID when e.ID is "". The store keeps
	// e.Provenance with the entry and returns the entry as stored, with its
	// ID set, and its new ETag when the store gives one at once (else "").
	// A missing calendar is ErrNotFound. e.Raw is authoritative:
	// the store keeps it and the returned fields are those read from it;
	// an empty Raw is first set by Encode (see Normalize). A UID held by
	// another entry of the calendar is ErrConflict.
	Put(ctx context.Context, owner string, e Entry) (Entry, error)

	// Delete removes the entry id from the calendar cal. It is idempotent:
	// an entry that is already gone is not an error. A non-empty etag
	// makes it conditional: an entry whose ETag is no longer etag is left
	// as it is and the error wraps ErrChanged, so that a decision made on
	// what was read never removes what replaced it.
	Delete(ctx context.Context, owner, cal, id, etag string) error
}
