package calendartest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/internal/conformance"
)

const (
	organizer = "organizer@calendartest.example"
	intruder  = "intruder@calendartest.example"
)

type testCase = conformance.Case[*env]

func groups() []conformance.Group[*env] {
	return []conformance.Group[*env]{
		{Name: "Calendars", Cases: []testCase{
			{Name: "Lists", Run: caseCalendarsLists},
		}},
		{Name: "Owners", Cases: []testCase{
			{Name: "Unknown", Run: caseUnknownOwner},
			{Name: "Isolation", Run: caseOwnerIsolation},
		}},
		{Name: "RoundTrip", Cases: []testCase{
			{Name: "ProvenanceKinds", Run: caseRoundTripKinds},
			{Name: "OverridesAndFields", Run: caseRoundTripOverrides},
			{Name: "AllDay", Run: caseRoundTripAllDay},
			{Name: "SpecialUIDs", Run: caseSpecialUIDs},
		}},
		{Name: "Find", Cases: []testCase{
			{Name: "MessageIDExact", Run: caseFindMessageIDExact},
			{Name: "UIDExact", Run: caseFindUIDExact},
			{Name: "AcrossCalendars", Run: caseFindAcrossCalendars},
		}},
		{Name: "Put", Cases: []testCase{
			{Name: "ReplacesByUID", Run: casePutReplacesByUID},
			{Name: "ReplacesByID", Run: casePutReplacesByID},
			{Name: "MissingCalendar", Run: casePutMissingCalendar},
		}},
		{Name: "Delete", Cases: []testCase{
			{Name: "Idempotent", Run: caseDeleteIdempotent},
			{Name: "ThenFind", Run: caseDeleteThenFind},
			{Name: "Conditional", Run: caseDeleteConditional},
		}},
		{Name: "Query", Cases: []testCase{
			{Name: "Empty", Run: caseEmptyQuery},
			{Name: "BothFields", Run: caseQueryBothFields},
		}},
		{Name: "Cancelled", Cases: []testCase{
			{Name: "EveryMethod", Run: caseCancelledContext},
		}},
		{Name: "Concurrent", Cases: []testCase{
			{Name: "PutFindDelete", Run: caseConcurrent},
		}},
		{Name: "ApplyInvite", Cases: []testCase{
			{Name: "Lifecycle", Run: caseApplyInviteLifecycle},
			{Name: "KeepsUserEntry", Run: caseApplyInviteKeepsUserEntry},
		}},
		{Name: "HardDelete", Cases: []testCase{
			{Name: "Rule", Run: caseHardDeleteRule},
			{Name: "AcrossCalendars", Run: caseHardDeleteAcrossCalendars},
			{Name: "ByMessageIDOnly", Run: caseHardDeleteByMessageIDOnly},
			{Name: "EntryChangedMeanwhile", Run: caseHardDeleteChangedMeanwhile},
			{Name: "KeepsEntryAnotherMessageCreated", Run: caseHardDeleteKeepsOtherCreator},
			{Name: "RevertsPurgedUpdate", Run: caseHardDeleteRevertsUpdate},
			{Name: "KeepsCreatorUnknown", Run: caseHardDeleteKeepsCreatorUnknown},
		}},
		{Name: "DefaultCalendar", Cases: defaultCalendarCases()},
	}
}

func caseCalendarsLists(t *testing.T, e *env) {
	for _, o := range e.Owners {
		cals, err := e.Store.Calendars(e.ctx, o)
		require.NoError(t, err, o)
		require.NotEmpty(t, cals, "owner %s must have a calendar", o)
		seen := map[string]bool{}
		for _, c := range cals {
			assert.NotEmpty(t, c.ID)
			assert.False(t, seen[c.ID], "calendar id %q listed twice", c.ID)
			seen[c.ID] = true
		}
		again, err := e.Store.Calendars(e.ctx, o)
		require.NoError(t, err)
		assert.Equal(t, cals, again, "the order must be stable")
	}
}

func caseUnknownOwner(t *testing.T, e *env) {
	_, err := e.Store.Calendars(e.ctx, e.Unknown)
	require.ErrorIs(t, err, calendar.ErrNoOwner)
	_, err = e.Store.Find(e.ctx, e.Unknown, calendar.Query{UID: e.uid("x")})
	require.ErrorIs(t, err, calendar.ErrNoOwner)
}

