package mock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/mailbox"
)

var (
	_ calendar.Store                = (*Tenant)(nil)
	_ calendar.DefaultCalendarStore = (*Tenant)(nil)
)

// DefaultCalendarID is the id of the calendar every user has, where
// delivered invites and imported .ics files go.
const DefaultCalendarID = "calendar"

// maxInviteEvents is how many invite processing records a Tenant keeps
// ([Tenant.InviteEvents]); older ones are dropped.
const maxInviteEvents = 10_000

// calState is the in-memory calendar part of a Tenant. It is guarded by
// Tenant.mu. The calendar owners are the mailbox users: a user's calendars
// are made on first use, starting with the default calendar.
type calState struct {
	owners  map[string]*calOwner // by normalized owner address
	nextID  uint64
	nextRev uint64 // the last ETag given, "r<n>"
	// events is a ring of the last maxInviteEvents records; next is
	// where the next one goes once the ring is full.
	events []InviteEvent
	next   int
}

// calOwner holds the calendars of one user.
type calOwner struct {
	cals map[string]*calColl
}

// calColl is one calendar.
type calColl struct {
	info    calendar.Info
	entries map[string]*calendar.Entry // by entry ID
	byUID   map[string]string          // UID -> entry ID
}

// InviteEvent records the processing of one calendar part of a delivered
// message by the tenant's delivery (the way Outlook processes invites on
// arrival).
type InviteEvent struct {
	Address mailbox.Address // the recipient's copy
	// MessageID is the Message-ID of the delivered message, without angle
	// brackets; "" when it has none.
	MessageID string
	// Part is the index of the part in mailbox.Parsed.Calendars.
	Part int
	// Method is the invite's iTIP method ([calendar.Invite.Method]); for a
	// part that could not be parsed, the Content-Type method parameter.
	Method string
	// UID is the invite's UID; "" when the part could not be parsed.
	UID string
	// Action is the calendar.Action of calendar.ApplyInvite; "" when the
	// part could not be parsed.
	Action calendar.Action
	// Reason is the Reason of calendar.ApplyInvite: why the invite
	// changed nothing, "" when it did.
	Reason string
	// Err is why the part could not be parsed or applied; nil on success.
	Err error
}

func (t *Tenant) initCalLocked() {
	t.cal.owners = make(map[string]*calOwner)
	t.mail.onDeliver = append(t.mail.onDeliver, t.processInvites)
}

// calOwnerLocked returns the calendars of owner, making the default
// calendar on first use, or an error wrapping calendar.ErrNoOwner when
// owner is not a user of the tenant.
func (t *Tenant) calOwnerLocked(owner string) (*calOwner, error) {
	n := normMailbox(owner)
	if o := t.cal.owners[n]; o != nil {
		return o, nil
	}
	if t.mail.users[n] == nil {
		return nil, fmt.Errorf("mock: calendar owner %q: %w", owner, calendar.ErrNoOwner)
	}
	o := &calOwner{cals: make(map[string]*calColl)}
	o.cals[DefaultCalendarID] = newCalColl(DefaultCalendarID, "Calendar")
	t.cal.owners[n] = o
	return o, nil
}

func newCalColl(id, name string) *calColl {
	return &calColl{
		info:    calendar.Info{ID: id, Name: name},
		entries: make(map[string]*calendar.Entry),
		byUID:   make(map[string]string),
	}
}

