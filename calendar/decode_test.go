package calendar_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
)

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// vtzEurope is a VTIMEZONE as Exchange writes it for central Europe.
var vtzEurope = []string{
	"BEGIN:VTIMEZONE", "TZID:%s",
	"BEGIN:STANDARD", "DTSTART:16010101T030000", "TZOFFSETFROM:+0200", "TZOFFSETTO:+0100",
	"RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10", "END:STANDARD",
	"BEGIN:DAYLIGHT", "DTSTART:16010101T020000", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200",
	"RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3", "END:DAYLIGHT",
	"END:VTIMEZONE",
}

func vtz(id string) []string {
	out := make([]string, len(vtzEurope))
	copy(out, vtzEurope)
	out[1] = "TZID:" + id
	return out
}

func cal(parts ...[]string) []string {
	return append(append([]string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN"}, join(parts...)...), "END:VCALENDAR")
}

func vevent(props ...string) []string {
	return append(append([]string{"BEGIN:VEVENT"}, props...), "END:VEVENT")
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDecodeQuirks(t *testing.T) {
	tests := []struct {
		name  string
		raw   []byte
		check func(t *testing.T, es []calendar.Entry)
	}{
		{
			name: "folded lines with CRLF, space and tab",
			raw:  []byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:fo\r\n ld\r\nSUMMARY:a long\r\n  summary\r\n\tcontinued\r\nDTSTART:20300101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "fold", es[0].UID)
				assert.Equal(t, "a long summarycontinued", es[0].Master.Summary)
			},
		},
		{
			name: "LF line ends",
			raw:  []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:lf\nSUMMARY:x\nDTSTART:20300101T100000Z\nEND:VEVENT\nEND:VCALENDAR\n"),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "lf", es[0].UID)
				assert.Equal(t, utc(2030, 1, 1, 10, 0), es[0].Master.Start)
			},
		},
		{
			name: "CR line ends and a byte order mark",
			raw:  []byte("\xef\xbb\xbfBEGIN:VCALENDAR\rBEGIN:VEVENT\rUID:cr\rSUMMARY:x\rEND:VEVENT\rEND:VCALENDAR\r"),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "cr", es[0].UID)
			},
		},
		{
			name: "Windows zone name without VTIMEZONE",
			raw:  ics(cal(vevent("UID:w", "DTSTART;TZID=W. Europe Standard Time:20250313T150000", "DTEND;TZID=\"W. Europe Standard Time\":20250713T160000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 3, 13, 14, 0).Equal(es[0].Master.Start), "winter: UTC+1, got %v", es[0].Master.Start)
				assert.True(t, utc(2025, 7, 13, 14, 0).Equal(es[0].Master.End), "summer: UTC+2, got %v", es[0].Master.End)
			},
		},
		{
			name: "Outlook display name, unquoted with commas, with VTIMEZONE",
			raw: ics(cal(vtz("Sarajevo, Skopje, Warsaw, Zagreb"),
				vevent("UID:o", "DTSTART;TZID=Sarajevo, Skopje, Warsaw, Zagreb:20250313T150000", "DTEND;TZID=Sarajevo, Skopje, Warsaw, Zagreb:20250713T160000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 3, 13, 14, 0).Equal(es[0].Master.Start), "got %v", es[0].Master.Start)
				assert.True(t, utc(2025, 7, 13, 14, 0).Equal(es[0].Master.End), "got %v", es[0].Master.End)
			},
		},
		{
			name: "custom zone resolved by its VTIMEZONE alone",
			raw: ics(cal(vtz("My Own Zone"),
				vevent("UID:v", "DTSTART;TZID=\"My Own Zone\":20250101T120000", "DTEND;TZID=My Own Zone:20250801T120000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 1, 1, 11, 0).Equal(es[0].Master.Start), "got %v", es[0].Master.Start)
				assert.True(t, utc(2025, 8, 1, 10, 0).Equal(es[0].Master.End), "got %v", es[0].Master.End)
			},
		},
		{
			name: "escaped commas in the VTIMEZONE's TZID, as Exchange writes it",
			raw: ics(cal(vtz(`(UTC+01:00) Nowhere\, Somewhere\, Elsewhere`),
				vevent("UID:esc", "DTSTART;TZID=\"(UTC+01:00) Nowhere, Somewhere, Elsewhere\":20250801T120000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 8, 1, 10, 0).Equal(es[0].Master.Start), "got %v", es[0].Master.Start)
				assert.Contains(t, string(es[0].Raw), "BEGIN:VTIMEZONE", "the zone travels with the entry")
				again, err := calendar.DecodeEntry(es[0].Raw)
				require.NoError(t, err)
				assert.True(t, es[0].Master.Start.Equal(again.Master.Start))
			},
		},
		{
			name: "Mozilla zone prefix",
			raw:  ics(cal(vevent("UID:m", "DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20250115T090000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 1, 15, 14, 0).Equal(es[0].Master.Start), "got %v", es[0].Master.Start)
			},
		},
		{
			name: "unknown zone read as UTC",
			raw:  ics(cal(vevent("UID:u", "DTSTART;TZID=Nowhere/Special:20250115T090000"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, utc(2025, 1, 15, 9, 0).Equal(es[0].Master.Start))
			},
		},
		{
			name: "VALUE=DATE without DTEND lasts one day",
			raw:  ics(cal(vevent("UID:d", "DTSTART;VALUE=DATE:20301224", "SUMMARY:Xmas"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				m := es[0].Master
				assert.True(t, m.AllDay)
				assert.Equal(t, utc(2030, 12, 24, 0, 0), m.Start)
				assert.Equal(t, utc(2030, 12, 25, 0, 0), m.End)
			},
		},
		{
			name: "DURATION instead of DTEND",
			raw:  ics(cal(vevent("UID:dur", "DTSTART:20300101T100000Z", "DURATION:PT1H30M"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, utc(2030, 1, 1, 11, 30), es[0].Master.End)
			},
		},
		{
			name: "no DTEND nor DURATION",
			raw:  ics(cal(vevent("UID:noend", "DTSTART:20300101T100000Z"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.True(t, es[0].Master.End.IsZero())
			},
		},
		{
			name: "stray lines skipped",
			raw:  ics(cal(vevent("UID:stray", "<p>some html</p>", "DESCRIPTION:first line", "second line of a broken description", ";;;", "SUMMARY:ok"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "ok", es[0].Master.Summary)
			},
		},
		{
			name: "missing END lines",
			raw:  ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:open", "SUMMARY:never closed"),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "never closed", es[0].Master.Summary)
			},
		},
		{
			name: "END of the wrong component",
			raw:  ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:wrong", "BEGIN:VALARM", "TRIGGER:-PT5M", "END:VEVENT", "END:VCALENDAR"),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "wrong", es[0].UID)
			},
		},
		{
			name: "bare VEVENT",
			raw:  ics(vevent("UID:bare", "SUMMARY:no calendar")...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "bare", es[0].UID)
			},
		},
		{
			name: "unescaped comma and escapes in text",
			raw:  ics(cal(vevent("UID:text", `SUMMARY:Hi, delivery approved\, really\; \\ done\nnow`))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "Hi, delivery approved, really; \\ done\nnow", es[0].Master.Summary)
			},
		},
		{
			name: "duplicate single-valued properties",
			raw:  ics(cal(vevent("UID:dup", "SUMMARY:first", "SUMMARY:second", "DTSTART:20300101T100000Z", "DTSTART:20310101T100000Z"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "first", es[0].Master.Summary)
				dec, err := calendar.DecodeEntry(es[0].Raw)
				require.NoError(t, err)
				assert.Equal(t, "first", dec.Master.Summary)
			},
		},
		{
			name: "two UIDs in order of appearance",
			raw:  ics(cal(vevent("UID:b", "SUMMARY:b"), vevent("UID:a", "SUMMARY:a"), vevent("UID:b", "RECURRENCE-ID:20300101T100000Z", "SUMMARY:b1"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				require.Len(t, es, 2)
				assert.Equal(t, "b", es[0].UID)
				assert.Len(t, es[0].Overrides, 1)
				assert.Equal(t, "a", es[1].UID)
				assert.NotContains(t, string(es[1].Raw), "UID:b", "each entry's Raw holds its own UID only")
			},
		},
		{
			name: "master, overrides and a second master with a higher SEQUENCE",
			raw: ics(cal(
				vevent("UID:s", "SEQUENCE:1", "SUMMARY:old", "RRULE:FREQ=DAILY;COUNT=1000000000"),
				vevent("UID:s", "RECURRENCE-ID:20300103T100000Z", "SUMMARY:third"),
				vevent("UID:s", "RECURRENCE-ID:20300102T100000Z", "SUMMARY:second"),
				vevent("UID:s", "SEQUENCE:2", "SUMMARY:new", "EXDATE:20300104T100000Z,20300105T100000Z", "EXDATE;VALUE=DATE:20300106"),
			)...),
			check: func(t *testing.T, es []calendar.Entry) {
				require.Len(t, es, 1)
				e := es[0]
				assert.Equal(t, "new", e.Master.Summary)
				assert.Equal(t, 2, e.Master.Sequence)
				assert.Len(t, e.Master.ExDates, 3)
				require.Len(t, e.Overrides, 2)
				assert.Equal(t, "second", e.Overrides[0].Summary, "overrides in time order")
			},
		},
		{
			name: "organizer and attendees normalized",
			raw: ics(cal(vevent("UID:att", "ORGANIZER;CN=\"Boss, The\":MAILTO:Boss@Example.COM",
				"ATTENDEE;CN=Ann;PARTSTAT=accepted;ROLE=CHAIR:mailto:ann@example.com", "ATTENDEE;RSVP;PARTSTAT=NEEDS-ACTION:Bob@Example.com"))...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, "boss@example.com", es[0].Organizer)
				require.Len(t, es[0].Master.Attendees, 2)
				assert.Equal(t, calendar.Attendee{Email: "ann@example.com", Name: "Ann", PartStat: "ACCEPTED", Role: "CHAIR"}, es[0].Master.Attendees[0])
				assert.Equal(t, "bob@example.com", es[0].Master.Attendees[1].Email)
			},
		},
		{
			name: "VTODO",
			raw:  ics(cal([]string{"BEGIN:VTODO", "UID:todo", "SUMMARY:task", "DUE:20300101T100000Z", "END:VTODO"})...),
			check: func(t *testing.T, es []calendar.Entry) {
				assert.Equal(t, utc(2030, 1, 1, 10, 0), es[0].Master.End)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := calendar.Decode(tc.raw)
			require.NoError(t, err)
			require.NotEmpty(t, es)
			for _, e := range es {
				require.NotEmpty(t, e.Raw)
				again, err := calendar.DecodeEntry(e.Raw)
				require.NoError(t, err, "an entry's Raw must decode again")
				assert.Equal(t, e.UID, again.UID)
				assert.NotContains(t, string(e.Raw), "METHOD:", "a stored object has no METHOD")
			}
			tc.check(t, es)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	deep := []string{"BEGIN:VCALENDAR"}
	for range 20 {
		deep = append(deep, "BEGIN:X-NEST")
	}
	many := []string{"BEGIN:VCALENDAR"}
	for i := range calendar.MaxComponents + 1 {
		many = append(many, "BEGIN:VEVENT", "UID:"+itoa(i), "END:VEVENT")
	}
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "no VCALENDAR"},
		{"not iCalendar", []byte("hello world\nthis is mail"), "no VCALENDAR"},
		{"no UID", ics(cal(vevent("SUMMARY:x"))...), "UID"},
		{"empty UID", ics(cal(vevent("UID:  "))...), "UID"},
		{"only a VTIMEZONE", ics(cal(vtz("x"))...), "UID"},
		{"too large", append(ics(cal(vevent("UID:big"))...), bytes.Repeat([]byte("X"), calendar.MaxSize)...), "limit"},
		{"too many lines", []byte("BEGIN:VCALENDAR\n" + strings.Repeat("X-A:b\n", calendar.MaxLines+1)), "content lines"},
		{"nested too deep", ics(deep...), "nested"},
		{"too many components", ics(many...), "VEVENT/VTODO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := calendar.Decode(tc.raw)
			require.Error(t, err)
			assert.ErrorIs(t, err, calendar.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
			_, err = calendar.ParseInvite(tc.raw, "REQUEST")
			assert.ErrorIs(t, err, calendar.ErrInvalid)
		})
	}
}

func TestDecodeEntryRefusesSeveralUIDs(t *testing.T) {
	_, err := calendar.DecodeEntry(ics(cal(vevent("UID:a"), vevent("UID:b"))...))
	assert.ErrorIs(t, err, calendar.ErrInvalid)
}

func TestEncodeRoundTrip(t *testing.T) {
	start := time.Date(2030, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	in := calendar.Entry{
		UID:       "round/trip with spaces, commas; and ünïcode",
		Organizer: "org@example.com",
		Master: &calendar.Occurrence{
			Sequence: 7, Summary: "line1\nline2, with \\ and ;", Start: start, End: start.Add(time.Hour),
			Status: "CONFIRMED", Organizer: "org@example.com", RRule: "FREQ=WEEKLY;BYDAY=MO,WE",
			Attendees: []calendar.Attendee{{Email: "a@example.com", Name: "A, with comma", PartStat: "ACCEPTED", Role: "CHAIR"}},
			ExDates:   []time.Time{start.AddDate(0, 0, 7)},
		},
		Overrides: []calendar.Occurrence{{RecurrenceID: start.AddDate(0, 0, 14), Summary: "moved", Start: start.AddDate(0, 0, 15), Status: "CANCELLED", Organizer: "org@example.com"}},
	}
	raw, err := calendar.Encode(in)
	require.NoError(t, err)
	again, err := calendar.Encode(in)
	require.NoError(t, err)
	assert.Equal(t, raw, again, "Encode is deterministic")
	out, err := calendar.DecodeEntry(raw)
	require.NoError(t, err)
	assert.Equal(t, in.UID, out.UID)
	assert.Equal(t, in.Organizer, out.Organizer)
	m := out.Master
	require.NotNil(t, m)
	assert.True(t, in.Master.Start.Equal(m.Start))
	assert.True(t, in.Master.End.Equal(m.End))
	assert.Equal(t, in.Master.Summary, m.Summary)
	assert.Equal(t, in.Master.Sequence, m.Sequence)
	assert.Equal(t, in.Master.Status, m.Status)
	assert.Equal(t, in.Master.RRule, m.RRule)
	assert.Equal(t, in.Master.Attendees, m.Attendees)
	require.Len(t, m.ExDates, 1)
	assert.True(t, in.Master.ExDates[0].Equal(m.ExDates[0]))
	require.Len(t, out.Overrides, 1)
	assert.True(t, in.Overrides[0].RecurrenceID.Equal(out.Overrides[0].RecurrenceID))
	assert.Equal(t, "CANCELLED", out.Overrides[0].Status)

	for name, bad := range map[string]calendar.Entry{
		"no UID":                    {Master: &calendar.Occurrence{}},
		"no occurrence":             {UID: "x"},
		"override without its time": {UID: "x", Overrides: []calendar.Occurrence{{Summary: "?"}}},
	} {
		_, err := calendar.Encode(bad)
		assert.ErrorIs(t, err, calendar.ErrInvalid, name)
	}
}

func TestNormalize(t *testing.T) {
	e := calendar.Entry{Calendar: "c", ID: "i", UID: "n", Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser},
		Master: &calendar.Occurrence{Summary: "from fields"}}
	got, err := calendar.Normalize(e)
	require.NoError(t, err)
	assert.NotEmpty(t, got.Raw)
	assert.Equal(t, "c", got.Calendar)
	assert.Equal(t, "i", got.ID)
	assert.Equal(t, calendar.ProvenanceUser, got.Provenance.Kind)

	e.Raw = ics(cal(vevent("UID:n", "SUMMARY:from raw"))...)
	got, err = calendar.Normalize(e)
	require.NoError(t, err)
	assert.Equal(t, "from raw", got.Master.Summary, "Raw is authoritative")

	e.Raw = ics(cal(vevent("UID:other"))...)
	_, err = calendar.Normalize(e)
	assert.ErrorIs(t, err, calendar.ErrInvalid)
}

func TestNormalizeAddressAndMessageID(t *testing.T) {
	for in, want := range map[string]string{
		"mailto:A@B.c":        "a@b.c",
		" MAILTO:a@b.c ":      "a@b.c",
		"mailto:mailto:x@y.z": "x@y.z",
		"<x@y.z>":             "x@y.z",
		"x@y.z":               "x@y.z",
		"":                    "",
	} {
		assert.Equal(t, want, calendar.NormalizeAddress(in), in)
	}
	assert.True(t, calendar.EqualMessageID("<ABC@x>", "abc@X"))
	assert.False(t, calendar.EqualMessageID("abc@x", "xabc@x"))
	assert.False(t, calendar.EqualMessageID("", ""))
}

func TestErrorsAreSentinels(t *testing.T) {
	_, err := calendar.ParseInvite([]byte("garbage"), "")
	assert.True(t, errors.Is(err, calendar.ErrInvalid))
}