func caseRoundTripKinds(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	provs := map[string]calendar.Provenance{
		"invite": {Kind: calendar.ProvenanceInvite, MessageID: e.msgID("inv"), Organizer: organizer,
			Method: calendar.MethodRequest, SeriesUID: e.uid("invite"), CreatedBy: e.msgID("inv")},
		"invite-updated": {Kind: calendar.ProvenanceInvite, MessageID: e.msgID("inv-2"), Organizer: organizer,
			Method: calendar.MethodRequest, SeriesUID: e.uid("invite-updated"), CreatedBy: e.msgID("inv-1"),
			Previous: &calendar.Revision{MessageID: e.msgID("inv-1"), Method: calendar.MethodRequest,
				Raw: invite("REQUEST", e.uid("invite-updated"), organizer, 0, "before the update", []string{owner}, "")}},
		"legacy-invite": {Kind: calendar.ProvenanceInvite, MessageID: e.msgID("legacy"), Organizer: organizer,
			Method: calendar.MethodRequest, SeriesUID: e.uid("legacy-invite")},
		"imported": {Kind: calendar.ProvenanceImported, MessageID: e.msgID("imp"), Attachment: "Meeting invite (1).ics"},
		"user":     {Kind: calendar.ProvenanceUser},
		"unknown":  {},
	}
	for key, prov := range provs {
		t.Run(key, func(t *testing.T) {
			in := event(cal, e.uid(key), "kind "+key, prov)
			stored := e.put(t, owner, in)
			got := e.find(t, owner, calendar.Query{UID: in.UID})
			require.Len(t, got, 1)
			assert.Equal(t, stored.ID, got[0].ID)
			assert.Equal(t, cal, got[0].Calendar)
			assert.Equal(t, prov, got[0].Provenance, "provenance must round-trip exactly")
			assertSameOccurrences(t, in, got[0])
			if prov.MessageID != "" {
				byMsg := e.find(t, owner, calendar.Query{MessageID: prov.MessageID})
				require.Len(t, byMsg, 1)
				assert.Equal(t, in.UID, byMsg[0].UID)
			}
		})
	}
}

func caseRoundTripOverrides(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	start := time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC)
	in := calendar.Entry{
		Calendar:  cal,
		UID:       e.uid("series"),
		Organizer: organizer,
		Provenance: calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("series"),
			Organizer: organizer, Method: calendar.MethodRequest, SeriesUID: e.uid("series")},
		Master: &calendar.Occurrence{
			Sequence: 3, Summary: "Weekly, with commas; and semicolons \\ and\nnew lines", Start: start, End: start.Add(90 * time.Minute),
			Status: "TENTATIVE", Organizer: organizer, RRule: "FREQ=WEEKLY;COUNT=20",
			Attendees: []calendar.Attendee{
				{Email: "alice@calendartest.example", Name: "Alice A.", PartStat: "ACCEPTED", Role: "REQ-PARTICIPANT"},
				{Email: "bob@calendartest.example", PartStat: "NEEDS-ACTION", Role: "OPT-PARTICIPANT"},
			},
			ExDates: []time.Time{start.AddDate(0, 0, 7), start.AddDate(0, 0, 21)},
		},
		Overrides: []calendar.Occurrence{
			{RecurrenceID: start.AddDate(0, 0, 14), Sequence: 3, Summary: "moved", Start: start.AddDate(0, 0, 15), End: start.AddDate(0, 0, 15).Add(time.Hour), Status: "CONFIRMED", Organizer: organizer},
			{RecurrenceID: start.AddDate(0, 0, 28), Sequence: 4, Summary: "cancelled one", Start: start.AddDate(0, 0, 28), End: start.AddDate(0, 0, 28).Add(time.Hour), Status: "CANCELLED", Organizer: organizer},
		},
	}
	e.put(t, owner, in)
	got := e.find(t, owner, calendar.Query{UID: in.UID})
	require.Len(t, got, 1)
	assert.Equal(t, organizer, got[0].Organizer)
	assert.Equal(t, in.Provenance, got[0].Provenance)
	assertSameOccurrences(t, in, got[0])
	require.NotEmpty(t, got[0].Raw)
	dec, err := calendar.DecodeEntry(got[0].Raw)
	require.NoError(t, err, "the stored Raw must decode")
	assert.Equal(t, in.UID, dec.UID)
	assert.Len(t, dec.Overrides, 2)
}

func caseRoundTripAllDay(t *testing.T, e *env) {
	owner := e.Owners[1]
	cal := e.defaultCal(t, owner)
	day := time.Date(2030, 12, 24, 0, 0, 0, 0, time.UTC)
	in := calendar.Entry{Calendar: cal, UID: e.uid("allday"), Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser},
		Master: &calendar.Occurrence{Summary: "holiday", Start: day, End: day.AddDate(0, 0, 2), AllDay: true}}
	e.put(t, owner, in)
	got := e.find(t, owner, calendar.Query{UID: in.UID})
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Master)
	assert.True(t, got[0].Master.AllDay)
	assertSameOccurrences(t, in, got[0])
}

func caseFindMessageIDExact(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	base := e.msgID("abc")
	ids := map[string]string{"exact": base, "prefixed": "x" + base, "suffixed": base + "x", "other": e.msgID("zzz")}
	for key, id := range ids {
		e.put(t, owner, event(cal, e.uid("mid-"+key), key, calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: id}))
	}
	for _, q := range []string{base, "<" + base + ">", upper(base), " <" + base + "> "} {
		got := e.find(t, owner, calendar.Query{MessageID: q})
		require.Len(t, got, 1, "query %q must find exactly the entry of %q (not substrings)", q, base)
		assert.Equal(t, e.uid("mid-exact"), got[0].UID)
	}
	assert.Empty(t, e.find(t, owner, calendar.Query{MessageID: base[:len(base)-3]}), "a prefix must not match")
}

