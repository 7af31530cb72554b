package calendar

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// iTIP methods (RFC 5546 section 1.4).
const (
	MethodPublish        = "PUBLISH"
	MethodRequest        = "REQUEST"
	MethodReply          = "REPLY"
	MethodAdd            = "ADD"
	MethodCancel         = "CANCEL"
	MethodRefresh        = "REFRESH"
	MethodCounter        = "COUNTER"
	MethodDeclineCounter = "DECLINECOUNTER"
)

// Invite is an iTIP message carried by a mail part (iMIP, RFC 6047): the
// components of one UID and the method to apply them with.
type Invite struct {
	// Method is the iTIP method, upper-cased: the METHOD property of the
	// iCalendar object, or the Content-Type method parameter when the
	// object has none; "" when neither is given (a plain .ics file).
	Method string
	// ContentMethod is the Content-Type method parameter as given to
	// [ParseInvite], upper-cased.
	ContentMethod string
	// UID is the UID shared by every component.
	UID string
	// Sequence is the highest SEQUENCE of the components.
	Sequence int
	// Organizer is the normalized ORGANIZER address ([NormalizeAddress]).
	Organizer string
	// Summary is the SUMMARY of the master component, or of the first
	// override when there is no master; Start, End, Status and Attendees
	// come from the same component.
	Summary string
	// Start is that component's start ([Occurrence.Start]).
	Start time.Time
	// End is that component's end ([Occurrence.End]).
	End time.Time
	// Status is that component's STATUS, upper-cased; "" when absent.
	Status string
	// Attendees are that component's attendees.
	Attendees []Attendee
	// RecurrenceIDs are the RECURRENCE-IDs of the override components,
	// in time order; empty when the invite is about the whole series.
	RecurrenceIDs []time.Time
	// Entry holds the components as an entry would: Master, Overrides and
	// Raw (without METHOD). Calendar, ID and Provenance are zero.
	Entry Entry

	cals []*ical.Component
	obj  *object
}

// Series returns the Series to give [RemoveInviteEntries] when the message
// with this invite and the Message-ID messageID is hard-deleted.
func (inv *Invite) Series(messageID string) Series {
	return Series{UID: inv.UID, Organizer: inv.Organizer, MessageID: trimMessageID(messageID)}
}

// ParseInvite reads the iCalendar text of a mail part. contentMethod is the
// method parameter of the part's Content-Type ("" if absent); the METHOD
// property of the object takes precedence over it (RFC 6047 section 2.4
// requires both to agree). raw must hold VEVENT or VTODO components of
// exactly one UID (an iTIP message is about one calendar component, RFC
// 5546): text that cannot be read, that has no UID, or that has several
// UIDs gives an error wrapping [ErrInvalid] saying what was wrong, so that
// a caller can still act on the message itself. ParseInvite never panics
// and bounds its memory by the package limits.
func ParseInvite(raw []byte, contentMethod string) (*Invite, error) {
	cals, err := parseICS(raw)
	if err != nil {
		return nil, err
	}
	objs := groupObjects(cals)
	switch len(objs) {
	case 0:
		return nil, fmt.Errorf("%w: invite without a VEVENT or VTODO with a UID", ErrInvalid)
	case 1:
	default:
		return nil, fmt.Errorf("%w: invite with %d UIDs (%q, %q, ...); an iTIP message has one", ErrInvalid, len(objs), objs[0].uid, objs[1].uid)
	}
	inv := &Invite{ContentMethod: strings.ToUpper(strings.TrimSpace(contentMethod)), cals: cals, obj: objs[0]}
	for _, cal := range cals {
		if p := cal.Props.Get(ical.PropMethod); p != nil && inv.Method == "" {
			inv.Method = strings.ToUpper(strings.TrimSpace(p.Value))
		}
	}
	if inv.Method == "" {
		inv.Method = inv.ContentMethod
	}
	tz := newTZResolver(cals)
	// A component whose RECURRENCE-ID cannot be read would be taken for
	// the series master: a CANCEL of one occurrence would cancel the
	// whole series. Refuse the invite instead.
	for _, c := range inv.obj.comps {
		if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
			if t, _, ok := tz.parseTime(p, p.Value); !ok || t.IsZero() {
				return nil, fmt.Errorf("%w: invite UID %q: unreadable RECURRENCE-ID %q", ErrInvalid, inv.obj.uid, p.Value)
			}
		}
	}
	e := inv.obj.entry(tz)
	b, err := encodeICS(inv.obj.calendar(cals))
	if err != nil {
		return nil, fmt.Errorf("calendar: invite UID %q: %w", inv.obj.uid, err)
	}
	e.Raw = b
	inv.Entry = e
	inv.UID = e.UID
	inv.Organizer = e.Organizer
	first := e.Master
	if first == nil {
		first = &e.Overrides[0]
	}
	inv.Summary, inv.Start, inv.End, inv.Status = first.Summary, first.Start, first.End, first.Status
	inv.Attendees = first.Attendees
	for _, c := range inv.obj.comps {
		if p := c.Props.Get(ical.PropSequence); p != nil {
			inv.Sequence = max(inv.Sequence, parseSequence(p.Value))
		}
	}
	for _, o := range e.Overrides {
		inv.RecurrenceIDs = append(inv.RecurrenceIDs, o.RecurrenceID)
	}
	return inv, nil
}

