package calendar

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// tzResolver turns the date-time values of one iCalendar text into
// instants. A TZID is resolved, in order, as an IANA zone name (also when
// prefixed as Mozilla and others do, "/mozilla.org/20050126_1/Europe/Berlin"),
// by the VTIMEZONE of the same text, by a table of Windows and Outlook zone
// names, and finally as UTC. Floating times and dates are read as UTC.
type tzResolver struct {
	vtz    map[string]*ical.Component
	tables map[string]*vtzTable // the VTIMEZONEs read so far
	cache  map[string]*time.Location
}

func newTZResolver(cals []*ical.Component) *tzResolver {
	r := &tzResolver{vtz: map[string]*ical.Component{}, tables: map[string]*vtzTable{}, cache: map[string]*time.Location{}}
	for _, cal := range cals {
		for _, c := range cal.Children {
			if c.Name != ical.CompTimezone {
				continue
			}
			if p := c.Props.Get(ical.PropTimezoneID); p != nil {
				id := cleanTZID(textValue(p))
				if _, dup := r.vtz[id]; !dup {
					r.vtz[id] = c
				}
			}
		}
	}
	return r
}

func cleanTZID(s string) string {
	return strings.Trim(strings.TrimSpace(s), `"'`)
}

// location returns the IANA location for tzid, or nil.
func (r *tzResolver) location(tzid string) *time.Location {
	if loc, ok := r.cache[tzid]; ok {
		return loc
	}
	loc := ianaLocation(tzid)
	r.cache[tzid] = loc
	return loc
}

// windowsLocation resolves a Windows zone id or Outlook display name.
func windowsLocation(tzid string) *time.Location {
	if name, ok := windowsZones[strings.ToLower(tzid)]; ok {
		return ianaLocation(name)
	}
	if name, ok := windowsZones[strings.ToLower(stripGMTPrefix(tzid))]; ok {
		return ianaLocation(name)
	}
	return nil
}

func ianaLocation(name string) *time.Location {
	if name == "" || len(name) > 128 || strings.EqualFold(name, "local") {
		return nil
	}
	if strings.EqualFold(name, "UTC") || strings.EqualFold(name, "GMT") || strings.EqualFold(name, "Z") {
		return time.UTC
	}
	if strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-.", r))
	}) >= 0 {
		// Not an IANA name ("W. Europe Standard Time"): spare the
		// zoneinfo lookup, which is costly when it fails.
		return nil
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	// "/mozilla.org/20050126_1/Europe/Berlin", "/citadel.org/.../Europe/Paris".
	parts := strings.Split(strings.Trim(name, "/"), "/")
	for i := 1; i < len(parts) && i < 8; i++ {
		if loc, err := time.LoadLocation(strings.Join(parts[i:], "/")); err == nil && !strings.EqualFold(parts[len(parts)-1], "local") {
			return loc
		}
	}
	return nil
}

// stripGMTPrefix turns "(GMT-05.00) Eastern Time (US & Canada)" or
// "(UTC+01:00) Amsterdam, Berlin" into the name after the offset.
func stripGMTPrefix(s string) string {
	if strings.HasPrefix(s, "(") {
		if i := strings.IndexByte(s, ')'); i > 0 {
			u := strings.ToUpper(s[1:i])
			if strings.HasPrefix(u, "GMT") || strings.HasPrefix(u, "UTC") {
				return strings.TrimSpace(s[i+1:])
			}
		}
	}
	return s
}

