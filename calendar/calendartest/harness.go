package calendartest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/conformance"
)

// Harness is what a backend hands the suite for one case.
type Harness struct {
	// Store is the backend under test.
	Store calendar.Store
	// Owners are at least two owners the store knows, each with at least
	// one calendar and no entries.
	Owners []string
	// Unknown is an owner the store does not know; "" means
	// "nobody-calendartest@nowhere.invalid".
	Unknown string

	// CreateCalendar makes a further calendar for owner. nil skips the
	// cases about several calendars of one owner.
	CreateCalendar func(t *testing.T, owner, id, name string)

	// Skip names cases the backend cannot pass, by "Group/Case" (for
	// example "Find/AcrossCalendars"), with the reason; each is skipped
	// with its reason in the test log. Prefer a hook or a fix to a skip.
	Skip map[string]string
}

// Run runs the conformance suite against the store newHarness returns. It
// calls newHarness once per case, with the case's *testing.T.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	conformance.Run(t, groups(), newHarness, newEnv, func(h *Harness) map[string]string { return h.Skip })
}

// env is one case's view of the harness, with helpers.
type env struct {
	*Harness
	ctx    context.Context
	prefix string
	n      int
}

// newEnv checks h and returns the case's view of it.
func newEnv(t *testing.T, h *Harness) *env {
	require.NotNil(t, h.Store, "the harness has no store")
	require.GreaterOrEqual(t, len(h.Owners), 2, "the harness needs at least two owners")
	if h.Unknown == "" {
		h.Unknown = "nobody-calendartest@nowhere.invalid"
	}
	return &env{Harness: h, ctx: t.Context(), prefix: uniquePrefix(t)}
}

var runCounter atomic.Int64

// uniquePrefix makes UIDs and message ids distinct across subtests and
// runs, so that backends reusing a server stay independent.
func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("ct%d-%d", time.Now().UnixNano()%1_000_000_007, runCounter.Add(1))
}

// uid returns a UID unique to the subtest.
func (e *env) uid(key string) string { return e.prefix + "-" + key + "@calendartest.example" }

// msgID returns a Message-ID unique to the subtest.
func (e *env) msgID(key string) string { return e.prefix + "." + key + "@mail.calendartest.example" }

// defaultCal returns the first calendar of owner.
func (e *env) defaultCal(t *testing.T, owner string) string {
	t.Helper()
	id, err := calendar.DefaultCalendar(e.ctx, e.Store, owner)
	require.NoError(t, err)
	require.NotEmpty(t, id)
	return id
}

// put stores e with Raw from calendar.Encode and returns it as stored.
func (e *env) put(t *testing.T, owner string, ent calendar.Entry) calendar.Entry {
	t.Helper()
	if len(ent.Raw) == 0 {
		raw, err := calendar.Encode(ent)
		require.NoError(t, err)
		ent.Raw = raw
	}
	got, err := e.Store.Put(e.ctx, owner, ent)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID, "Put must return the entry's id")
	return got
}

// find runs Find and requires no error.
func (e *env) find(t *testing.T, owner string, q calendar.Query) []calendar.Entry {
	t.Helper()
	got, err := e.Store.Find(e.ctx, owner, q)
	require.NoError(t, err)
	return got
}

// event builds a simple entry.
func event(cal, uid, summary string, prov calendar.Provenance) calendar.Entry {
	start := time.Date(2030, 5, 6, 9, 30, 0, 0, time.UTC)
	return calendar.Entry{
		Calendar:   cal,
		UID:        uid,
		Organizer:  prov.Organizer,
		Provenance: prov,
		Master: &calendar.Occurrence{
			Summary:   summary,
			Start:     start,
			End:       start.Add(time.Hour),
			Status:    "CONFIRMED",
			Organizer: prov.Organizer,
		},
	}
}

// invite builds the iCalendar text of an iTIP message.
func invite(method, uid, organizer string, seq int, summary string, attendees []string, rid string) []byte {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + "\r\n") }
	w("BEGIN:VCALENDAR")
	w("VERSION:2.0")
	w("PRODID:-//calendartest//EN")
	w("METHOD:" + method)
	w("BEGIN:VEVENT")
	w("UID:" + uid)
	w("DTSTAMP:20300101T000000Z")
	w(fmt.Sprintf("SEQUENCE:%d", seq))
	if rid != "" {
		w("RECURRENCE-ID:" + rid)
		w("DTSTART:" + rid)
	} else {
		w("DTSTART:20300506T093000Z")
		w("RRULE:FREQ=WEEKLY;COUNT=10")
	}
	w("DURATION:PT1H")
	w("SUMMARY:" + summary)
	w("ORGANIZER;CN=Organizer:mailto:" + organizer)
	for _, a := range attendees {
		w("ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:" + a)
	}
	if method == calendar.MethodCancel {
		w("STATUS:CANCELLED")
	} else {
		w("STATUS:CONFIRMED")
	}
	w("END:VEVENT")
	w("END:VCALENDAR")
	return []byte(b.String())
}

func mustInvite(t *testing.T, raw []byte) *calendar.Invite {
	t.Helper()
	inv, err := calendar.ParseInvite(raw, "")
	require.NoError(t, err)
	return inv
}