// Action says what [ApplyInvite] did.
type Action string

// Actions of [ApplyInvite].
const (
	// ActionCreated: a new invite entry was put in the owner's default
	// calendar.
	ActionCreated Action = "created"
	// ActionUpdated: the owner's invite entry of the series was updated.
	ActionUpdated Action = "updated"
	// ActionCancelled: the entry, or the cancelled occurrences, were
	// marked STATUS:CANCELLED.
	ActionCancelled Action = "cancelled"
	// ActionReplyApplied: an attendee's PARTSTAT was updated in the
	// organizer's copy.
	ActionReplyApplied Action = "reply-applied"
	// ActionStale: the invite's SEQUENCE is lower than the stored one;
	// nothing changed.
	ActionStale Action = "stale"
	// ActionNotApplied: the method is not applied automatically
	// (PUBLISH, ADD, COUNTER, REFRESH, DECLINECOUNTER, none or unknown).
	ActionNotApplied Action = "not-applied"
	// ActionSkipped: an entry with the UID exists that this invite must
	// not change (not invite provenance, or another organizer's); it was
	// left as it is.
	ActionSkipped Action = "skipped"
	// ActionNoEntry: a CANCEL or REPLY for a UID the owner has no
	// matching entry of; nothing changed.
	ActionNoEntry Action = "no-entry"
)

// Result is what [ApplyInvite] did.
type Result struct {
	// Action is what was done. It is set also when ApplyInvite returns an
	// error: [ActionNotApplied] when a REQUEST, CANCEL or REPLY stored
	// nothing.
	Action Action
	// Entries are the entries created or updated, as stored.
	Entries []Entry
	// Reason explains Actions that changed nothing.
	Reason string
}

// DefaultCalendarStore is a [Store] that names an owner's default
// calendar, where [ApplyInvite] and [Import] put new entries. For a store
// without it they use the first calendar [Store.Calendars] lists.
type DefaultCalendarStore interface {
	Store
	// DefaultCalendar returns the id of the owner's default calendar;
	// ErrNoOwner for an unknown owner.
	DefaultCalendar(ctx context.Context, owner string) (string, error)
}

// DefaultCalendar returns the id of the calendar where new entries of
// owner go: [DefaultCalendarStore.DefaultCalendar] when s has it, else the
// first calendar listed. An owner without calendars is ErrNotFound.
func DefaultCalendar(ctx context.Context, s Store, owner string) (string, error) {
	if d, ok := s.(DefaultCalendarStore); ok {
		return d.DefaultCalendar(ctx, owner)
	}
	cals, err := s.Calendars(ctx, owner)
	if err != nil {
		return "", err
	}
	if len(cals) == 0 {
		return "", fmt.Errorf("%w: %s has no calendar", ErrNotFound, owner)
	}
	return cals[0].ID, nil
}