// parseTime reads a DATE or DATE-TIME property value. It reports whether
// the value is a date (all-day). Unreadable values give ok false.
func (r *tzResolver) parseTime(p *ical.Prop, value string) (t time.Time, allDay, ok bool) {
	v := strings.TrimSpace(value)
	isDate := strings.EqualFold(p.Params.Get(ical.ParamValue), string(ical.ValueDate)) || len(v) == 8
	if isDate {
		if len(v) > 8 {
			v = v[:8]
		}
		t, err := time.ParseInLocation("20060102", v, time.UTC)
		return t, true, err == nil
	}
	if strings.HasSuffix(v, "Z") || strings.HasSuffix(v, "z") {
		t, err := time.ParseInLocation("20060102T150405", v[:len(v)-1], time.UTC)
		return t, false, err == nil
	}
	wall, err := time.ParseInLocation("20060102T150405", v, time.UTC)
	if err != nil {
		return time.Time{}, false, false
	}
	tzid := cleanTZID(p.Params.Get(ical.PropTimezoneID))
	if tzid == "" {
		return wall, false, true
	}
	if loc := r.location(tzid); loc != nil {
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc), false, true
	}
	if vt, ok := r.vtz[tzid]; ok {
		tb := r.tables[tzid]
		if tb == nil {
			tb = newVTZTable(vt)
			r.tables[tzid] = tb
		}
		if off, ok := tb.offset(wall); ok {
			return wall.Add(-time.Duration(off) * time.Second), false, true
		}
	}
	if loc := windowsLocation(tzid); loc != nil {
		return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc), false, true
	}
	return wall, false, true
}

// Bounds on what one VTIMEZONE may make the resolver keep: its onsets
// (DTSTART and RDATE values, all observances together) and its yearly
// rules. Real zones have a few dozen at most.
const (
	maxTZOnsets = 10_000
	maxTZRules  = 100
)

// tzOnset is a moment a VTIMEZONE observance starts, with the offset it
// sets; ord is its place in the text, which breaks ties.
type tzOnset struct {
	t   time.Time
	off int
	ord int
}

// tzRule is a yearly observance rule.
type tzRule struct {
	rule  string
	start time.Time
	off   int
	ord   int
}

// vtzTable is a VTIMEZONE read once: its fixed onsets sorted by time (then
// by place in the text), its yearly rules, and its fallbacks.
type vtzTable struct {
	onsets    []tzOnset
	rules     []tzRule
	stdOff    int
	stdFound  bool
	earliest  time.Time
	earlyFrom int
}

func newVTZTable(vt *ical.Component) *vtzTable {
	tb := &vtzTable{}
	ord := 0
	for _, ob := range vt.Children {
		if ob.Name != ical.CompTimezoneStandard && ob.Name != ical.CompTimezoneDaylight {
			continue
		}
		to, ok1 := parseUTCOffset(ob.Props.Get(ical.PropTimezoneOffsetTo))
		from, ok2 := parseUTCOffset(ob.Props.Get(ical.PropTimezoneOffsetFrom))
		if !ok1 {
			continue
		}
		if !ok2 {
			from = to
		}
		if ob.Name == ical.CompTimezoneStandard && !tb.stdFound {
			tb.stdOff, tb.stdFound = to, true
		}
		sp := ob.Props.Get(ical.PropDateTimeStart)
		if sp == nil {
			continue
		}
		start, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(strings.TrimSpace(sp.Value), "Z"), time.UTC)
		if err != nil {
			continue
		}
		if tb.earliest.IsZero() || start.Before(tb.earliest) {
			tb.earliest, tb.earlyFrom = start, from
		}
		add := func(t time.Time) {
			if len(tb.onsets) < maxTZOnsets {
				tb.onsets = append(tb.onsets, tzOnset{t: t, off: to, ord: ord})
			}
			ord++
		}
		add(start)
		for _, rp := range ob.Props.Values(ical.PropRecurrenceDates) {
			for i, v := range strings.SplitN(rp.Value, ",", maxListValues+1) {
				if i >= maxListValues || len(tb.onsets) >= maxTZOnsets {
					break
				}
				if d, err := time.ParseInLocation("20060102T150405", strings.TrimSuffix(strings.TrimSpace(v), "Z"), time.UTC); err == nil {
					add(d)
				}
			}
		}
		if rr := ob.Props.Get(ical.PropRecurrenceRule); rr != nil && len(tb.rules) < maxTZRules {
			tb.rules = append(tb.rules, tzRule{rule: rr.Value, start: start, off: to, ord: ord})
			ord++
		}
	}
	sort.SliceStable(tb.onsets, func(i, j int) bool { return tb.onsets[i].t.Before(tb.onsets[j].t) })
	return tb
}