func caseFindUIDExact(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	base := e.prefix + "-ABC"
	uids := []string{base, e.prefix + "-abc", base + "D", "x" + base}
	for _, u := range uids {
		e.put(t, owner, event(cal, u, u, calendar.Provenance{Kind: calendar.ProvenanceUser}))
	}
	for _, u := range uids {
		got := e.find(t, owner, calendar.Query{UID: u})
		require.Len(t, got, 1, "UID %q must match byte for byte only itself", u)
		assert.Equal(t, u, got[0].UID)
	}
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: e.prefix + "-Abc"}))
}

func casePutReplacesByUID(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	first := e.put(t, owner, event(cal, e.uid("same"), "first", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	second := e.put(t, owner, event(cal, e.uid("same"), "second", calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: e.msgID("s")}))
	assert.Equal(t, first.ID, second.ID, "Put with an empty ID replaces the entry of the same UID")
	got := e.find(t, owner, calendar.Query{UID: e.uid("same")})
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Master)
	assert.Equal(t, "second", got[0].Master.Summary)
	assert.Equal(t, calendar.ProvenanceImported, got[0].Provenance.Kind)
}

func casePutReplacesByID(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	first := e.put(t, owner, event(cal, e.uid("byid"), "first", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	upd := event(cal, e.uid("byid"), "updated", calendar.Provenance{Kind: calendar.ProvenanceUser})
	upd.ID = first.ID
	second := e.put(t, owner, upd)
	assert.Equal(t, first.ID, second.ID)
	got := e.find(t, owner, calendar.Query{UID: e.uid("byid")})
	require.Len(t, got, 1)
	assert.Equal(t, "updated", got[0].Master.Summary)
}

func casePutMissingCalendar(t *testing.T, e *env) {
	owner := e.Owners[0]
	ent := event("no-such-calendar-"+e.prefix, e.uid("nocal"), "x", calendar.Provenance{Kind: calendar.ProvenanceUser})
	raw, err := calendar.Encode(ent)
	require.NoError(t, err)
	ent.Raw = raw
	_, err = e.Store.Put(e.ctx, owner, ent)
	require.ErrorIs(t, err, calendar.ErrNotFound)
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: ent.UID}))
}

func caseDeleteIdempotent(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	s := e.put(t, owner, event(cal, e.uid("del"), "x", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, s.ID, ""))
	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, s.ID, ""), "deleting a gone entry is not an error")
	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, "never-existed-"+e.prefix+".ics", ""))
}

func caseDeleteThenFind(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	keep := e.put(t, owner, event(cal, e.uid("keep"), "keep", calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: e.msgID("m")}))
	gone := e.put(t, owner, event(cal, e.uid("gone"), "gone", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("m")}))
	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, gone.ID, ""))
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: e.uid("gone")}))
	got := e.find(t, owner, calendar.Query{MessageID: e.msgID("m")})
	require.Len(t, got, 1, "the neighbour must survive")
	assert.Equal(t, keep.ID, got[0].ID)
}

// caseDeleteConditional: Find gives each entry its ETag, and a Delete with
// an ETag removes that version only: a newer one stays, with ErrChanged.
func caseDeleteConditional(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	uid := e.uid("cond")
	e.put(t, owner, event(cal, uid, "first", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("cond")}))
	first := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, first, 1)
	require.NotEmpty(t, first[0].ETag, "Find gives the entry's ETag")

	e.put(t, owner, event(cal, uid, "second", calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: e.msgID("cond")}))
	second := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, second, 1)
	require.NotEqual(t, first[0].ETag, second[0].ETag, "a changed entry has another ETag")

	err := e.Store.Delete(e.ctx, owner, cal, first[0].ID, first[0].ETag)
	require.ErrorIs(t, err, calendar.ErrChanged)
	kept := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, kept, 1, "the newer version stays")
	assert.Equal(t, calendar.ProvenanceImported, kept[0].Provenance.Kind)

	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, second[0].ID, second[0].ETag))
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: uid}))
	require.NoError(t, e.Store.Delete(e.ctx, owner, cal, second[0].ID, second[0].ETag), "a gone entry is not an error, with an ETag too")
}

// caseQueryBothFields: a query with both UID and MessageID matches only
// the entries that have both.
func caseQueryBothFields(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	both := e.put(t, owner, event(cal, e.uid("both-a"), "a", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("both-m1")}))
	e.put(t, owner, event(cal, e.uid("both-b"), "b", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("both-m1")}))
	got := e.find(t, owner, calendar.Query{UID: e.uid("both-a"), MessageID: e.msgID("both-m1")})
	require.Len(t, got, 1, "UID and MessageID together")
	assert.Equal(t, both.ID, got[0].ID)
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: e.uid("both-a"), MessageID: e.msgID("both-m2")}),
		"the UID matches, the message id does not")
	assert.Len(t, e.find(t, owner, calendar.Query{MessageID: e.msgID("both-m1")}), 2)
}

func caseEmptyQuery(t *testing.T, e *env) {
	_, err := e.Store.Find(e.ctx, e.Owners[0], calendar.Query{})
	require.ErrorIs(t, err, calendar.ErrEmptyQuery)
	_, err = calendar.RemoveInviteEntries(e.ctx, e.Store, e.Owners[0], calendar.Series{Organizer: organizer})
	require.ErrorIs(t, err, calendar.ErrEmptyQuery)
}