// CreateCalendar creates the calendar id, named name, for the user owner.
// An unknown owner gives an error wrapping calendar.ErrNoOwner; an id that
// exists gives [ErrExists]; an empty id or one with a "/" is refused. It is
// not a backend call: it is not counted and no fault strikes it.
func (t *Tenant) CreateCalendar(owner, id, name string) error {
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("mock: invalid calendar id %q", id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o, err := t.calOwnerLocked(owner)
	if err != nil {
		return err
	}
	if _, ok := o.cals[id]; ok {
		return fmt.Errorf("mock: calendar %s of %s: %w", id, owner, ErrExists)
	}
	o.cals[id] = newCalColl(id, name)
	return nil
}

// Calendars lists the owner's calendars, the default calendar first, then
// by id. It implements calendar.Store.
func (t *Tenant) Calendars(ctx context.Context, owner string) ([]calendar.Info, error) {
	if err := t.fault(ctx, OpCalendars); err != nil {
		return nil, err
	}
	return t.calendars(owner)
}

func (t *Tenant) calendars(owner string) ([]calendar.Info, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, err := t.calOwnerLocked(owner)
	if err != nil {
		return nil, err
	}
	out := make([]calendar.Info, 0, len(o.cals))
	for _, c := range o.cals {
		out = append(out, c.info)
	}
	slices.SortFunc(out, func(a, b calendar.Info) int {
		switch {
		case a.ID == DefaultCalendarID:
			return -1
		case b.ID == DefaultCalendarID:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// DefaultCalendar returns [DefaultCalendarID] for a user and an error
// wrapping calendar.ErrNoOwner otherwise. It implements
// calendar.DefaultCalendarStore and is not a counted backend call.
func (t *Tenant) DefaultCalendar(ctx context.Context, owner string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("mock: default calendar: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.calOwnerLocked(owner); err != nil {
		return "", err
	}
	return DefaultCalendarID, nil
}

// Find returns the owner's entries matching q over all their calendars,
// ordered by calendar and entry id. UIDs match byte for byte; message ids
// by calendar.EqualMessageID (without angle brackets, ignoring case). When
// q sets both, an entry must match both. It implements calendar.Store.
func (t *Tenant) Find(ctx context.Context, owner string, q calendar.Query) ([]calendar.Entry, error) {
	if err := t.fault(ctx, OpFind); err != nil {
		return nil, err
	}
	return t.find(owner, q)
}

func (t *Tenant) find(owner string, q calendar.Query) ([]calendar.Entry, error) {
	if q.UID == "" && mailbox.NormalizeMessageID(q.MessageID) == "" {
		return nil, fmt.Errorf("mock: find: %w", calendar.ErrEmptyQuery)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o, err := t.calOwnerLocked(owner)
	if err != nil {
		return nil, err
	}
	out := []calendar.Entry{}
	for _, c := range o.cals {
		if q.UID != "" && q.MessageID == "" {
			if id, ok := c.byUID[q.UID]; ok {
				out = append(out, cloneEntry(c.entries[id]))
			}
			continue
		}
		for _, e := range c.entries {
			if q.UID != "" && e.UID != q.UID {
				continue
			}
			if calendar.EqualMessageID(e.Provenance.MessageID, q.MessageID) {
				out = append(out, cloneEntry(e))
			}
		}
	}
	slices.SortFunc(out, func(a, b calendar.Entry) int {
		if c := strings.Compare(a.Calendar, b.Calendar); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Put stores e in the calendar e.Calendar of owner and returns it as
// stored. It implements calendar.Store: the entry is first normalized with
// calendar.Normalize (Raw set by calendar.Encode when empty, the fields
// read back from Raw), then it replaces the entry with ID e.ID (which is
// created with that id when missing), or when e.ID is "" the entry with
// the same UID, or it is added with a new id. A UID held by another entry
// of the calendar is calendar.ErrConflict, as CalDAV's no-uid-conflict
// precondition (RFC 4791 section 5.3.2.1); a missing calendar is
// calendar.ErrNotFound; an unknown owner calendar.ErrNoOwner.
func (t *Tenant) Put(ctx context.Context, owner string, e calendar.Entry) (calendar.Entry, error) {
	fault, err := t.enter(ctx, OpPut)
	if err != nil {
		return calendar.Entry{}, err
	}
	stored, err := t.put(owner, e)
	if err != nil {
		return calendar.Entry{}, err
	}
	if fault != nil {
		return calendar.Entry{}, fault.err(OpPut)
	}
	return stored, nil
}

func (t *Tenant) put(owner string, e calendar.Entry) (calendar.Entry, error) {
	n, err := calendar.Normalize(e)
	if err != nil {
		return calendar.Entry{}, fmt.Errorf("mock: put: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o, err := t.calOwnerLocked(owner)
	if err != nil {
		return calendar.Entry{}, err
	}
	c := o.cals[n.Calendar]
	if c == nil {
		return calendar.Entry{}, fmt.Errorf("mock: put: calendar %q of %s: %w", n.Calendar, owner, calendar.ErrNotFound)
	}
	if n.ID == "" {
		if id, ok := c.byUID[n.UID]; ok {
			n.ID = id
		} else {
			t.cal.nextID++
			n.ID = "e" + strconv.FormatUint(t.cal.nextID, 10) + ".ics"
		}
	}
	if id, ok := c.byUID[n.UID]; ok && id != n.ID {
		return calendar.Entry{}, fmt.Errorf("mock: put: UID %q is entry %s of calendar %q: %w", n.UID, id, n.Calendar, calendar.ErrConflict)
	}
	if old := c.entries[n.ID]; old != nil && old.UID != n.UID {
		delete(c.byUID, old.UID)
	}
	t.cal.nextRev++
	n.ETag = `"r` + strconv.FormatUint(t.cal.nextRev, 10) + `"`
	stored := cloneEntry(&n)
	c.entries[n.ID] = &stored
	c.byUID[n.UID] = n.ID
	return cloneEntry(&stored), nil
}

// Delete removes the entry id from the calendar cal of owner. It
// implements calendar.Store: an entry already gone is not an error; a
// missing calendar is calendar.ErrNotFound; with a non-empty etag, an
// entry stored again since (every Put gives a new ETag) is kept and the
// error wraps calendar.ErrChanged.
func (t *Tenant) Delete(ctx context.Context, owner, cal, id, etag string) error {
	fault, err := t.enter(ctx, OpDelete)
	if err != nil {
		return err
	}
	if err := t.deleteEntry(owner, cal, id, etag); err != nil {
		return err
	}
	if fault != nil {
		return fault.err(OpDelete)
	}
	return nil
}

func (t *Tenant) deleteEntry(owner, cal, id, etag string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, err := t.calOwnerLocked(owner)
	if err != nil {
		return err
	}
	c := o.cals[cal]
	if c == nil {
		return fmt.Errorf("mock: delete: calendar %q of %s: %w", cal, owner, calendar.ErrNotFound)
	}
	if e := c.entries[id]; e != nil {
		if etag != "" && e.ETag != etag {
			return fmt.Errorf("mock: delete: entry %s of calendar %q of %s is now %s, not %s: %w", id, cal, owner, e.ETag, etag, calendar.ErrChanged)
		}
		delete(c.byUID, e.UID)
		delete(c.entries, id)
	}
	return nil
}

func cloneEntry(e *calendar.Entry) calendar.Entry {
	c := *e
	c.Raw = slices.Clone(e.Raw)
	c.Provenance = e.Provenance.Clone()
	if e.Master != nil {
		m := cloneOccurrence(*e.Master)
		c.Master = &m
	}
	if e.Overrides != nil {
		c.Overrides = make([]calendar.Occurrence, len(e.Overrides))
		for i, o := range e.Overrides {
			c.Overrides[i] = cloneOccurrence(o)
		}
	}
	return c
}

func cloneOccurrence(o calendar.Occurrence) calendar.Occurrence {
	o.Attendees = slices.Clone(o.Attendees)
	o.ExDates = slices.Clone(o.ExDates)
	return o
}

// direct is the tenant's calendar as the tenant itself uses it when it
// acts for a user (processing invites on delivery, importing an .ics):
// those are not backend calls, so they are neither counted nor struck by
// injected faults, but they honour ctx.
type direct struct{ t *Tenant }

func (d direct) Calendars(ctx context.Context, owner string) ([]calendar.Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.t.calendars(owner)
}

func (d direct) Find(ctx context.Context, owner string, q calendar.Query) ([]calendar.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.t.find(owner, q)
}

func (d direct) Put(ctx context.Context, owner string, e calendar.Entry) (calendar.Entry, error) {
	if err := ctx.Err(); err != nil {
		return calendar.Entry{}, err
	}
	return d.t.put(owner, e)
}

func (d direct) Delete(ctx context.Context, owner, cal, id, etag string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.t.deleteEntry(owner, cal, id, etag)
}

func (d direct) DefaultCalendar(ctx context.Context, owner string) (string, error) {
	return d.t.DefaultCalendar(ctx, owner)
}

// processInvites is the delivery hook: each meeting invite in a delivered
// copy is applied to the recipient's calendar with calendar.ApplyInvite,
// as Outlook does when the message arrives. The message's inline
// text/calendar parts are the invite (RFC 6047 section 2.4); .ics
// attachments are processed only when the message has no inline part and
// the attachment's Content-Type names a method. One UID is applied once
// per message. Copies delivered to an admin-only folder (quarantine,
// evidence, recoverable items) are not processed (the user never received
// them); copies in Junk are, as real clients do. Errors
// are logged and recorded ([Tenant.InviteEvents]), never failing the
// delivery.
func (t *Tenant) processInvites(ctx context.Context, addr mailbox.Address, p *mailbox.Parsed) {
	if len(p.Calendars) == 0 {
		return
	}
	if role, err := t.FolderRole(addr.Mailbox, addr.Folder); err != nil || role.AdminOnly() {
		return
	}
	mid := imipproc.InviteMessageID(p)
	for _, mi := range imipproc.MessageInvites(p) {
		ev := InviteEvent{Address: addr, MessageID: p.MessageID, Part: mi.Part, Method: p.Calendars[mi.Part].Method}
		if mi.Err != nil {
			ev.Err = mi.Err
			t.recordInvite(ctx, ev)
			continue
		}
		inv := mi.Invite
		ev.Method, ev.UID = inv.Method, inv.UID
		res, err := calendar.ApplyInvite(ctx, direct{t}, addr.Mailbox, inv, mid)
		ev.Action, ev.Reason, ev.Err = res.Action, res.Reason, err
		t.recordInvite(ctx, ev)
	}
}

func (t *Tenant) recordInvite(ctx context.Context, ev InviteEvent) {
	if ev.Err != nil {
		t.log.WarnContext(ctx, "mock: invite not applied", "mailbox", ev.Address.Mailbox, "message_id", ev.MessageID,
			"part", ev.Part, "method", ev.Method, "uid", ev.UID, "err", ev.Err)
	} else {
		t.log.DebugContext(ctx, "mock: invite processed", "mailbox", ev.Address.Mailbox, "message_id", ev.MessageID,
			"method", ev.Method, "uid", ev.UID, "action", string(ev.Action))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.cal.events) < maxInviteEvents {
		t.cal.events = append(t.cal.events, ev)
		return
	}
	t.cal.events[t.cal.next] = ev
	t.cal.next = (t.cal.next + 1) % maxInviteEvents
}

// eventsLocked returns the records oldest first.
func (t *Tenant) eventsLocked() []InviteEvent {
	out := make([]InviteEvent, 0, len(t.cal.events))
	out = append(out, t.cal.events[t.cal.next:]...)
	return append(out, t.cal.events[:t.cal.next]...)
}

// InviteEvents returns the records of invite processing on delivery, oldest
// first: the last 10,000.
func (t *Tenant) InviteEvents() []InviteEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.eventsLocked()
}

// InviteErrors returns the records of [Tenant.InviteEvents] whose Err is
// set: calendar parts that could not be parsed or applied.
func (t *Tenant) InviteErrors() []InviteEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []InviteEvent
	for _, ev := range t.eventsLocked() {
		if ev.Err != nil {
			out = append(out, ev)
		}
	}
	return out
}

// ImportICS is the user owner adding the .ics attachment called
// attachment (the first calendar attachment when "") of the message copy
// addr to their calendar: calendar.Import into the default calendar, with
// imported provenance naming the message and the file. A missing copy
// gives mailbox.ErrNotFound (or ErrNoMailbox, ErrUIDValidity); a message
// without such an attachment calendar.ErrNotFound. It is the user's
// action, not a backend call: not counted and not struck by faults; it
// honours ctx. To import raw iCalendar text, call calendar.Import with the
// tenant as store.
func (t *Tenant) ImportICS(ctx context.Context, owner string, addr mailbox.Address, attachment string) ([]calendar.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("mock: import: %w", err)
	}
	t.mu.Lock()
	u, err := t.userLocked(addr.Mailbox)
	var m *message
	if err == nil {
		_, m, err = u.copyLocked(addr)
	}
	t.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("mock: import: %w", err)
	}
	p, perr := mailbox.Parse(m.raw)
	if p == nil {
		return nil, fmt.Errorf("mock: import: %w", perr)
	}
	var part *mailbox.CalendarPart
	for i := range p.Calendars {
		c := &p.Calendars[i]
		if attachment == "" && (c.Attachment || c.Filename != "") || attachment != "" && c.Filename == attachment {
			part = c
			break
		}
	}
	if part == nil {
		return nil, fmt.Errorf("mock: import: no calendar attachment %q in %s: %w", attachment, addr, errors.Join(calendar.ErrNotFound, perr))
	}
	return calendar.Import(ctx, direct{t}, owner, part.Raw, p.MessageID, part.Filename)
}