// ApplyInvite processes inv, received by owner in the message messageID,
// as a mail client does on delivery (RFC 5546 section 3.2, RFC 6047):
//
//   - REQUEST creates the entry in the owner's default calendar with
//     STATUS:TENTATIVE and the owner's ATTENDEE PARTSTAT=NEEDS-ACTION, and
//     [ProvenanceInvite] provenance; or updates the owner's invite entry of
//     the same UID and organizer (wherever it is) unless it is an older
//     revision ([ActionStale]): a lower SEQUENCE, or the same SEQUENCE
//     and an earlier DTSTAMP (RFC 5546 section 2.1.5); of two with the
//     same SEQUENCE and DTSTAMP the later applied wins, except that a
//     cancelled series comes back only with a later DTSTAMP or a higher
//     SEQUENCE (a CANCEL stamps the entry with its DTSTAMP), so an old
//     REQUEST applied again does not undo a CANCEL. A
//     REQUEST with a master component replaces the series with the
//     invite's components, keeping only stored overrides it does not
//     carry whose SEQUENCE is higher than its master's; one with
//     RECURRENCE-IDs only replaces (SEQUENCE permitting) or adds those
//     overrides (compared with the master's SEQUENCE).
//   - CANCEL marks the owner's invite entry STATUS:CANCELLED, or, with
//     RECURRENCE-IDs, only those occurrences: by an override with
//     STATUS:CANCELLED (never by an EXDATE, so the cancelled occurrence
//     stays visible as cancelled, as Outlook shows it).
//   - REPLY updates the PARTSTAT of the replying attendees in the owner's
//     copy when the owner is its organizer, whatever its provenance
//     (which it keeps).
//   - PUBLISH, ADD, COUNTER, REFRESH and DECLINECOUNTER are not applied
//     ([ActionNotApplied]).
//
// An entry with the UID that is not invite provenance (imported,
// user-created, unknown), or that came from another organizer, is never
// converted or overwritten by a REQUEST or CANCEL: [ActionSkipped]. A
// created entry records messageID as its creator (Provenance.CreatedBy).
// Updates set the provenance's MessageID and Method to this message's,
// keep its creator, and keep the version they replace in
// Provenance.Previous (see [MaxPreviousSize]). The Result
// is always set, also with an error. Find-then-Put is not atomic:
// concurrent calls for one owner and UID converge, because Put replaces by
// UID.
func ApplyInvite(ctx context.Context, s Store, owner string, inv *Invite, messageID string) (Result, error) {
	if inv == nil || inv.obj == nil {
		return Result{Action: ActionNotApplied, Reason: "no invite"}, fmt.Errorf("%w: nil invite", ErrInvalid)
	}
	owner = NormalizeAddress(owner)
	messageID = trimMessageID(messageID)
	switch {
	case AppliedMethod(inv.Method):
	case inv.Method == "":
		return Result{Action: ActionNotApplied, Reason: "no METHOD: a plain iCalendar object, not an iTIP message; only the user can import it"}, nil
	default:
		return Result{Action: ActionNotApplied, Reason: inv.Method + " is not applied automatically (RFC 5546); the user decides"}, nil
	}
	found, err := s.Find(ctx, owner, Query{UID: inv.UID})
	if err != nil {
		return Result{Action: ActionNotApplied, Reason: "finding existing entries failed"}, fmt.Errorf("calendar: apply %s %q for %s: %w", inv.Method, inv.UID, owner, err)
	}
	if inv.Method == MethodReply {
		return applyReply(ctx, s, owner, inv, found)
	}
	var mine []Entry
	var other []string
	for _, e := range found {
		if e.UID != inv.UID {
			continue
		}
		switch {
		case e.Provenance.Kind != ProvenanceInvite:
			other = append(other, fmt.Sprintf("%s/%s has %s provenance", e.Calendar, e.ID, kindName(e.Provenance.Kind)))
		case !sameOrganizer(entryOrganizer(e), inv.Organizer):
			other = append(other, fmt.Sprintf("%s/%s is an invite from organizer %q", e.Calendar, e.ID, entryOrganizer(e)))
		default:
			mine = append(mine, e)
		}
	}
	if len(mine) == 0 && len(other) > 0 {
		return Result{Action: ActionSkipped, Reason: "left untouched: " + strings.Join(other, "; ")}, nil
	}
	prov := Provenance{Kind: ProvenanceInvite, MessageID: messageID, Organizer: inv.Organizer, Method: inv.Method, SeriesUID: inv.UID, CreatedBy: messageID}

	if len(mine) == 0 {
		if inv.Method == MethodCancel {
			return Result{Action: ActionNoEntry, Reason: "no entry of UID " + strconv.Quote(inv.UID) + " to cancel"}, nil
		}
		cal, err := DefaultCalendar(ctx, s, owner)
		if err != nil {
			return Result{Action: ActionNotApplied, Reason: "no default calendar"}, fmt.Errorf("calendar: apply REQUEST %q for %s: %w", inv.UID, owner, err)
		}
		comps := cloneComps(inv.obj.comps)
		for _, c := range comps {
			markTentative(c, owner)
		}
		e, err := buildEntry(inv.UID, comps, inv.cals)
		if err != nil {
			return Result{Action: ActionNotApplied, Reason: "encoding the entry failed"}, err
		}
		e.Calendar, e.Provenance = cal, prov
		stored, err := s.Put(ctx, owner, e)
		if err != nil {
			return Result{Action: ActionNotApplied, Reason: "storing the entry failed"}, fmt.Errorf("calendar: apply REQUEST %q for %s: %w", inv.UID, owner, err)
		}
		return Result{Action: ActionCreated, Entries: []Entry{stored}}, nil
	}

	res := Result{Action: ActionUpdated}
	if inv.Method == MethodCancel {
		res.Action = ActionCancelled
	}
	var errs []error
	for _, e := range mine {
		storedCals, _ := parseICS(e.Raw)
		var storedComps []*ical.Component
		if objs := groupObjects(storedCals); len(objs) > 0 {
			for _, o := range objs {
				if o.uid == inv.UID {
					storedComps = cloneComps(o.comps)
				}
			}
		}
		var comps []*ical.Component
		var changed bool
		rk := ridKeys{newTZResolver(append(slices.Clip(inv.cals), storedCals...))}
		if inv.Method == MethodCancel {
			comps, changed = applyCancel(storedComps, inv, rk)
		} else {
			comps, changed = applyRequest(storedComps, inv, owner, rk)
		}
		if !changed {
			res.Action = ActionStale
			res.Reason = fmt.Sprintf("SEQUENCE %d is lower than the stored one", inv.Sequence)
			continue
		}
		ne, err := buildEntry(inv.UID, comps, append(slices.Clip(inv.cals), storedCals...))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ne.Calendar, ne.ID, ne.Provenance = e.Calendar, e.ID, updatedProvenance(prov, e)
		stored, err := s.Put(ctx, owner, ne)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: apply %s %q for %s: %w", inv.Method, inv.UID, owner, err))
			continue
		}
		res.Entries = append(res.Entries, stored)
	}
	switch {
	case len(res.Entries) > 0 && res.Action == ActionStale:
		res.Action, res.Reason = ActionUpdated, ""
		if inv.Method == MethodCancel {
			res.Action = ActionCancelled
		}
	case len(res.Entries) == 0 && len(errs) > 0:
		res.Action, res.Reason = ActionNotApplied, "updating the entry failed"
	}
	return res, errors.Join(errs...)
}