func caseCancelledContext(t *testing.T, e *env) {
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	s := e.put(t, owner, event(cal, e.uid("ctx"), "x", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := e.Store.Calendars(ctx, owner)
	assert.ErrorIs(t, err, context.Canceled, "Calendars")
	_, err = e.Store.Find(ctx, owner, calendar.Query{UID: s.UID})
	assert.ErrorIs(t, err, context.Canceled, "Find")
	ne := event(cal, e.uid("ctx-new"), "new", calendar.Provenance{Kind: calendar.ProvenanceUser})
	raw, err := calendar.Encode(ne)
	require.NoError(t, err)
	ne.Raw = raw
	_, err = e.Store.Put(ctx, owner, ne)
	assert.ErrorIs(t, err, context.Canceled, "Put")
	err = e.Store.Delete(ctx, owner, cal, s.ID, "")
	assert.ErrorIs(t, err, context.Canceled, "Delete")
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: ne.UID}), "a cancelled Put must store nothing")
	assert.Len(t, e.find(t, owner, calendar.Query{UID: s.UID}), 1, "a cancelled Delete must remove nothing")
}

func caseConcurrent(t *testing.T, e *env) {
	const workers, rounds = 6, 5
	owner := e.Owners[0]
	cal := e.defaultCal(t, owner)
	shared := e.uid("shared")
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*4)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				own := event(cal, e.uid(fmt.Sprintf("w%d-r%d", w, r)), "own", calendar.Provenance{Kind: calendar.ProvenanceUser})
				sh := event(cal, shared, fmt.Sprintf("shared by %d", w), calendar.Provenance{Kind: calendar.ProvenanceUser})
				for _, ent := range []calendar.Entry{own, sh} {
					raw, err := calendar.Encode(ent)
					if err != nil {
						errs <- err
						continue
					}
					ent.Raw = raw
					if _, err := e.Store.Put(e.ctx, owner, ent); err != nil {
						errs <- fmt.Errorf("put %s: %w", ent.UID, err)
					}
				}
				got, err := e.Store.Find(e.ctx, owner, calendar.Query{UID: own.UID})
				if err != nil || len(got) != 1 {
					errs <- fmt.Errorf("find own %s: %d entries, %v", own.UID, len(got), err)
					continue
				}
				if r%2 == 0 {
					if err := e.Store.Delete(e.ctx, owner, cal, got[0].ID, ""); err != nil {
						errs <- fmt.Errorf("delete: %w", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, e.find(t, owner, calendar.Query{UID: shared}), 1, "concurrent Puts of one UID leave one entry")
	for w := range workers {
		for r := range rounds {
			want := 1
			if r%2 == 0 {
				want = 0
			}
			assert.Len(t, e.find(t, owner, calendar.Query{UID: e.uid(fmt.Sprintf("w%d-r%d", w, r))}), want)
		}
	}
}

func caseOwnerIsolation(t *testing.T, e *env) {
	a, b := e.Owners[0], e.Owners[1]
	e.put(t, a, event(e.defaultCal(t, a), e.uid("iso"), "a's", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("iso"), Organizer: organizer, SeriesUID: e.uid("iso")}))
	assert.Empty(t, e.find(t, b, calendar.Query{UID: e.uid("iso")}))
	assert.Empty(t, e.find(t, b, calendar.Query{MessageID: e.msgID("iso")}))
	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, b, calendar.Series{UID: e.uid("iso"), Organizer: organizer, MessageID: e.msgID("iso")})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	assert.Len(t, e.find(t, a, calendar.Query{UID: e.uid("iso")}), 1, "another owner's hard delete must not touch a's entry")
}

func caseSpecialUIDs(t *testing.T, e *env) {
	owner := e.Owners[1]
	cal := e.defaultCal(t, owner)
	uids := []string{
		e.prefix + "/with/slashes/../x",
		e.prefix + " with spaces @example.com",
		e.prefix + "-ünïcødé-日本語-🙂",
		e.prefix + "-100%25done?x=1&y=2#frag",
		e.prefix + `-quote"and'apos;semi,comma:colon`,
		e.prefix + "-{040000008200E00074C5B7101A82E008}",
	}
	stored := map[string]calendar.Entry{}
	for _, u := range uids {
		stored[u] = e.put(t, owner, event(cal, u, "special", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	}
	for _, u := range uids {
		got := e.find(t, owner, calendar.Query{UID: u})
		require.Len(t, got, 1, "UID %q", u)
		assert.Equal(t, u, got[0].UID)
		assert.Equal(t, stored[u].ID, got[0].ID)
	}
	for _, u := range uids {
		require.NoError(t, e.Store.Delete(e.ctx, owner, cal, stored[u].ID, ""), "UID %q", u)
		assert.Empty(t, e.find(t, owner, calendar.Query{UID: u}), "UID %q", u)
	}
}

func caseFindAcrossCalendars(t *testing.T, e *env) {
	if e.CreateCalendar == nil {
		t.Skip("the harness cannot create calendars")
	}
	owner := e.Owners[0]
	e.CreateCalendar(t, owner, "second-"+e.prefix, "Second")
	cals, err := e.Store.Calendars(e.ctx, owner)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cals), 2)
	uid := e.uid("everywhere")
	for _, c := range cals {
		e.put(t, owner, event(c.ID, uid, "in "+c.ID, calendar.Provenance{Kind: calendar.ProvenanceUser}))
	}
	got := e.find(t, owner, calendar.Query{UID: uid})
	assert.Len(t, got, len(cals), "one UID may live once in each calendar; Find searches them all")
}

