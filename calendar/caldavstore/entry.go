package caldavstore

import (
	"bytes"
	"fmt"
	"time"

	"github.com/emersion/go-ical"

	"github.com/eradicate-dev/eradicate/calendar"
)

// prodID is the PRODID written on objects that lack one.
const prodID = "-//eradicate//caldavstore//EN"

// parseICal reads one iCalendar object.
func parseICal(raw []byte) (*ical.Calendar, error) {
	cal, err := ical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", calendar.ErrInvalid, err)
	}
	return cal, nil
}

// encodeICal writes cal.
func encodeICal(cal *ical.Calendar) ([]byte, error) {
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("%w: %v", calendar.ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

// objectBody returns the iCalendar text Put stores for e and its UID: the
// text of [calendar.Normalize] (e.Raw, or e's fields encoded), as a
// calendar resource (no METHOD, RFC 4791 section 4.1; VERSION, PRODID and
// DTSTAMP present), with the provenance property of every VEVENT replaced
// by e.Provenance.
func (s *Store) objectBody(owner string, e calendar.Entry) ([]byte, string, error) {
	n, err := calendar.Normalize(e)
	if err != nil {
		return nil, "", err
	}
	cal, err := parseICal(n.Raw)
	if err != nil {
		return nil, "", err
	}
	cal.Props.Del(ical.PropMethod)
	if cal.Props.Get(ical.PropVersion) == nil {
		cal.Props.SetText(ical.PropVersion, "2.0")
	}
	if cal.Props.Get(ical.PropProductID) == nil {
		cal.Props.SetText(ical.PropProductID, prodID)
	}
	events := 0
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		events++
		if c.Props.Get(ical.PropDateTimeStamp) == nil {
			c.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC())
		}
	}
	if events == 0 {
		return nil, "", fmt.Errorf("%w: entry %q has no VEVENT", calendar.ErrInvalid, n.UID)
	}
	setProvenance(cal, e.Provenance, signScope(owner, n.UID), s.opts.ProvenanceKey)
	body, err := encodeICal(cal)
	if err != nil {
		return nil, "", err
	}
	return body, n.UID, nil
}

// decodeEntry reads an Entry from a stored object: its fields with
// [calendar.DecodeEntry], its provenance from the provenance property.
func (s *Store) decodeEntry(owner string, raw []byte) (calendar.Entry, error) {
	e, err := calendar.DecodeEntry(raw)
	if err != nil {
		return calendar.Entry{}, err
	}
	cal, err := parseICal(raw)
	if err != nil {
		return calendar.Entry{}, err
	}
	e.Provenance = readProvenance(cal, signScope(owner, e.UID), s.opts.ProvenanceKey)
	return e, nil
}