// updatedProvenance is the provenance of the entry e after the invite of
// prov updated it: the creator stays e's (unknown stays unknown), and the
// version replaced becomes Previous unless the same message wrote it (an
// invite applied again keeps the version before it) or it is too large.
func updatedProvenance(prov Provenance, e Entry) Provenance {
	prov.CreatedBy = e.Provenance.CreatedBy
	switch {
	case prov.MessageID != "" && EqualMessageID(e.Provenance.MessageID, prov.MessageID):
		prov.Previous = e.Provenance.Clone().Previous
	case len(e.Raw) <= MaxPreviousSize:
		prov.Previous = &Revision{MessageID: e.Provenance.MessageID, Method: e.Provenance.Method, Raw: slices.Clone(e.Raw)}
	}
	return prov
}

// applyRequest merges a REQUEST into the stored components.
func applyRequest(stored []*ical.Component, inv *Invite, owner string, rk ridKeys) ([]*ical.Component, bool) {
	incoming := cloneComps(inv.obj.comps)
	for _, c := range incoming {
		markTentative(c, owner)
	}
	if inv.Entry.Master != nil {
		seq := inv.Entry.Master.Sequence
		if m := masterOf(stored); m != nil && (seq < compSequence(m) || seq == compSequence(m) && older(masterOf(incoming), m)) {
			return stored, false
		}
		// A cancelled series comes back only with a newer revision: a
		// REQUEST of the same SEQUENCE that is not later than the CANCEL
		// is an old message (applied again by a rescan, say).
		if m := masterOf(stored); m != nil && seq == compSequence(m) && isCancelled(m) &&
			!compStamp(masterOf(incoming)).After(compStamp(m)) {
			return stored, false
		}
		// The series update replaces the stored series, except
		// overrides the message does not carry that are newer than it
		// (Exchange sends occurrence updates as separate messages).
		in := rk.index(incoming)
		for _, c := range stored {
			if rid := rk.key(c); rid != "" && compSequence(c) > seq {
				if _, ok := in[rid]; !ok {
					incoming = append(incoming, c)
				}
			}
		}
		return incoming, true
	}
	changed := false
	idx := rk.index(stored)
	for _, c := range incoming {
		rid := rk.key(c)
		if i, ok := idx[rid]; ok {
			if older(c, stored[i]) {
				continue
			}
			stored[i] = c
		} else {
			if m := masterOf(stored); m != nil && compSequence(c) < compSequence(m) {
				continue
			}
			idx[rid] = len(stored)
			stored = append(stored, c)
		}
		changed = true
	}
	return stored, changed
}