func caseApplyInviteLifecycle(t *testing.T, e *env) {
	owner := e.Owners[0]
	uid := e.uid("life")
	apply := func(raw []byte, msg string) calendar.Result {
		t.Helper()
		res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, raw), e.msgID(msg))
		require.NoError(t, err)
		return res
	}
	res := apply(invite("REQUEST", uid, organizer, 0, "v0", []string{owner}, ""), "r0")
	require.Equal(t, calendar.ActionCreated, res.Action)
	got := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind)
	assert.Equal(t, e.msgID("r0"), got[0].Provenance.MessageID)
	assert.Equal(t, organizer, got[0].Provenance.Organizer)
	assert.Equal(t, uid, got[0].Provenance.SeriesUID)
	require.NotNil(t, got[0].Master)
	assert.Equal(t, "TENTATIVE", got[0].Master.Status)
	require.Len(t, got[0].Master.Attendees, 1)
	assert.Equal(t, "NEEDS-ACTION", got[0].Master.Attendees[0].PartStat)

	assert.Equal(t, calendar.ActionUpdated, apply(invite("REQUEST", uid, organizer, 2, "v2", []string{owner}, ""), "r2").Action)
	assert.Equal(t, calendar.ActionStale, apply(invite("REQUEST", uid, organizer, 1, "v1", []string{owner}, ""), "r1").Action)
	got = e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, "v2", got[0].Master.Summary, "higher SEQUENCE wins")

	res = apply(invite("REQUEST", uid, organizer, 2, "one moved", []string{owner}, "20300520T093000Z"), "r2b")
	assert.Equal(t, calendar.ActionUpdated, res.Action)
	res = apply(invite("CANCEL", uid, organizer, 3, "one cancelled", []string{owner}, "20300527T093000Z"), "c3a")
	assert.Equal(t, calendar.ActionCancelled, res.Action)
	got = e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	require.Len(t, got[0].Overrides, 2)
	assert.Equal(t, "CANCELLED", got[0].Overrides[1].Status)
	assert.NotEqual(t, "CANCELLED", got[0].Master.Status)

	res = apply(invite("CANCEL", uid, organizer, 4, "all cancelled", []string{owner}, ""), "c4")
	assert.Equal(t, calendar.ActionCancelled, res.Action)
	got = e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, "CANCELLED", got[0].Master.Status)
	assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind)
}

func caseApplyInviteKeepsUserEntry(t *testing.T, e *env) {
	owner := e.Owners[1]
	cal := e.defaultCal(t, owner)
	uid := e.uid("mine")
	e.put(t, owner, event(cal, uid, "my own", calendar.Provenance{Kind: calendar.ProvenanceUser}))
	for _, m := range []string{"REQUEST", "CANCEL"} {
		res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, invite(m, uid, intruder, 9, "hijack", nil, "")), e.msgID("hijack"))
		require.NoError(t, err)
		assert.Equal(t, calendar.ActionSkipped, res.Action, m)
	}
	got := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, "my own", got[0].Master.Summary)
	assert.Equal(t, calendar.ProvenanceUser, got[0].Provenance.Kind)
}

func caseHardDeleteRule(t *testing.T, e *env) {
	a, b := e.Owners[0], e.Owners[1]
	uid := e.uid("phish")
	req := invite("REQUEST", uid, organizer, 0, "Payment confirmation", []string{a, b}, "")
	for _, o := range []string{a, b} {
		res, err := calendar.ApplyInvite(e.ctx, e.Store, o, mustInvite(t, req), e.msgID("phish"))
		require.NoError(t, err)
		require.Equal(t, calendar.ActionCreated, res.Action)
	}
	// b adds the invite's .ics to their calendar: the entry becomes theirs.
	imp, err := calendar.Import(e.ctx, e.Store, b, req, e.msgID("phish"), "invite.ics")
	require.NoError(t, err)
	require.Len(t, imp, 1)
	// An unrelated user-created entry of a.
	e.put(t, a, event(e.defaultCal(t, a), e.uid("lunch"), "lunch", calendar.Provenance{Kind: calendar.ProvenanceUser}))

	s := mustInvite(t, req).Series(e.msgID("phish"))
	repA, err := calendar.RemoveInviteEntries(e.ctx, e.Store, a, s)
	require.NoError(t, err)
	require.Len(t, repA.Removed, 1)
	assert.Empty(t, repA.Kept)
	assert.Contains(t, []calendar.Reason{calendar.ReasonInviteMessage, calendar.ReasonInviteSeries}, repA.Removed[0].Reason)
	assert.Empty(t, e.find(t, a, calendar.Query{UID: uid}))
	assert.Len(t, e.find(t, a, calendar.Query{UID: e.uid("lunch")}), 1)

	repB, err := calendar.RemoveInviteEntries(e.ctx, e.Store, b, s)
	require.NoError(t, err)
	assert.Empty(t, repB.Removed)
	require.Len(t, repB.Kept, 1)
	assert.Equal(t, calendar.ReasonImported, repB.Kept[0].Reason)
	assert.Len(t, e.find(t, b, calendar.Query{UID: uid}), 1)

	again, err := calendar.RemoveInviteEntries(e.ctx, e.Store, a, s)
	require.NoError(t, err, "the rule is idempotent")
	assert.Empty(t, again.Removed)
}

