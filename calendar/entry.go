package calendar

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/eradicate-dev/eradicate/internal/msgid"
)

// Decode reads iCalendar text into entries, one per UID, in the order the
// UIDs first appear. Each entry's Raw is a calendar object holding only
// that UID's VEVENT (or VTODO) components and the VTIMEZONEs they use,
// without METHOD, as a store keeps it; Calendar, ID and Provenance are
// left zero. Components without a UID are skipped; text without any UID is
// an error wrapping [ErrInvalid], as is text beyond the package limits
// ([MaxSize], [MaxLines], [MaxComponents]). Decode is lenient about the
// quirks of real calendar programs (see the package documentation).
func Decode(raw []byte) ([]Entry, error) {
	cals, err := parseICS(raw)
	if err != nil {
		return nil, err
	}
	objs := groupObjects(cals)
	if len(objs) == 0 {
		return nil, fmt.Errorf("%w: no VEVENT or VTODO with a UID", ErrInvalid)
	}
	tz := newTZResolver(cals)
	out := make([]Entry, 0, len(objs))
	for _, o := range objs {
		e := o.entry(tz)
		b, err := encodeICS(o.calendar(cals))
		if err != nil {
			return nil, fmt.Errorf("calendar: UID %q: %w", o.uid, err)
		}
		e.Raw = b
		out = append(out, e)
	}
	return out, nil
}

// DecodeEntry reads one stored calendar object: iCalendar text whose
// components share one UID. The entry's Raw is raw itself. Text with no
// UID or with several is an error wrapping [ErrInvalid]. Backends use it to
// turn what they stored back into an [Entry].
func DecodeEntry(raw []byte) (Entry, error) {
	cals, err := parseICS(raw)
	if err != nil {
		return Entry{}, err
	}
	objs := groupObjects(cals)
	switch len(objs) {
	case 0:
		return Entry{}, fmt.Errorf("%w: no VEVENT or VTODO with a UID", ErrInvalid)
	case 1:
	default:
		return Entry{}, fmt.Errorf("%w: a calendar object with %d UIDs", ErrInvalid, len(objs))
	}
	e := objs[0].entry(newTZResolver(cals))
	e.Raw = raw
	return e, nil
}

// Encode writes the iCalendar text of e from its fields: UID, Master and
// Overrides (one VEVENT each). It ignores e.Raw, e.Calendar, e.ID and
// e.Provenance. Date-times are written in UTC, or as dates when AllDay is
// set; DTSTAMP is the occurrence's start (or the Unix epoch), so the
// output depends only on e. An entry without UID or without any
// occurrence is an error wrapping [ErrInvalid]. Decode(Encode(e)) gives
// back the same fields, with times in UTC.
func Encode(e Entry) ([]byte, error) {
	if e.UID == "" {
		return nil, fmt.Errorf("%w: entry without UID", ErrInvalid)
	}
	if e.Master == nil && len(e.Overrides) == 0 {
		return nil, fmt.Errorf("%w: entry %q has no occurrence", ErrInvalid, e.UID)
	}
	cal := ical.NewComponent(ical.CompCalendar)
	if e.Master != nil {
		m := *e.Master
		m.RecurrenceID = time.Time{}
		cal.Children = append(cal.Children, encodeOccurrence(e, m))
	}
	for _, o := range e.Overrides {
		if o.RecurrenceID.IsZero() {
			return nil, fmt.Errorf("%w: entry %q: override without RecurrenceID", ErrInvalid, e.UID)
		}
		cal.Children = append(cal.Children, encodeOccurrence(e, o))
	}
	return encodeICS(cal)
}

