package calendar_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mock"
)

// TestRemoveInviteEntriesRule is the table of the hard-delete rule: which
// entries a hard delete of an invite removes, which it keeps, and why.
func TestRemoveInviteEntriesRule(t *testing.T) {
	ctx := context.Background()
	const uid = "rule-uid@outside.example"
	req := itip("REQUEST", uid, org, 0, "Payment confirmation", "RRULE:FREQ=WEEKLY;COUNT=52", "STATUS:CONFIRMED",
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:"+alice)
	put := func(t *testing.T, tn *mock.Tenant, cal, uid string, prov calendar.Provenance) {
		t.Helper()
		_, err := tn.Put(ctx, alice, calendar.Entry{Calendar: cal, UID: uid, Provenance: prov, Master: &calendar.Occurrence{Summary: "x", Organizer: prov.Organizer}})
		require.NoError(t, err)
	}
	// series builds a typical invite series in alice's default calendar:
	// the first REQUEST, an occurrence moved, one occurrence cancelled, a
	// later REQUEST of the series.
	series := func(t *testing.T, tn *mock.Tenant) {
		t.Helper()
		require.Equal(t, calendar.ActionCreated, apply(t, tn, alice, req, "r1@outside.example").Action)
		require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, itip("REQUEST", uid, org, 2, "moved",
			"RECURRENCE-ID:20300513T093000Z", "DTSTART:20300514T093000Z"), "r2@outside.example").Action)
		require.Equal(t, calendar.ActionCancelled, apply(t, tn, alice, itip("CANCEL", uid, org, 3, "cancelled",
			"RECURRENCE-ID:20300520T093000Z", "DTSTART:20300520T093000Z"), "c3@outside.example").Action)
		require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, itip("REQUEST", uid, org, 1, "renamed",
			"RRULE:FREQ=WEEKLY;COUNT=52"), "r4@outside.example").Action)
		e := findOne(t, tn, alice, uid)
		require.Len(t, e.Overrides, 2, "the later series REQUEST keeps the newer occurrence overrides")
	}

	tests := []struct {
		name     string
		setup    func(t *testing.T, tn *mock.Tenant)
		series   calendar.Series
		removed  []calendar.Reason
		reverted []calendar.Reason
		kept     []calendar.Reason
		// left are the provenance kinds of the entries with uid after.
		left []calendar.ProvenanceKind
	}{
		{
			name:    "the entry the invite created is removed",
			setup:   func(t *testing.T, tn *mock.Tenant) { apply(t, tn, alice, req, "r1@outside.example") },
			series:  calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			removed: []calendar.Reason{calendar.ReasonInviteMessage},
		},
		{
			name: "the same invite's .ics imported by the user is kept",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, req, "r1@outside.example")
				_, err := calendar.Import(ctx, tn, alice, req, "r1@outside.example", "invite.ics")
				require.NoError(t, err)
			},
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			kept:   []calendar.Reason{calendar.ReasonImported},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceImported},
		},
		{
			name: "invite entry in one calendar removed, the imported copy in another kept",
			setup: func(t *testing.T, tn *mock.Tenant) {
				require.NoError(t, tn.CreateCalendar(alice, "work", "Work"))
				put(t, tn, "work", uid, calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "r1@outside.example", Organizer: org, Method: "REQUEST", SeriesUID: uid, CreatedBy: "r1@outside.example"})
				_, err := calendar.Import(ctx, tn, alice, req, "r1@outside.example", "invite.ics")
				require.NoError(t, err)
			},
			series:  calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			removed: []calendar.Reason{calendar.ReasonInviteMessage},
			kept:    []calendar.Reason{calendar.ReasonImported},
			left:    []calendar.ProvenanceKind{calendar.ProvenanceImported},
		},
		{
			name: "a user-created entry is kept",
			setup: func(t *testing.T, tn *mock.Tenant) {
				put(t, tn, mock.DefaultCalendarID, uid, calendar.Provenance{Kind: calendar.ProvenanceUser})
			},
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			kept:   []calendar.Reason{calendar.ReasonUserCreated},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceUser},
		},
		{
			name: "an entry of unknown provenance is kept, even naming the message",
			setup: func(t *testing.T, tn *mock.Tenant) {
				put(t, tn, mock.DefaultCalendarID, uid, calendar.Provenance{MessageID: "r1@outside.example", Organizer: org, SeriesUID: uid})
			},
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			kept:   []calendar.Reason{calendar.ReasonUnknown},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceUnknown},
		},
		{
			name:    "a series with overrides is removed whole: hard delete of the first REQUEST, which created it",
			setup:   series,
			series:  calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			removed: []calendar.Reason{calendar.ReasonInviteMessage},
		},
		{
			name:  "a series with overrides is removed whole: hard delete of a middle CANCEL, the creator purged too",
			setup: series,
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "c3@outside.example",
				Purged: purgedSet("r1@outside.example", "r2@outside.example", "r4@outside.example")},
			removed: []calendar.Reason{calendar.ReasonInviteSeries},
		},
		{
			name:   "hard delete of a middle CANCEL alone keeps the series another message created",
			setup:  series,
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "c3@outside.example"},
			kept:   []calendar.Reason{calendar.ReasonOtherCreator},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceInvite},
		},
		{
			name:     "hard delete of the last REQUEST alone reverts its update",
			setup:    series,
			series:   calendar.Series{UID: uid, Organizer: org, MessageID: "r4@outside.example"},
			reverted: []calendar.Reason{calendar.ReasonReverted},
			left:     []calendar.ProvenanceKind{calendar.ProvenanceInvite},
		},
		{
			name: "a different organizer reusing the UID is not touched",
			setup: func(t *testing.T, tn *mock.Tenant) {
				require.NoError(t, tn.CreateCalendar(alice, "work", "Work"))
				apply(t, tn, alice, req, "r1@outside.example")
				put(t, tn, "work", uid, calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "theirs@other.example", Organizer: other, Method: "REQUEST", SeriesUID: uid})
			},
			series:  calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
			removed: []calendar.Reason{calendar.ReasonInviteMessage},
			kept:    []calendar.Reason{calendar.ReasonOtherOrganizer},
			left:    []calendar.ProvenanceKind{calendar.ProvenanceInvite},
		},
		{
			name: "hard delete of a spoofed invite reusing a real meeting's UID keeps the meeting",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, req, "r1@outside.example")
				res := apply(t, tn, alice, itip("REQUEST", uid, other, 9, "spoof"), "spoof@other.example")
				require.Equal(t, calendar.ActionSkipped, res.Action)
			},
			series: calendar.Series{UID: uid, Organizer: other, MessageID: "spoof@other.example"},
			kept:   []calendar.Reason{calendar.ReasonOtherOrganizer},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceInvite},
		},
		{
			name:    "an unparseable invite: found by Message-ID alone",
			setup:   func(t *testing.T, tn *mock.Tenant) { apply(t, tn, alice, req, "r1@outside.example") },
			series:  calendar.Series{MessageID: "<R1@Outside.Example>"},
			removed: []calendar.Reason{calendar.ReasonInviteMessage},
		},
		{
			name:  "organizer compared without mailto and case",
			setup: func(t *testing.T, tn *mock.Tenant) { apply(t, tn, alice, req, "r1@outside.example") },
			series: calendar.Series{UID: uid, Organizer: "MAILTO:Organizer@OUTSIDE.example", MessageID: "unrelated@x",
				Purged: purgedSet("r1@outside.example")},
			removed: []calendar.Reason{calendar.ReasonInviteSeries},
		},
		{
			name:   "UIDs are compared exactly",
			setup:  func(t *testing.T, tn *mock.Tenant) { apply(t, tn, alice, req, "r1@outside.example") },
			series: calendar.Series{UID: "RULE-UID@outside.example", Organizer: org, MessageID: "unrelated@x"},
			left:   []calendar.ProvenanceKind{calendar.ProvenanceInvite},
		},
		{
			name:   "nothing to remove",
			series: calendar.Series{UID: uid, Organizer: org, MessageID: "r1@outside.example"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, alice, bob)
			if tc.setup != nil {
				tc.setup(t, tn)
			}
			before, err := tn.Find(ctx, alice, calendar.Query{UID: uid})
			require.NoError(t, err)
			rep, err := calendar.RemoveInviteEntries(ctx, tn, alice, tc.series)
			require.NoError(t, err)
			assert.Equal(t, tc.removed, reasons(rep.Removed), "removed")
			assert.Equal(t, tc.reverted, reasons(rep.Reverted), "reverted")
			assert.Equal(t, tc.kept, reasons(rep.Kept), "kept")
			assert.Empty(t, rep.Failed)
			for _, d := range rep.Removed {
				assert.Equal(t, calendar.ProvenanceInvite, d.Entry.Provenance.Kind)
				assert.NotEmpty(t, d.Entry.Raw, "a removed entry is reported whole, enough to restore it")
				assert.NotEmpty(t, d.Reason.Text())
			}
			after, err := tn.Find(ctx, alice, calendar.Query{UID: uid})
			require.NoError(t, err)
			assert.Equal(t, tc.left, kinds(after), "entries left")
			assert.Len(t, after, len(before)-len(rep.Removed))

			again, err := calendar.RemoveInviteEntries(ctx, tn, alice, tc.series)
			require.NoError(t, err, "idempotent")
			assert.Empty(t, again.Removed)
			assert.Empty(t, again.Reverted)
		})
	}
}