// offset returns the UTC offset in seconds that the VTIMEZONE gives the
// local wall time (expressed as a UTC time): that of the latest onset at
// or before wall (the first in the text among equal ones). It understands
// DTSTART, RDATE and yearly RRULEs of the form BYMONTH=m;BYDAY=nDD or
// BYMONTH=m;BYMONTHDAY=d, which is what calendar programs write; other
// rules count from their DTSTART only. Nothing is enumerated beyond the
// two years around wall.
func (tb *vtzTable) offset(wall time.Time) (int, bool) {
	var best tzOnset
	found := false
	consider := func(o tzOnset) {
		if o.t.After(wall) {
			return
		}
		if !found || o.t.After(best.t) || o.t.Equal(best.t) && o.ord < best.ord {
			best, found = o, true
		}
	}
	// The latest fixed onset at or before wall, the first of its time.
	if k := sort.Search(len(tb.onsets), func(i int) bool { return tb.onsets[i].t.After(wall) }); k > 0 {
		k--
		for k > 0 && tb.onsets[k-1].t.Equal(tb.onsets[k].t) {
			k--
		}
		consider(tb.onsets[k])
	}
	for _, r := range tb.rules {
		for _, y := range []int{wall.Year() - 1, wall.Year()} {
			if onset, ok := yearlyOnset(r.rule, r.start, y); ok && !onset.Before(r.start) {
				consider(tzOnset{t: onset, off: r.off, ord: r.ord})
			}
		}
	}
	switch {
	case found:
		return best.off, true
	case !tb.earliest.IsZero():
		return tb.earlyFrom, true
	case tb.stdFound:
		return tb.stdOff, true
	}
	return 0, false
}