func encodeOccurrence(e Entry, o Occurrence) *ical.Component {
	c := ical.NewComponent(ical.CompEvent)
	c.Props.Set(&ical.Prop{Name: ical.PropUID, Params: ical.Params{}, Value: escapeTextBytes(e.UID)})
	stamp := time.Unix(0, 0).UTC()
	if !o.Start.IsZero() {
		stamp = o.Start.UTC()
	}
	setTime(c.Props, ical.PropDateTimeStamp, stamp, false)
	if !o.RecurrenceID.IsZero() {
		setTime(c.Props, ical.PropRecurrenceID, o.RecurrenceID, o.AllDay)
	}
	c.Props.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.Itoa(max(o.Sequence, 0))})
	if o.Summary != "" {
		c.Props.SetText(ical.PropSummary, o.Summary)
	}
	if !o.Start.IsZero() {
		setTime(c.Props, ical.PropDateTimeStart, o.Start, o.AllDay)
	}
	if !o.End.IsZero() {
		setTime(c.Props, ical.PropDateTimeEnd, o.End, o.AllDay)
	}
	if o.Status != "" {
		c.Props.SetText(ical.PropStatus, strings.ToUpper(o.Status))
	}
	org := o.Organizer
	if org == "" {
		org = e.Organizer
	}
	if org != "" {
		c.Props.Set(&ical.Prop{Name: ical.PropOrganizer, Params: ical.Params{}, Value: "mailto:" + org})
	}
	for _, a := range o.Attendees {
		p := ical.Prop{Name: ical.PropAttendee, Params: ical.Params{}, Value: "mailto:" + a.Email}
		if a.Name != "" {
			p.Params.Set(ical.ParamCommonName, a.Name)
		}
		if a.PartStat != "" {
			p.Params.Set(ical.ParamParticipationStatus, a.PartStat)
		}
		if a.Role != "" {
			p.Params.Set(ical.ParamRole, a.Role)
		}
		c.Props.Add(&p)
	}
	if o.RRule != "" {
		c.Props.Set(&ical.Prop{Name: ical.PropRecurrenceRule, Params: ical.Params{}, Value: o.RRule})
	}
	for _, x := range o.ExDates {
		p := ical.Prop{Name: ical.PropExceptionDates, Params: ical.Params{}}
		if o.AllDay {
			p.SetDate(x)
		} else {
			p.Value = x.UTC().Format("20060102T150405Z")
		}
		c.Props.Add(&p)
	}
	return c
}

func setTime(props ical.Props, name string, t time.Time, allDay bool) {
	p := ical.Prop{Name: name, Params: ical.Params{}}
	if allDay {
		p.SetDate(t)
	} else {
		p.Value = t.UTC().Format("20060102T150405Z")
	}
	props.Set(&p)
}

// Normalize prepares e for storing, as every [Store.Put] does: when e.Raw
// is empty it is set by [Encode]; then the occurrence fields are read
// again from Raw with [DecodeEntry], so that the fields a store returns are
// always those of the text it keeps. Calendar, ID and Provenance are kept.
// A Raw whose UID differs from a non-empty e.UID, or with several UIDs,
// is an error wrapping [ErrInvalid].
func Normalize(e Entry) (Entry, error) {
	raw := e.Raw
	if len(raw) == 0 {
		b, err := Encode(e)
		if err != nil {
			return Entry{}, err
		}
		raw = b
	}
	d, err := DecodeEntry(raw)
	if err != nil {
		return Entry{}, err
	}
	if e.UID != "" && d.UID != e.UID {
		return Entry{}, fmt.Errorf("%w: entry UID %q but its iCalendar has UID %q", ErrInvalid, e.UID, d.UID)
	}
	d.Calendar, d.ID, d.Provenance = e.Calendar, e.ID, e.Provenance
	d.Raw = slices.Clone(raw)
	return d, nil
}

// NormalizeAddress returns the form of a calendar user address that
// entries hold and that comparisons use: without a "mailto:" prefix (any
// case), trimmed, lower-cased.
func NormalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = strings.TrimSpace(s[7:])
	}
	return strings.ToLower(strings.Trim(s, "<>"))
}

// trimMessageID returns a Message-ID as provenance keeps it: as the
// message wrote it, without surrounding space and angle brackets. It is
// not a comparison form: [EqualMessageID] is.
func trimMessageID(s string) string { return msgid.Trim(s) }