// changingStore runs before once, just before the first Delete it is
// asked for, as if another client wrote to the calendar between the
// rule's read and its delete.
type changingStore struct {
	calendar.Store
	before func()
}

func (s *changingStore) Delete(ctx context.Context, owner, cal, id, etag string) error {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.Delete(ctx, owner, cal, id, etag)
}

// caseHardDeleteChangedMeanwhile: the user imports the invite's .ics over
// the invite-created entry after the rule read it and before it deleted
// it. The entry is now the user's: it is kept, and reported kept.
func caseHardDeleteChangedMeanwhile(t *testing.T, e *env) {
	owner := e.Owners[0]
	uid := e.uid("race")
	req := invite("REQUEST", uid, organizer, 0, "Quarterly bonus", []string{owner}, "")
	res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, req), e.msgID("race"))
	require.NoError(t, err)
	require.Equal(t, calendar.ActionCreated, res.Action)

	cs := &changingStore{Store: e.Store, before: func() {
		imp, err := calendar.Import(e.ctx, e.Store, owner, req, e.msgID("race"), "invite.ics")
		require.NoError(t, err)
		require.Len(t, imp, 1)
	}}
	rep, err := calendar.RemoveInviteEntries(e.ctx, cs, owner, mustInvite(t, req).Series(e.msgID("race")))
	require.NoError(t, err)
	assert.Empty(t, rep.Removed, "the imported entry is not removed")
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonImported, rep.Kept[0].Reason)
	got := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, calendar.ProvenanceImported, got[0].Provenance.Kind)

	// An invite update meanwhile is still the invite's: it is removed.
	uid2 := e.uid("race-update")
	req2 := invite("REQUEST", uid2, organizer, 0, "Quarterly bonus", []string{owner}, "")
	_, err = calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, req2), e.msgID("race-update"))
	require.NoError(t, err)
	upd := invite("REQUEST", uid2, organizer, 1, "Quarterly bonus (moved)", []string{owner}, "")
	cs = &changingStore{Store: e.Store, before: func() {
		res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, upd), e.msgID("race-update-2"))
		require.NoError(t, err)
		require.Equal(t, calendar.ActionUpdated, res.Action)
	}}
	rep, err = calendar.RemoveInviteEntries(e.ctx, cs, owner, mustInvite(t, req2).Series(e.msgID("race-update")))
	require.NoError(t, err)
	require.Len(t, rep.Removed, 1)
	assert.Equal(t, "Quarterly bonus (moved)", rep.Removed[0].Entry.Master.Summary, "the version removed is the one decided on last")
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: uid2}))
}

func caseHardDeleteAcrossCalendars(t *testing.T, e *env) {
	if e.CreateCalendar == nil {
		t.Skip("the harness cannot create calendars")
	}
	owner := e.Owners[0]
	second := "work-" + e.prefix
	e.CreateCalendar(t, owner, second, "Work")
	def := e.defaultCal(t, owner)
	uid := e.uid("multi")
	inv := calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("old-request"), Organizer: organizer, Method: "REQUEST", SeriesUID: uid,
		CreatedBy: e.msgID("old-request")}
	e.put(t, owner, event(def, uid, "in default", inv))
	e.put(t, owner, event(second, uid, "moved by the user to work", inv))
	other := e.uid("reuse")
	e.put(t, owner, event(def, other, "other organizer", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: e.msgID("x"), Organizer: intruder, Method: "REQUEST", SeriesUID: other}))
	purged := func(id string) bool { return calendar.EqualMessageID(id, e.msgID("old-request")) }
	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, calendar.Series{UID: uid, Organizer: "MAILTO:" + upper(organizer), MessageID: e.msgID("new-cancel"), Purged: purged})
	require.NoError(t, err)
	assert.Len(t, rep.Removed, 2, "the series' entries its purged creator made are removed from every calendar")
	for _, d := range rep.Removed {
		assert.Equal(t, calendar.ReasonInviteSeries, d.Reason)
	}
	assert.Empty(t, e.find(t, owner, calendar.Query{UID: uid}))
	assert.Len(t, e.find(t, owner, calendar.Query{UID: other}), 1)
}

func caseHardDeleteByMessageIDOnly(t *testing.T, e *env) {
	owner := e.Owners[1]
	cal := e.defaultCal(t, owner)
	mid := e.msgID("unparsed")
	e.put(t, owner, event(cal, e.uid("by-mid"), "x", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: mid, Organizer: organizer, SeriesUID: e.uid("by-mid"), CreatedBy: mid}))
	e.put(t, owner, event(cal, e.uid("by-mid-imported"), "y", calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: mid, Attachment: "a.ics"}))
	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, calendar.Series{MessageID: "<" + mid + ">"})
	require.NoError(t, err)
	require.Len(t, rep.Removed, 1)
	assert.Equal(t, calendar.ReasonInviteMessage, rep.Removed[0].Reason)
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonImported, rep.Kept[0].Reason)
}