// applyCancel marks the stored components cancelled as inv says.
func applyCancel(stored []*ical.Component, inv *Invite, rk ridKeys) ([]*ical.Component, bool) {
	if inv.Entry.Master != nil || len(inv.RecurrenceIDs) == 0 {
		first := inv.obj.comps[0]
		if mc := masterOf(inv.obj.comps); mc != nil {
			first = mc
		}
		if m := masterOf(stored); m != nil && (inv.Sequence < compSequence(m) ||
			inv.Sequence == compSequence(m) && older(first, m)) {
			return stored, false
		}
		for _, c := range stored {
			setProp(c, ical.PropStatus, string(ical.EventCancelled))
			if compSequence(c) < inv.Sequence {
				setProp(c, ical.PropSequence, strconv.Itoa(inv.Sequence))
			}
			stampNewer(c, first)
		}
		return stored, true
	}
	changed := false
	idx := rk.index(stored)
	for _, c := range cloneComps(inv.obj.comps) {
		rid := rk.key(c)
		if rid == "" {
			continue
		}
		if i, ok := idx[rid]; ok {
			if older(c, stored[i]) {
				continue
			}
			setProp(stored[i], ical.PropStatus, string(ical.EventCancelled))
			setProp(stored[i], ical.PropSequence, strconv.Itoa(compSequence(c)))
			stampNewer(stored[i], c)
		} else {
			setProp(c, ical.PropStatus, string(ical.EventCancelled))
			idx[rid] = len(stored)
			stored = append(stored, c)
		}
		changed = true
	}
	return stored, changed
}