// NormalizeMessageID returns the comparison form of a Message-ID by the
// one Message-ID rule of eradicate, the same as mailbox.NormalizeMessageID:
// without surrounding space and one pair of angle brackets, lower-cased.
// Two ids name the same message when their forms are equal and not empty
// ([EqualMessageID]). Provenance keeps the id as the message wrote it
// (trimmed); this is the form to compare it in.
//
// Deprecated: use mailbox.NormalizeMessageID, which gives the same
// result; this name stays for existing callers.
func NormalizeMessageID(id string) string { return msgid.Normalize(id) }

// EqualMessageID reports whether a and b name the same message by the
// rule of mailbox.NormalizeMessageID (the one Message-ID rule of
// eradicate): equal without surrounding space and angle brackets,
// lower-cased. Empty ids are never equal.
func EqualMessageID(a, b string) bool {
	a, b = msgid.Normalize(a), msgid.Normalize(b)
	return a != "" && a == b
}

// object is the components of one UID across the calendars of a text.
type object struct {
	uid   string
	comps []*ical.Component
}

func groupObjects(cals []*ical.Component) []*object {
	var order []*object
	byUID := map[string]*object{}
	for _, cal := range cals {
		for _, c := range cal.Children {
			if c.Name != ical.CompEvent && c.Name != ical.CompToDo {
				continue
			}
			p := c.Props.Get(ical.PropUID)
			if p == nil {
				continue
			}
			uid := strings.TrimSpace(textValue(p))
			if uid == "" {
				continue
			}
			o := byUID[uid]
			if o == nil {
				o = &object{uid: uid}
				byUID[uid] = o
				order = append(order, o)
			}
			o.comps = append(o.comps, c)
		}
	}
	return order
}