// assertSameOccurrences compares the occurrence fields of want and got,
// times by instant.
func assertSameOccurrences(t *testing.T, want, got calendar.Entry) {
	t.Helper()
	assert.Equal(t, want.UID, got.UID)
	if want.Master == nil {
		assert.Nil(t, got.Master)
	} else if assert.NotNil(t, got.Master, "master") {
		assertSameOccurrence(t, *want.Master, *got.Master, "master")
	}
	if assert.Len(t, got.Overrides, len(want.Overrides), "overrides") {
		for i := range want.Overrides {
			assertSameOccurrence(t, want.Overrides[i], got.Overrides[i], fmt.Sprintf("override %d", i))
		}
	}
}

func assertSameOccurrence(t *testing.T, want, got calendar.Occurrence, what string) {
	t.Helper()
	sameTime(t, want.RecurrenceID, got.RecurrenceID, what+" RecurrenceID")
	sameTime(t, want.Start, got.Start, what+" Start")
	sameTime(t, want.End, got.End, what+" End")
	assert.Equal(t, want.Sequence, got.Sequence, what+" Sequence")
	assert.Equal(t, want.Summary, got.Summary, what+" Summary")
	assert.Equal(t, want.Status, got.Status, what+" Status")
	assert.Equal(t, want.Organizer, got.Organizer, what+" Organizer")
	assert.Equal(t, want.AllDay, got.AllDay, what+" AllDay")
	assert.Equal(t, want.RRule, got.RRule, what+" RRule")
	assert.Equal(t, len(want.Attendees), len(got.Attendees), what+" Attendees")
	if len(want.Attendees) == len(got.Attendees) {
		assert.Equal(t, want.Attendees, got.Attendees, what+" Attendees")
	}
	if assert.Len(t, got.ExDates, len(want.ExDates), what+" ExDates") {
		for i := range want.ExDates {
			sameTime(t, want.ExDates[i], got.ExDates[i], fmt.Sprintf("%s ExDate %d", what, i))
		}
	}
}

func sameTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.True(t, want.Equal(got), "%s: want %v, got %v", what, want, got)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// caseHardDeleteKeepsOtherCreator: a spoofed REQUEST reusing a real
// meeting's UID and ORGANIZER with an older SEQUENCE changes nothing on
// delivery, and its hard delete removes nothing.
func caseHardDeleteKeepsOtherCreator(t *testing.T, e *env) {
	owner := e.Owners[0]
	uid := e.uid("real-meeting")
	real := invite("REQUEST", uid, organizer, 3, "Board meeting", []string{owner}, "")
	res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, real), e.msgID("real"))
	require.NoError(t, err)
	require.Equal(t, calendar.ActionCreated, res.Action)
	spoof := invite("REQUEST", uid, organizer, 1, "Board meeting: open the agenda link", []string{owner}, "")
	res, err = calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, spoof), e.msgID("spoof"))
	require.NoError(t, err)
	require.Equal(t, calendar.ActionStale, res.Action, "delivery never applies an older SEQUENCE")

	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, mustInvite(t, spoof).Series(e.msgID("spoof")))
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	assert.Empty(t, rep.Reverted)
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonOtherCreator, rep.Kept[0].Reason)
	got := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, "Board meeting", got[0].Master.Summary)
}

// caseHardDeleteRevertsUpdate: a spoofed update (higher SEQUENCE) of a
// real meeting, hard-deleted, puts the meeting back as it was; without a
// known previous version the entry is kept and reported.
func caseHardDeleteRevertsUpdate(t *testing.T, e *env) {
	owner := e.Owners[1]
	uid := e.uid("real-updated")
	real := invite("REQUEST", uid, organizer, 0, "Quarterly review", []string{owner}, "")
	res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, real), e.msgID("real-2"))
	require.NoError(t, err)
	require.Equal(t, calendar.ActionCreated, res.Action)
	spoof := invite("REQUEST", uid, organizer, 5, "Quarterly review: new link", []string{owner}, "")
	res, err = calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, spoof), e.msgID("spoof-2"))
	require.NoError(t, err)
	require.Equal(t, calendar.ActionUpdated, res.Action)
	got := e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	require.NotNil(t, got[0].Provenance.Previous, "the store keeps the version before the update")
	assert.Equal(t, e.msgID("real-2"), got[0].Provenance.CreatedBy)

	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, mustInvite(t, spoof).Series(e.msgID("spoof-2")))
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	require.Len(t, rep.Reverted, 1)
	assert.Equal(t, calendar.ReasonReverted, rep.Reverted[0].Reason)
	assert.Equal(t, "Quarterly review: new link", rep.Reverted[0].Entry.Master.Summary, "the report holds the version replaced")
	got = e.find(t, owner, calendar.Query{UID: uid})
	require.Len(t, got, 1)
	assert.Equal(t, "Quarterly review", got[0].Master.Summary, "back as the real invite made it")
	assert.Equal(t, 0, got[0].Master.Sequence)
	assert.Equal(t, calendar.ProvenanceInvite, got[0].Provenance.Kind)
	assert.Equal(t, e.msgID("real-2"), got[0].Provenance.MessageID)
	assert.Equal(t, e.msgID("real-2"), got[0].Provenance.CreatedBy)
	assert.Nil(t, got[0].Provenance.Previous)

	again, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, mustInvite(t, spoof).Series(e.msgID("spoof-2")))
	require.NoError(t, err, "idempotent")
	assert.Empty(t, again.Reverted)
	assert.Empty(t, again.Removed)

	// The previous version unknown: kept and reported.
	uid2 := e.uid("real-no-previous")
	e.put(t, owner, event(e.defaultCal(t, owner), uid2, "updated, previous unknown", calendar.Provenance{Kind: calendar.ProvenanceInvite,
		MessageID: e.msgID("spoof-3"), CreatedBy: e.msgID("real-3"), Organizer: organizer, Method: "REQUEST", SeriesUID: uid2}))
	rep, err = calendar.RemoveInviteEntries(e.ctx, e.Store, owner, calendar.Series{UID: uid2, Organizer: organizer, MessageID: e.msgID("spoof-3")})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	assert.Empty(t, rep.Reverted)
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonPreviousUnknown, rep.Kept[0].Reason)
	assert.Len(t, e.find(t, owner, calendar.Query{UID: uid2}), 1)
}