// purgedSet returns a [calendar.Series.Purged] of the message ids.
func purgedSet(ids ...string) func(string) bool {
	return func(id string) bool {
		for _, x := range ids {
			if calendar.EqualMessageID(x, id) {
				return true
			}
		}
		return false
	}
}

func TestRemoveInviteEntriesRemovesOverridesWithTheEntry(t *testing.T) {
	tn := newTenant(t, alice)
	_, inv := parseTestdata(t, "thunderbird-repeat-event.eml")
	_, exc := parseTestdata(t, "thunderbird-exception-minor.eml")
	for _, i := range []*calendar.Invite{inv, exc} {
		_, err := calendar.ApplyInvite(context.Background(), tn, alice, i, "tb@x")
		require.NoError(t, err)
	}
	rep, err := calendar.RemoveInviteEntries(context.Background(), tn, alice, exc.Series("tb@x"))
	require.NoError(t, err)
	require.Len(t, rep.Removed, 1)
	assert.NotNil(t, rep.Removed[0].Entry.Master)
	assert.Len(t, rep.Removed[0].Entry.Overrides, 1, "master and override are one entry, removed together")
	got, err := tn.Find(context.Background(), alice, calendar.Query{UID: inv.UID})
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestRemoveInviteEntriesErrors(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, alice)
	apply(t, tn, alice, itip("REQUEST", "f1", org, 0, "x"), "m1@x")

	_, err := calendar.RemoveInviteEntries(ctx, tn, alice, calendar.Series{Organizer: org})
	assert.ErrorIs(t, err, calendar.ErrEmptyQuery)

	_, err = calendar.RemoveInviteEntries(ctx, tn, "stranger@nowhere.example", calendar.Series{UID: "f1"})
	assert.ErrorIs(t, err, calendar.ErrNoOwner)

	tn.FailOp(mock.OpDelete, nil)
	rep, err := calendar.RemoveInviteEntries(ctx, tn, alice, calendar.Series{UID: "f1", Organizer: org, MessageID: "m1@x"})
	require.ErrorIs(t, err, mock.ErrInjected)
	require.Len(t, rep.Failed, 1, "the report is complete also on error")
	assert.ErrorIs(t, rep.Failed[0].Err, mock.ErrInjected)
	assert.Empty(t, rep.Removed)
	tn.ClearFaults()
	findOne(t, tn, alice, "f1")

	tn.FailOp(mock.OpFind, nil)
	_, err = calendar.RemoveInviteEntries(ctx, tn, alice, calendar.Series{UID: "f1"})
	assert.ErrorIs(t, err, mock.ErrInjected)
	tn.ClearFaults()

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = calendar.RemoveInviteEntries(cctx, tn, alice, calendar.Series{UID: "f1"})
	assert.ErrorIs(t, err, context.Canceled)
	findOne(t, tn, alice, "f1")
}

