package caldavstore

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/emersion/go-ical"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/msgid"
)

// PropProvenance is the iCalendar property that carries an entry's
// provenance on every VEVENT of a stored object. Its format is documented
// in the package overview.
const PropProvenance = "X-ERADICATE-PROVENANCE"

// provenanceVersion is the value of the "v" field.
const provenanceVersion = "1"

// encodeProvenance returns the value of PropProvenance for p on the entry
// uid, signed with key when key is not empty.
func encodeProvenance(p calendar.Provenance, uid string, key []byte) string {
	var b strings.Builder
	b.WriteString("v=" + provenanceVersion)
	field := func(name, value string) {
		if value != "" {
			b.WriteString("&" + name + "=" + url.QueryEscape(value))
		}
	}
	field("kind", string(p.Kind))
	field("message-id", p.MessageID)
	field("organizer", p.Organizer)
	field("method", p.Method)
	field("series-uid", p.SeriesUID)
	field("attachment", p.Attachment)
	field("created-by", p.CreatedBy)
	if p.Previous != nil {
		b.WriteString("&prev=1")
		field("prev-message-id", p.Previous.MessageID)
		field("prev-method", p.Previous.Method)
		field("prev-raw", base64.RawURLEncoding.EncodeToString(p.Previous.Raw))
	}
	if p.MessageID != "" {
		b.WriteString("&match=" + messageIDKey(p.MessageID))
	}
	b.WriteString("&sig=")
	if len(key) > 0 {
		b.WriteString(signProvenance(p, uid, key))
	}
	return b.String()
}

// decodeProvenance reads a PropProvenance value. It returns the zero
// Provenance (unknown) when the value is malformed, of another version, or
// — with a key — not signed by key for uid.
func decodeProvenance(value, uid string, key []byte) calendar.Provenance {
	vals, err := url.ParseQuery(value)
	if err != nil || vals.Get("v") != provenanceVersion {
		return calendar.Provenance{}
	}
	p := calendar.Provenance{
		Kind:       calendar.ProvenanceKind(vals.Get("kind")),
		MessageID:  vals.Get("message-id"),
		Organizer:  vals.Get("organizer"),
		Method:     vals.Get("method"),
		SeriesUID:  vals.Get("series-uid"),
		Attachment: vals.Get("attachment"),
		CreatedBy:  vals.Get("created-by"),
	}
	if vals.Get("prev") == "1" {
		raw, err := base64.RawURLEncoding.DecodeString(vals.Get("prev-raw"))
		if err != nil || len(raw) > calendar.MaxPreviousSize {
			return calendar.Provenance{}
		}
		p.Previous = &calendar.Revision{MessageID: vals.Get("prev-message-id"), Method: vals.Get("prev-method"), Raw: raw}
	}
	switch p.Kind {
	case calendar.ProvenanceInvite, calendar.ProvenanceImported, calendar.ProvenanceUser:
	default:
		return calendar.Provenance{}
	}
	if len(key) > 0 {
		want := signProvenance(p, uid, key)
		if !hmac.Equal([]byte(vals.Get("sig")), []byte(want)) {
			return calendar.Provenance{}
		}
	}
	return p
}

// signScope is what a provenance signature is bound to besides the
// provenance itself: the calendar owner and the entry's UID. A signed
// property copied into another owner's calendar, or onto an event of
// another UID, does not verify there.
func signScope(owner, uid string) string {
	return strings.ToLower(strings.TrimSpace(owner)) + "\x00" + uid
}

// signProvenance returns the hex HMAC-SHA256 (first 128 bits) of p and
// scope (signScope). The creator and the previous version (its text by
// its SHA-256) are signed only when set, so that a signature made before
// they were recorded still verifies.
func signProvenance(p calendar.Provenance, scope string, key []byte) string {
	m := hmac.New(sha256.New, key)
	fields := []string{"eradicate-provenance-v2", scope, string(p.Kind), p.MessageID, p.Organizer, p.Method, p.SeriesUID, p.Attachment}
	if p.CreatedBy != "" {
		fields = append(fields, "created-by", p.CreatedBy)
	}
	if p.Previous != nil {
		sum := sha256.Sum256(p.Previous.Raw)
		fields = append(fields, "previous", p.Previous.MessageID, p.Previous.Method, hex.EncodeToString(sum[:]))
	}
	for _, s := range fields {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// messageIDKey is the lower-case form of a message id written to the
// "match" field, which server-side filters search for.
func messageIDKey(id string) string {
	return strings.ToLower(url.QueryEscape(msgid.Normalize(id)))
}

// messageIDFilterText is the text a calendar-query text-match looks for to
// find entries whose provenance names the message id.
func messageIDFilterText(id string) string {
	return "&match=" + messageIDKey(id) + "&sig="
}

// setProvenance removes every PropProvenance from the events of cal and,
// unless p is unknown, writes p on every VEVENT: whole on the one
// readProvenance reads (the master, else the first VEVENT), without
// Previous on the others, so the previous version is stored once. The
// previous version is stored without its own provenance properties, so
// versions do not nest.
func setProvenance(cal *ical.Calendar, p calendar.Provenance, uid string, key []byte) {
	stripProvenance(cal.Component)
	if p.Kind == calendar.ProvenanceUnknown {
		return
	}
	p = p.Clone()
	if p.Previous != nil {
		p.Previous.Raw = stripProvenanceText(p.Previous.Raw)
		if len(p.Previous.Raw) > calendar.MaxPreviousSize {
			p.Previous = nil
		}
	}
	short := p
	short.Previous = nil
	full, rest := encodeProvenance(p, uid, key), encodeProvenance(short, uid, key)
	var main *ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent && (main == nil || c.Props.Get(ical.PropRecurrenceID) == nil && main.Props.Get(ical.PropRecurrenceID) != nil) {
			main = c
		}
	}
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent {
			continue
		}
		prop := ical.NewProp(PropProvenance)
		prop.Value = rest
		if c == main {
			prop.Value = full
		}
		c.Props.Set(prop)
	}
}

// stripProvenanceText returns raw without its provenance properties; raw
// as given when it cannot be read.
func stripProvenanceText(raw []byte) []byte {
	if !bytes.Contains(bytes.ToUpper(raw), []byte(PropProvenance)) {
		return raw
	}
	cal, err := parseICal(raw)
	if err != nil {
		return raw
	}
	stripProvenance(cal.Component)
	out, err := encodeICal(cal)
	if err != nil {
		return raw
	}
	return out
}

func stripProvenance(c *ical.Component) {
	for name := range c.Props {
		if strings.EqualFold(name, PropProvenance) {
			delete(c.Props, name)
		}
	}
	for _, child := range c.Children {
		stripProvenance(child)
	}
}

// readProvenance returns the provenance of an object: that of the master
// VEVENT when there is one, else that of the first VEVENT carrying one.
func readProvenance(cal *ical.Calendar, uid string, key []byte) calendar.Provenance {
	var first *ical.Component
	for _, c := range cal.Children {
		if c.Name != ical.CompEvent || c.Props.Get(PropProvenance) == nil {
			continue
		}
		if c.Props.Get(ical.PropRecurrenceID) == nil {
			return decodeProvenance(c.Props.Get(PropProvenance).Value, uid, key)
		}
		if first == nil {
			first = c
		}
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent && c.Props.Get(ical.PropRecurrenceID) == nil {
			// A master without provenance: unknown, whatever the overrides say.
			return calendar.Provenance{}
		}
	}
	if first == nil {
		return calendar.Provenance{}
	}
	return decodeProvenance(first.Props.Get(PropProvenance).Value, uid, key)
}