// caseHardDeleteKeepsCreatorUnknown: an invite entry stored before
// creators were recorded is kept, even when it names the message.
func caseHardDeleteKeepsCreatorUnknown(t *testing.T, e *env) {
	owner := e.Owners[0]
	uid := e.uid("legacy")
	e.put(t, owner, event(e.defaultCal(t, owner), uid, "legacy", calendar.Provenance{Kind: calendar.ProvenanceInvite,
		MessageID: e.msgID("legacy"), Organizer: organizer, Method: "REQUEST", SeriesUID: uid}))
	rep, err := calendar.RemoveInviteEntries(e.ctx, e.Store, owner, calendar.Series{UID: uid, Organizer: organizer, MessageID: e.msgID("legacy")})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonCreatorUnknown, rep.Kept[0].Reason)
	assert.Len(t, e.find(t, owner, calendar.Query{UID: uid}), 1)
}

// defaultCalendarCases check [calendar.DefaultCalendarStore], on a store
// that implements it.
func defaultCalendarCases() []testCase {
	return []testCase{
		{Name: "Listed", Run: func(t *testing.T, e *env) {
			d := conformance.Implements[calendar.DefaultCalendarStore](t, e.Store)
			for _, o := range e.Owners {
				id, err := d.DefaultCalendar(e.ctx, o)
				require.NoError(t, err, o)
				require.NotEmpty(t, id, "the default calendar of %s has no id", o)
				cals, err := e.Store.Calendars(e.ctx, o)
				require.NoError(t, err, o)
				ids := make([]string, len(cals))
				for i, c := range cals {
					ids[i] = c.ID
				}
				assert.Contains(t, ids, id, "the default calendar of %s must be one Calendars lists", o)
				again, err := d.DefaultCalendar(e.ctx, o)
				require.NoError(t, err, o)
				assert.Equal(t, id, again, "the default calendar of %s must be stable", o)
			}
		}},
		{Name: "UnknownOwner", Run: func(t *testing.T, e *env) {
			d := conformance.Implements[calendar.DefaultCalendarStore](t, e.Store)
			_, err := d.DefaultCalendar(e.ctx, e.Unknown)
			require.ErrorIs(t, err, calendar.ErrNoOwner)
		}},
		{Name: "Cancelled", Run: func(t *testing.T, e *env) {
			d := conformance.Implements[calendar.DefaultCalendarStore](t, e.Store)
			ctx, cancel := context.WithCancel(e.ctx)
			cancel()
			_, err := d.DefaultCalendar(ctx, e.Owners[0])
			require.ErrorIs(t, err, context.Canceled)
		}},
		{Name: "NewInvitesGoThere", Run: func(t *testing.T, e *env) {
			d := conformance.Implements[calendar.DefaultCalendarStore](t, e.Store)
			owner := e.Owners[0]
			if e.CreateCalendar != nil {
				// A calendar listed before the default one, so that the
				// first calendar listed is not the default by chance.
				e.CreateCalendar(t, owner, "0-first-"+e.prefix, "First")
			} else {
				t.Log("the harness cannot create calendars: the owner's only calendar is checked")
			}
			def, err := d.DefaultCalendar(e.ctx, owner)
			require.NoError(t, err)
			uid := e.uid("default")
			res, err := calendar.ApplyInvite(e.ctx, e.Store, owner, mustInvite(t, invite("REQUEST", uid, organizer, 0, "new", []string{owner}, "")), e.msgID("default"))
			require.NoError(t, err)
			require.Equal(t, calendar.ActionCreated, res.Action)
			got := e.find(t, owner, calendar.Query{UID: uid})
			require.Len(t, got, 1)
			assert.Equal(t, def, got[0].Calendar, "ApplyInvite puts a new entry in the owner's default calendar")
		}},
	}
}