// yearlyOnset computes the onset in year y of a VTIMEZONE observance rule.
func yearlyOnset(rule string, start time.Time, y int) (time.Time, bool) {
	var month, monthDay, nth int
	weekday := -1
	var until time.Time
	for _, part := range strings.Split(strings.ToUpper(rule), ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "FREQ":
			if v != "YEARLY" {
				return time.Time{}, false
			}
		case "BYMONTH":
			month, _ = strconv.Atoi(v)
		case "BYMONTHDAY":
			monthDay, _ = strconv.Atoi(v)
		case "BYDAY":
			if len(v) < 2 {
				return time.Time{}, false
			}
			wd, ok := weekdays[v[len(v)-2:]]
			if !ok {
				return time.Time{}, false
			}
			weekday = wd
			nth = 1
			if n := v[:len(v)-2]; n != "" {
				nth, _ = strconv.Atoi(n)
			}
		case "UNTIL":
			until, _ = time.ParseInLocation("20060102T150405", strings.TrimSuffix(v, "Z"), time.UTC)
		}
	}
	if month < 1 || month > 12 {
		return time.Time{}, false
	}
	hh, mm, ss := start.Clock()
	var day int
	switch {
	case weekday >= 0 && nth > 0 && nth <= 5:
		first := time.Date(y, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
		day = 1 + (weekday-int(first.Weekday())+7)%7 + 7*(nth-1)
		if day > daysIn(y, month) {
			day -= 7
		}
	case weekday >= 0 && nth < 0 && nth >= -5:
		last := daysIn(y, month)
		lastDay := time.Date(y, time.Month(month), last, 0, 0, 0, 0, time.UTC)
		day = last - (int(lastDay.Weekday())-weekday+7)%7 + 7*(nth+1)
		if day < 1 {
			day += 7
		}
	case monthDay >= 1 && monthDay <= 31:
		day = min(monthDay, daysIn(y, month))
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	if !until.IsZero() && t.After(until) {
		return time.Time{}, false
	}
	return t, true
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var weekdays = map[string]int{"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}

// parseUTCOffset reads "+0100", "-0500" or "+013000" into seconds.
func parseUTCOffset(p *ical.Prop) (int, bool) {
	if p == nil {
		return 0, false
	}
	v := strings.TrimSpace(p.Value)
	if len(v) != 5 && len(v) != 7 {
		return 0, false
	}
	sign := 1
	switch v[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	n := 0
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	h, _ := strconv.Atoi(v[1:3])
	m, _ := strconv.Atoi(v[3:5])
	if len(v) == 7 {
		n, _ = strconv.Atoi(v[5:7])
	}
	if h > 23 || m > 59 || n > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60 + n), true
}

// windowsZones maps Windows time zone ids and Outlook display names
// (lower-cased) to IANA names, after the CLDR windowsZones table.
var windowsZones = map[string]string{
	"utc":                                               "UTC",
	"gmt standard time":                                 "Europe/London",
	"greenwich standard time":                           "Atlantic/Reykjavik",
	"w. europe standard time":                           "Europe/Berlin",
	"central europe standard time":                      "Europe/Budapest",
	"central european standard time":                    "Europe/Warsaw",
	"romance standard time":                             "Europe/Paris",
	"w. central africa standard time":                   "Africa/Lagos",
	"e. europe standard time":                           "Europe/Chisinau",
	"fle standard time":                                 "Europe/Kiev",
	"fle":                                               "Europe/Kiev",
	"gtb standard time":                                 "Europe/Bucharest",
	"russian standard time":                             "Europe/Moscow",
	"turkey standard time":                              "Europe/Istanbul",
	"israel standard time":                              "Asia/Jerusalem",
	"south africa standard time":                        "Africa/Johannesburg",
	"arabian standard time":                             "Asia/Dubai",
	"india standard time":                               "Asia/Kolkata",
	"china standard time":                               "Asia/Shanghai",
	"singapore standard time":                           "Asia/Singapore",
	"tokyo standard time":                               "Asia/Tokyo",
	"korea standard time":                               "Asia/Seoul",
	"aus eastern standard time":                         "Australia/Sydney",
	"e. australia standard time":                        "Australia/Brisbane",
	"new zealand standard time":                         "Pacific/Auckland",
	"eastern standard time":                             "America/New_York",
	"central standard time":                             "America/Chicago",
	"mountain standard time":                            "America/Denver",
	"us mountain standard time":                         "America/Phoenix",
	"pacific standard time":                             "America/Los_Angeles",
	"alaskan standard time":                             "America/Anchorage",
	"hawaiian standard time":                            "Pacific/Honolulu",
	"atlantic standard time":                            "America/Halifax",
	"sa pacific standard time":                          "America/Bogota",
	"e. south america standard time":                    "America/Sao_Paulo",
	"argentina standard time":                           "America/Buenos_Aires",
	"canada central standard time":                      "America/Regina",
	"mexico standard time":                              "America/Mexico_City",
	"central standard time (mexico)":                    "America/Mexico_City",
	"amsterdam, berlin, bern, rome, stockholm, vienna":  "Europe/Berlin",
	"brussels, copenhagen, madrid, paris":               "Europe/Paris",
	"sarajevo, skopje, warsaw, zagreb":                  "Europe/Warsaw",
	"belgrade, bratislava, budapest, ljubljana, prague": "Europe/Budapest",
	"helsinki, kyiv, riga, sofia, tallinn, vilnius":     "Europe/Kiev",
	"dublin, edinburgh, lisbon, london":                 "Europe/London",
	"athens, bucharest":                                 "Europe/Bucharest",
	"moscow, st. petersburg":                            "Europe/Moscow",
	"eastern time (us & canada)":                        "America/New_York",
	"central time (us & canada)":                        "America/Chicago",
	"mountain time (us & canada)":                       "America/Denver",
	"pacific time (us & canada)":                        "America/Los_Angeles",
	"kuala lumpur, singapore":                           "Asia/Singapore",
	"osaka, sapporo, tokyo":                             "Asia/Tokyo",
	"beijing, chongqing, hong kong, urumqi":             "Asia/Shanghai",
	"chennai, kolkata, mumbai, new delhi":               "Asia/Kolkata",
	"canberra, melbourne, sydney":                       "Australia/Sydney",
}