func applyReply(ctx context.Context, s Store, owner string, inv *Invite, found []Entry) (Result, error) {
	var targets []Entry
	for _, e := range found {
		if e.UID == inv.UID && sameOrganizer(e.Organizer, owner) {
			targets = append(targets, e)
		}
	}
	if len(targets) == 0 {
		return Result{Action: ActionNoEntry, Reason: "no entry of UID " + strconv.Quote(inv.UID) + " organized by " + owner}, nil
	}
	res := Result{Action: ActionReplyApplied}
	var errs []error
	for _, e := range targets {
		storedCals, err := parseICS(e.Raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: reply %q for %s: stored entry: %w", inv.UID, owner, err))
			continue
		}
		var comps []*ical.Component
		for _, o := range groupObjects(storedCals) {
			if o.uid == inv.UID {
				comps = cloneComps(o.comps)
			}
		}
		changed := false
		rk := ridKeys{newTZResolver(append(slices.Clip(inv.cals), storedCals...))}
		idx := rk.index(comps)
		for _, rc := range inv.obj.comps {
			target := masterOf(comps)
			if rid := rk.key(rc); rid != "" {
				if i, ok := idx[rid]; ok {
					target = comps[i]
				}
			}
			if target == nil || compSequence(rc) < compSequence(target) {
				continue
			}
			for _, rp := range rc.Props.Values(ical.PropAttendee) {
				who := NormalizeAddress(rp.Value)
				ps := strings.ToUpper(strings.TrimSpace(rp.Params.Get(ical.ParamParticipationStatus)))
				if who == "" || ps == "" {
					continue
				}
				atts := target.Props[ical.PropAttendee]
				for i := range atts {
					if NormalizeAddress(atts[i].Value) == who {
						atts[i].Params.Set(ical.ParamParticipationStatus, ps)
						changed = true
					}
				}
			}
		}
		if !changed {
			continue
		}
		ne, err := buildEntry(inv.UID, comps, storedCals)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ne.Calendar, ne.ID, ne.Provenance = e.Calendar, e.ID, e.Provenance
		stored, err := s.Put(ctx, owner, ne)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: reply %q for %s: %w", inv.UID, owner, err))
			continue
		}
		res.Entries = append(res.Entries, stored)
	}
	switch {
	case len(res.Entries) == 0 && len(errs) == 0:
		return Result{Action: ActionStale, Reason: "the reply names no attendee of the entry, or is older than it"}, nil
	case len(res.Entries) == 0:
		res.Action, res.Reason = ActionNotApplied, "updating the entry failed"
	}
	return res, errors.Join(errs...)
}

// buildEntry encodes comps (with the VTIMEZONEs of cals they use) and
// decodes the result into an entry.
func buildEntry(uid string, comps []*ical.Component, cals []*ical.Component) (Entry, error) {
	o := &object{uid: uid, comps: comps}
	raw, err := encodeICS(o.calendar(cals))
	if err != nil {
		return Entry{}, fmt.Errorf("calendar: UID %q: %w", uid, err)
	}
	return DecodeEntry(raw)
}

// markTentative makes c what a delivered, unanswered invite is: STATUS
// TENTATIVE for a VEVENT (unless cancelled; a VTODO keeps its status) and
// the owner's PARTSTAT NEEDS-ACTION.
func markTentative(c *ical.Component, owner string) {
	if c.Name == ical.CompEvent && !strings.EqualFold(strings.TrimSpace(textValue(c.Props.Get(ical.PropStatus))), string(ical.EventCancelled)) {
		setProp(c, ical.PropStatus, string(ical.EventTentative))
	}
	atts := c.Props[ical.PropAttendee]
	for i := range atts {
		if NormalizeAddress(atts[i].Value) == owner {
			atts[i].Params.Set(ical.ParamParticipationStatus, "NEEDS-ACTION")
		}
	}
}

func setProp(c *ical.Component, name, value string) {
	c.Props.Set(&ical.Prop{Name: name, Params: ical.Params{}, Value: value})
}

func masterOf(comps []*ical.Component) *ical.Component {
	for _, c := range comps {
		if c.Props.Get(ical.PropRecurrenceID) == nil {
			return c
		}
	}
	return nil
}

// older reports whether the iTIP component c is an older revision than
// stored (RFC 5546 section 2.1.5): a lower SEQUENCE, or the same SEQUENCE
// and an earlier DTSTAMP. Of two with the same SEQUENCE and DTSTAMP (or
// without DTSTAMP) neither is older: the later applied wins.
func older(c, stored *ical.Component) bool {
	cs, ss := compSequence(c), compSequence(stored)
	if cs != ss {
		return cs < ss
	}
	ct, ss2 := compStamp(c), compStamp(stored)
	return !ct.IsZero() && !ss2.IsZero() && ct.Before(ss2)
}