func reasons(ds []calendar.Decision) []calendar.Reason {
	var out []calendar.Reason
	for _, d := range ds {
		out = append(out, d.Reason)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func kinds(es []calendar.Entry) []calendar.ProvenanceKind {
	var out []calendar.ProvenanceKind
	for _, e := range es {
		out = append(out, e.Provenance.Kind)
	}
	return out
}

// An update keeps the entry's creator and the version it replaced; the
// same message applied again keeps the version before it; a previous
// version over MaxPreviousSize is not kept, and purging that update then
// keeps the entry.
func TestApplyInviteKeepsCreatorAndPreviousVersion(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, alice)
	const uid = "prev-uid@outside.example"
	require.Equal(t, calendar.ActionCreated, apply(t, tn, alice, itip("REQUEST", uid, org, 0, "real"), "real@outside.example").Action)
	require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, itip("REQUEST", uid, org, 4, "spoofed"), "spoof@evil.example").Action)
	require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, itip("REQUEST", uid, org, 4, "spoofed"), "spoof@evil.example").Action)
	e := findOne(t, tn, alice, uid)
	assert.Equal(t, "real@outside.example", e.Provenance.CreatedBy)
	assert.Equal(t, "spoof@evil.example", e.Provenance.MessageID)
	require.NotNil(t, e.Provenance.Previous)
	assert.Equal(t, "real@outside.example", e.Provenance.Previous.MessageID, "applied again, the version before the first application is kept")
	prev, err := calendar.DecodeEntry(e.Provenance.Previous.Raw)
	require.NoError(t, err)
	assert.Equal(t, "real", prev.Master.Summary)

	const big = "big-uid@outside.example"
	huge := "DESCRIPTION:" + strings.Repeat("x", calendar.MaxPreviousSize)
	require.Equal(t, calendar.ActionCreated, apply(t, tn, alice, itip("REQUEST", big, org, 0, "real", huge), "real-big@outside.example").Action)
	require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, itip("REQUEST", big, org, 4, "spoofed"), "spoof-big@evil.example").Action)
	e = findOne(t, tn, alice, big)
	assert.Nil(t, e.Provenance.Previous, "too large to keep")
	rep, err := calendar.RemoveInviteEntries(ctx, tn, alice, calendar.Series{UID: big, Organizer: org, MessageID: "spoof-big@evil.example"})
	require.NoError(t, err)
	assert.Equal(t, []calendar.Reason{calendar.ReasonPreviousUnknown}, reasons(rep.Kept))
	assert.Equal(t, "spoofed", findOne(t, tn, alice, big).Master.Summary, "kept as it is")
}