// calendar returns a VCALENDAR with the object's components and the
// VTIMEZONEs they reference, without METHOD.
func (o *object) calendar(cals []*ical.Component) *ical.Component {
	cal := ical.NewComponent(ical.CompCalendar)
	for _, src := range cals {
		for _, name := range []string{ical.PropProductID, ical.PropVersion, ical.PropCalendarScale} {
			if cal.Props.Get(name) == nil {
				if p := src.Props.Get(name); p != nil {
					cal.Props.Set(p)
				}
			}
		}
	}
	used := map[string]bool{}
	for _, c := range o.comps {
		for _, props := range c.Props {
			for _, p := range props {
				if id := cleanTZID(p.Params.Get(ical.PropTimezoneID)); id != "" {
					used[id] = true
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, src := range cals {
		for _, c := range src.Children {
			if c.Name != ical.CompTimezone {
				continue
			}
			p := c.Props.Get(ical.PropTimezoneID)
			if p == nil {
				continue
			}
			id := cleanTZID(textValue(p))
			if used[id] && !seen[id] {
				seen[id] = true
				cal.Children = append(cal.Children, c)
			}
		}
	}
	cal.Children = append(cal.Children, o.comps...)
	return cal
}

// entry builds the fields of the object's Entry (Raw is left to the
// caller). Of several masters the one with the highest SEQUENCE wins; of
// several overrides of one RECURRENCE-ID likewise.
func (o *object) entry(tz *tzResolver) Entry {
	e := Entry{UID: o.uid}
	byRID := map[time.Time]int{}
	for _, c := range o.comps {
		occ := occurrenceOf(c, tz)
		if occ.RecurrenceID.IsZero() {
			if e.Master == nil || occ.Sequence >= e.Master.Sequence {
				m := occ
				e.Master = &m
			}
			continue
		}
		key := occ.RecurrenceID.UTC()
		if i, ok := byRID[key]; ok {
			if occ.Sequence >= e.Overrides[i].Sequence {
				e.Overrides[i] = occ
			}
			continue
		}
		byRID[key] = len(e.Overrides)
		e.Overrides = append(e.Overrides, occ)
	}
	slices.SortStableFunc(e.Overrides, func(a, b Occurrence) int { return a.RecurrenceID.Compare(b.RecurrenceID) })
	switch {
	case e.Master != nil && e.Master.Organizer != "":
		e.Organizer = e.Master.Organizer
	default:
		for _, ov := range e.Overrides {
			if ov.Organizer != "" {
				e.Organizer = ov.Organizer
				break
			}
		}
	}
	return e
}

// occurrenceOf reads one VEVENT or VTODO. Unreadable values are left zero.
func occurrenceOf(c *ical.Component, tz *tzResolver) Occurrence {
	var o Occurrence
	if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
		o.RecurrenceID, _, _ = tz.parseTime(p, p.Value)
	}
	if p := c.Props.Get(ical.PropSequence); p != nil {
		o.Sequence = parseSequence(p.Value)
	}
	o.Summary = textValue(c.Props.Get(ical.PropSummary))
	var allDay bool
	if p := c.Props.Get(ical.PropDateTimeStart); p != nil {
		o.Start, allDay, _ = tz.parseTime(p, p.Value)
		o.AllDay = allDay && !o.Start.IsZero()
	}
	endName := ical.PropDateTimeEnd
	if c.Name == ical.CompToDo {
		endName = ical.PropDue
	}
	if p := c.Props.Get(endName); p != nil {
		o.End, _, _ = tz.parseTime(p, p.Value)
	} else if p := c.Props.Get(ical.PropDuration); p != nil && !o.Start.IsZero() {
		if d, err := p.Duration(); err == nil {
			o.End = o.Start.Add(d)
		}
	} else if o.AllDay {
		o.End = o.Start.AddDate(0, 0, 1)
	}
	o.Status = strings.ToUpper(strings.TrimSpace(textValue(c.Props.Get(ical.PropStatus))))
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		o.Organizer = NormalizeAddress(p.Value)
	}
	for _, p := range c.Props.Values(ical.PropAttendee) {
		o.Attendees = append(o.Attendees, attendeeOf(p))
	}
	if p := c.Props.Get(ical.PropRecurrenceRule); p != nil {
		o.RRule = strings.TrimSpace(p.Value)
	}
	n := 0
	for _, p := range c.Props.Values(ical.PropExceptionDates) {
		for _, v := range strings.SplitN(p.Value, ",", maxListValues+1) {
			if n >= maxListValues {
				break
			}
			if t, _, ok := tz.parseTime(&p, v); ok {
				o.ExDates = append(o.ExDates, t)
				n++
			}
		}
	}
	return o
}

func attendeeOf(p ical.Prop) Attendee {
	return Attendee{
		Email:    NormalizeAddress(p.Value),
		Name:     strings.TrimSpace(p.Params.Get(ical.ParamCommonName)),
		PartStat: strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamParticipationStatus))),
		Role:     strings.ToUpper(strings.TrimSpace(p.Params.Get(ical.ParamRole))),
	}
}

func parseSequence(v string) int {
	v = strings.TrimSpace(v)
	n := 0
	for i := 0; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		n = n*10 + int(v[i]-'0')
		if n > 1<<30 {
			return 1 << 30
		}
	}
	return n
}

// textValue reads a TEXT value (RFC 5545 section 3.3.11) as one string:
// unescaped commas are kept (go-ical's Text would cut the value there), an
// invalid escape keeps its character.
// escapeTextBytes escapes s as an iCalendar TEXT value (RFC 5545 section
// 3.3.11) byte by byte: unlike go-ical's SetText it keeps bytes that are
// not UTF-8 as they are, so that a UID read from hostile text is written
// back unchanged and names the same object.
func escapeTextBytes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func textValue(p *ical.Prop) string {
	if p == nil {
		return ""
	}
	if !strings.ContainsRune(p.Value, '\\') {
		return p.Value
	}
	var b strings.Builder
	v := p.Value
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(v[i])
			}
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