// compStamp returns the DTSTAMP of c (UTC), or the zero time.
func compStamp(c *ical.Component) time.Time {
	p := c.Props.Get(ical.PropDateTimeStamp)
	if p == nil {
		return time.Time{}
	}
	t, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(strings.TrimSpace(p.Value), "Z"), time.UTC)
	if err != nil {
		return time.Time{}
	}
	return t
}

func isCancelled(c *ical.Component) bool {
	return strings.EqualFold(strings.TrimSpace(textValue(c.Props.Get(ical.PropStatus))), string(ical.EventCancelled))
}

// stampNewer sets the DTSTAMP of stored to that of c when c's is later, so
// that the stored component records the latest message applied to it.
func stampNewer(stored, c *ical.Component) {
	if ct := compStamp(c); !ct.IsZero() && ct.After(compStamp(stored)) {
		setProp(stored, ical.PropDateTimeStamp, ct.Format("20060102T150405Z"))
	}
}

func compSequence(c *ical.Component) int {
	if p := c.Props.Get(ical.PropSequence); p != nil {
		return parseSequence(p.Value)
	}
	return 0
}

// ridKeys names components by their RECURRENCE-ID (RFC 5546 section
// 2.1.5: UID and RECURRENCE-ID identify a component), read as an instant
// with the zones of the texts involved.
type ridKeys struct{ tz *tzResolver }

// key returns the RECURRENCE-ID of c in a canonical text form, "" for a
// master.
func (r ridKeys) key(c *ical.Component) string {
	p := c.Props.Get(ical.PropRecurrenceID)
	if p == nil {
		return ""
	}
	t, _, ok := r.tz.parseTime(p, p.Value)
	if !ok {
		return "raw:" + strings.TrimSpace(p.Value)
	}
	return t.UTC().Format(time.RFC3339)
}

// index maps the keys of the overrides among comps to their positions
// (the first of duplicates).
func (r ridKeys) index(comps []*ical.Component) map[string]int {
	m := make(map[string]int, len(comps))
	for i, c := range comps {
		if k := r.key(c); k != "" {
			if _, dup := m[k]; !dup {
				m[k] = i
			}
		}
	}
	return m
}

func cloneComps(cs []*ical.Component) []*ical.Component {
	out := make([]*ical.Component, len(cs))
	for i, c := range cs {
		out[i] = cloneComp(c)
	}
	return out
}

func cloneComp(c *ical.Component) *ical.Component {
	n := &ical.Component{Name: c.Name, Props: make(ical.Props, len(c.Props))}
	for k, ps := range c.Props {
		cp := make([]ical.Prop, len(ps))
		for i, p := range ps {
			cp[i] = ical.Prop{Name: p.Name, Value: p.Value, Params: make(ical.Params, len(p.Params))}
			for pk, pv := range p.Params {
				cp[i].Params[pk] = slices.Clone(pv)
			}
		}
		n.Props[k] = cp
	}
	for _, ch := range c.Children {
		n.Children = append(n.Children, cloneComp(ch))
	}
	return n
}

func sameOrganizer(a, b string) bool {
	return NormalizeAddress(a) == NormalizeAddress(b)
}

// entryOrganizer is the organizer an invite entry was recorded with.
func entryOrganizer(e Entry) string {
	if e.Provenance.Organizer != "" {
		return e.Provenance.Organizer
	}
	return e.Organizer
}

func kindName(k ProvenanceKind) string {
	if k == ProvenanceUnknown {
		return "unknown"
	}
	return string(k)
}

// AppliedMethod reports whether [ApplyInvite] applies an invite of the
// iTIP method (upper-case): REQUEST, CANCEL and REPLY. Other methods, and
// none (a plain iCalendar file), change no calendar on delivery.
func AppliedMethod(method string) bool {
	switch method {
	case MethodRequest, MethodCancel, MethodReply:
		return true
	}
	return false
}
