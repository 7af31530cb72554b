package calendar

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emersion/go-ical"
)

// Limits on the iCalendar text the package reads. Input beyond them is
// refused with an error wrapping [ErrInvalid]; nothing is ever expanded
// (recurrence rules are kept as text, never enumerated).
const (
	// MaxSize is the largest iCalendar text accepted, in bytes.
	MaxSize = 4 << 20
	// MaxLines is the largest number of unfolded content lines accepted.
	MaxLines = 100_000
	// MaxComponents is the largest number of VEVENT and VTODO components
	// (masters and overrides, over every UID) accepted in one text.
	MaxComponents = 5_000
	// maxDepth is the deepest nesting of components accepted.
	maxDepth = 8
	// maxListValues caps the values read from one list property (EXDATE).
	maxListValues = 2_000
)

// parseICS reads raw iCalendar text into its VCALENDAR components,
// leniently: CRLF, LF or CR line ends, folded lines (RFC 5545 section
// 3.1), a byte order mark, unparseable content lines (skipped), END lines
// that close the wrong component or are missing at the end of the text,
// and bare VEVENT or VTODO components without a VCALENDAR around them. It
// never panics and allocates in proportion to the input.
func parseICS(raw []byte) ([]*ical.Component, error) {
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d byte limit", ErrInvalid, len(raw), MaxSize)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(raw, '\r') >= 0 {
		// CRLF, LF and a lone CR all end a line.
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	}

	p := icsParser{}
	var logical []byte
	flush := func() error {
		if len(logical) == 0 {
			return nil
		}
		p.lines++
		if p.lines > MaxLines {
			return fmt.Errorf("%w: more than %d content lines", ErrInvalid, MaxLines)
		}
		err := p.line(string(logical))
		logical = logical[:0]
		return err
	}
	for len(raw) > 0 {
		var line []byte
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			line, raw = raw, nil
		}
		if len(line) == 0 {
			// Blank lines (also from CR CR LF) neither end nor
			// continue a logical line.
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(logical) > 0 {
				logical = append(logical, line[1:]...)
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		logical = append(logical, line...)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	p.closeAll()
	if len(p.cals) == 0 {
		return nil, fmt.Errorf("%w: no VCALENDAR object", ErrInvalid)
	}
	return p.cals, nil
}

// icsParser builds the component tree line by line.
type icsParser struct {
	stack []*ical.Component
	cals  []*ical.Component
	lines int
	comps int
	bad   int
}

func (p *icsParser) line(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	prop, err := parseContentLine(s)
	if err != nil {
		// Real-world senders emit stray lines (unescaped newlines in a
		// description, HTML fragments): skip them.
		p.bad++
		return nil
	}
	switch prop.Name {
	case "BEGIN":
		name := strings.ToUpper(strings.TrimSpace(prop.Value))
		if name == "" {
			p.bad++
			return nil
		}
		if len(p.stack) >= maxDepth {
			return fmt.Errorf("%w: components nested deeper than %d", ErrInvalid, maxDepth)
		}
		if name == ical.CompEvent || name == ical.CompToDo {
			p.comps++
			if p.comps > MaxComponents {
				return fmt.Errorf("%w: more than %d VEVENT/VTODO components", ErrInvalid, MaxComponents)
			}
		}
		c := ical.NewComponent(name)
		if len(p.stack) == 0 && name != ical.CompCalendar {
			if name != ical.CompEvent && name != ical.CompToDo {
				// Something other than a calendar at the top: ignore
				// its content by parking it on the stack unattached.
				p.stack = append(p.stack, c)
				return nil
			}
			// A bare VEVENT: give it a VCALENDAR.
			cal := ical.NewComponent(ical.CompCalendar)
			p.cals = append(p.cals, cal)
			cal.Children = append(cal.Children, c)
			p.stack = append(p.stack, cal, c)
			return nil
		}
		if len(p.stack) == 0 {
			p.cals = append(p.cals, c)
		} else {
			parent := p.stack[len(p.stack)-1]
			parent.Children = append(parent.Children, c)
		}
		p.stack = append(p.stack, c)
	case "END":
		name := strings.ToUpper(strings.TrimSpace(prop.Value))
		for i := len(p.stack) - 1; i >= 0; i-- {
			if p.stack[i].Name == name {
				p.stack = p.stack[:i]
				break
			}
		}
	default:
		if len(p.stack) == 0 {
			return nil
		}
		c := p.stack[len(p.stack)-1]
		c.Props[prop.Name] = append(c.Props[prop.Name], *prop)
	}
	return nil
}

func (p *icsParser) closeAll() { p.stack = nil }

func isNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// parseContentLine reads one unfolded content line (RFC 5545 section 3.1)
// in linear time. Parameter values may be quoted; an unquoted value that
// contains a double quote is taken as written.
func parseContentLine(s string) (*ical.Prop, error) {
	i := 0
	for i < len(s) && isNameChar(s[i]) {
		i++
	}
	if i == 0 {
		return nil, fmt.Errorf("%w: content line without a property name", ErrInvalid)
	}
	prop := &ical.Prop{Name: strings.ToUpper(s[:i]), Params: make(ical.Params)}
	for i < len(s) && s[i] == ';' {
		i++
		j := i
		for i < len(s) && s[i] != '=' && s[i] != ':' && s[i] != ';' {
			i++
		}
		name := strings.ToUpper(strings.TrimSpace(s[j:i]))
		if i >= len(s) {
			return nil, fmt.Errorf("%w: property %s: missing colon", ErrInvalid, prop.Name)
		}
		if s[i] != '=' {
			// A parameter without a value ("RSVP;"), or a trailing ";".
			continue
		}
		i++
		var values []string
		for {
			var v string
			if i < len(s) && s[i] == '"' {
				k := strings.IndexByte(s[i+1:], '"')
				if k < 0 {
					return nil, fmt.Errorf("%w: property %s: unterminated quoted parameter", ErrInvalid, prop.Name)
				}
				v = s[i+1 : i+1+k]
				i += k + 2
				for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != ':' {
					i++
				}
			} else {
				j := i
				for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != ':' {
					i++
				}
				v = s[j:i]
			}
			values = append(values, v)
			if i < len(s) && s[i] == ',' {
				i++
				continue
			}
			break
		}
		if name == "" {
			continue
		}
		if name == ical.PropTimezoneID {
			// Unquoted Windows zone names contain commas
			// ("Sarajevo, Skopje, Warsaw, Zagreb").
			values = []string{strings.Join(values, ",")}
		}
		prop.Params[name] = append(prop.Params[name], values...)
	}
	if i >= len(s) || s[i] != ':' {
		return nil, fmt.Errorf("%w: property %s: missing colon", ErrInvalid, prop.Name)
	}
	prop.Value = s[i+1:]
	return prop, nil
}

// encodeICS writes cal as iCalendar text with go-ical's encoder after
// making it encodable: properties that may occur once keep their first
// occurrence, missing required properties are filled in, parameter values
// lose double quotes and values lose CR and LF, and components a calendar
// object does not hold (or that are broken, such as a VTIMEZONE without
// observances) are dropped.
func encodeICS(cal *ical.Component) ([]byte, error) {
	c := sanitize(cal)
	if c == nil || len(c.Children) == 0 {
		return nil, fmt.Errorf("%w: nothing to encode", ErrInvalid)
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(&ical.Calendar{Component: c}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return buf.Bytes(), nil
}

var atMostOnce = map[string][]string{
	ical.CompCalendar: {ical.PropProductID, ical.PropVersion, ical.PropCalendarScale, ical.PropMethod, ical.PropUID,
		ical.PropLastModified, ical.PropURL, ical.PropRefreshInterval, ical.PropSource, ical.PropColor},
	ical.CompEvent: {ical.PropDateTimeStamp, ical.PropUID, ical.PropDateTimeStart, ical.PropClass, ical.PropCreated,
		ical.PropDescription, ical.PropGeo, ical.PropLastModified, ical.PropLocation, ical.PropOrganizer,
		ical.PropPriority, ical.PropRecurrenceRule, ical.PropSequence, ical.PropStatus, ical.PropSummary,
		ical.PropTransparency, ical.PropURL, ical.PropRecurrenceID, ical.PropDateTimeEnd, ical.PropDuration,
		ical.PropColor},
	ical.CompToDo: {ical.PropDateTimeStamp, ical.PropUID, ical.PropClass, ical.PropCompleted, ical.PropCreated,
		ical.PropDescription, ical.PropDateTimeStart, ical.PropGeo, ical.PropLastModified, ical.PropLocation,
		ical.PropOrganizer, ical.PropPercentComplete, ical.PropPriority, ical.PropRecurrenceID, ical.PropSequence,
		ical.PropStatus, ical.PropSummary, ical.PropURL, ical.PropDue, ical.PropDuration, ical.PropColor},
	ical.CompTimezone:         {ical.PropTimezoneID, ical.PropLastModified, ical.PropTimezoneURL},
	ical.CompTimezoneStandard: {ical.PropDateTimeStart, ical.PropTimezoneOffsetTo, ical.PropTimezoneOffsetFrom},
	ical.CompTimezoneDaylight: {ical.PropDateTimeStart, ical.PropTimezoneOffsetTo, ical.PropTimezoneOffsetFrom},
}

// sanitize returns a deep copy of c that go-ical's encoder accepts, or nil
// when c cannot be made valid.
func sanitize(c *ical.Component) *ical.Component {
	out := ical.NewComponent(c.Name)
	for name, props := range c.Props {
		if c.Name != ical.CompCalendar && strings.EqualFold(name, ical.PropMethod) {
			// METHOD belongs to the VCALENDAR alone (RFC 5545 section
			// 3.7.2), and a stored object has none (RFC 4791 section
			// 4.1): one inside a component is dropped.
			continue
		}
		for _, p := range props {
			q := ical.Prop{Name: p.Name, Value: cleanValue(p.Value), Params: make(ical.Params, len(p.Params))}
			for k, vs := range p.Params {
				for _, v := range vs {
					q.Params[k] = append(q.Params[k], strings.ReplaceAll(cleanValue(v), `"`, `'`))
				}
			}
			out.Props[name] = append(out.Props[name], q)
		}
	}
	for _, name := range atMostOnce[c.Name] {
		if ps := out.Props[name]; len(ps) > 1 {
			out.Props[name] = ps[:1]
		}
	}
	switch c.Name {
	case ical.CompCalendar:
		if out.Props.Get(ical.PropProductID) == nil {
			out.Props.SetText(ical.PropProductID, ProductID)
		}
		if out.Props.Get(ical.PropVersion) == nil {
			out.Props.SetText(ical.PropVersion, "2.0")
		}
		for _, ch := range c.Children {
			switch ch.Name {
			case ical.CompEvent, ical.CompToDo, ical.CompTimezone:
				if s := sanitize(ch); s != nil {
					out.Children = append(out.Children, s)
				}
			}
		}
	case ical.CompEvent, ical.CompToDo:
		if out.Props.Get(ical.PropUID) == nil {
			return nil
		}
		if out.Props.Get(ical.PropDateTimeStamp) == nil {
			out.Props.Set(&ical.Prop{Name: ical.PropDateTimeStamp, Params: ical.Params{}, Value: "19700101T000000Z"})
		}
		end := ical.PropDateTimeEnd
		if c.Name == ical.CompToDo {
			end = ical.PropDue
		}
		if out.Props.Get(end) != nil || out.Props.Get(ical.PropDateTimeStart) == nil {
			out.Props.Del(ical.PropDuration)
		}
		for _, ch := range c.Children {
			if ch.Name == ical.CompAlarm {
				out.Children = append(out.Children, sanitize(ch))
			}
		}
	case ical.CompTimezone:
		if out.Props.Get(ical.PropTimezoneID) == nil {
			return nil
		}
		for _, ch := range c.Children {
			if ch.Name != ical.CompTimezoneStandard && ch.Name != ical.CompTimezoneDaylight {
				continue
			}
			if s := sanitize(ch); s != nil {
				out.Children = append(out.Children, s)
			}
		}
		if len(out.Children) == 0 {
			return nil
		}
	case ical.CompTimezoneStandard, ical.CompTimezoneDaylight:
		for _, name := range []string{ical.PropDateTimeStart, ical.PropTimezoneOffsetTo, ical.PropTimezoneOffsetFrom} {
			if out.Props.Get(name) == nil {
				return nil
			}
		}
	}
	return out
}

func cleanValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(v)
	}
	return v
}

// ProductID is the PRODID this package writes into calendar objects it
// creates.
const ProductID = "-//eradicate//eradicate calendar//EN"
