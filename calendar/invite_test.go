package calendar_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mock"
)

const (
	alice = "alice@tenant.example"
	bob   = "bob@tenant.example"
	org   = "organizer@outside.example"
	other = "someone-else@outside.example"
)

func TestParseInviteMethod(t *testing.T) {
	body := func(method string) []byte {
		lines := []string{"BEGIN:VCALENDAR"}
		if method != "" {
			lines = append(lines, "METHOD:"+method)
		}
		return ics(append(lines, "BEGIN:VEVENT", "UID:m", "END:VEVENT", "END:VCALENDAR")...)
	}
	tests := []struct {
		name, property, content, want string
	}{
		{"property only", "REQUEST", "", "REQUEST"},
		{"content type only", "", "cancel", "CANCEL"},
		{"both agree", "REPLY", "REPLY", "REPLY"},
		{"property wins over content type", "PUBLISH", "REQUEST", "PUBLISH"},
		{"lower case", "counter", "", "COUNTER"},
		{"none: a plain .ics file", "", "", ""},
		{"unknown method kept", "X-FOO", "", "X-FOO"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := calendar.ParseInvite(body(tc.property), tc.content)
			require.NoError(t, err)
			assert.Equal(t, tc.want, inv.Method)
			assert.Equal(t, "m", inv.UID)
		})
	}
}

func TestParseInviteRefusesSeveralUIDs(t *testing.T) {
	_, err := calendar.ParseInvite(ics("BEGIN:VCALENDAR", "METHOD:REQUEST", "BEGIN:VEVENT", "UID:a", "END:VEVENT",
		"BEGIN:VEVENT", "UID:b", "END:VEVENT", "END:VCALENDAR"), "")
	require.ErrorIs(t, err, calendar.ErrInvalid)
	assert.Contains(t, err.Error(), "2 UIDs")
}

func TestParseInviteTestdata(t *testing.T) {
	tests := []struct {
		file, method, uid, organizer string
		seq                          int
		rids                         []time.Time
		rrule                        bool
	}{
		{"exchange-request.eml", "REQUEST", "040000008200E00074C5B7101A82E0080000000006A84F9DA091DB010000000000000000100000001124D9E92DEECD469DBA5C584BAE38F7", "markus.brechtel@uk-koeln.de", 0, nil, false},
		{"exchange-cancel.eml", "CANCEL", "040000008200E00074C5B7101A82E0080000000006A84F9DA091DB010000000000000000100000001124D9E92DEECD469DBA5C584BAE38F7", "markus.brechtel@uk-koeln.de", 1, nil, false},
		// 15:00 in W. Europe Standard Time on 27 March 2025 (before the
		// switch to summer time on the 30th) is 14:00 UTC.
		{"exchange-cancel-occurrence.eml", "CANCEL", "040000008200E00074C5B7101A82E0080000000044440AFCBB91DB0100000000000000001000000087598F58784D4541BAA76F1829CFE9A1", "markus.brechtel@uk-koeln.de", 2, []time.Time{utc(2025, 3, 27, 14, 0)}, false},
		{"thunderbird-repeat-event.eml", "REQUEST", "02e79b96", "sender@example.com", 0, nil, true},
		{"thunderbird-exception-minor.eml", "REQUEST", "02e79b96", "sender@example.com", 0, []time.Time{utc(2022, 3, 17, 11, 0)}, false},
		{"thunderbird-cancel-repeat-event.eml", "CANCEL", "02e79b96", "sender@example.com", 1, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			mid, inv := parseTestdata(t, tc.file)
			assert.Equal(t, tc.method, inv.Method)
			assert.Equal(t, tc.uid, inv.UID)
			assert.Equal(t, tc.organizer, inv.Organizer)
			assert.Equal(t, tc.seq, inv.Sequence)
			require.Len(t, inv.RecurrenceIDs, len(tc.rids))
			for i := range tc.rids {
				assert.True(t, tc.rids[i].Equal(inv.RecurrenceIDs[i]), "RECURRENCE-ID %v", inv.RecurrenceIDs[i])
			}
			if inv.Entry.Master != nil {
				assert.Equal(t, tc.rrule, inv.Entry.Master.RRule != "")
			}
			s := inv.Series("<" + mid + ">")
			assert.Equal(t, calendar.Series{UID: tc.uid, Organizer: tc.organizer, MessageID: mid}, s)
		})
	}
}

// apply parses raw and applies it for owner.
func apply(t *testing.T, s calendar.Store, owner string, raw []byte, mid string) calendar.Result {
	t.Helper()
	inv, err := calendar.ParseInvite(raw, "")
	require.NoError(t, err)
	res, err := calendar.ApplyInvite(context.Background(), s, owner, inv, mid)
	require.NoError(t, err)
	return res
}

func findOne(t *testing.T, s calendar.Store, owner, uid string) calendar.Entry {
	t.Helper()
	got, err := s.Find(context.Background(), owner, calendar.Query{UID: uid})
	require.NoError(t, err)
	require.Len(t, got, 1)
	return got[0]
}

func TestApplyInvite(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, tn *mock.Tenant)
		raw   []byte
		owner string
		want  calendar.Action
		check func(t *testing.T, tn *mock.Tenant)
	}{
		{
			name: "REQUEST creates a tentative invite entry",
			raw:  itip("REQUEST", "u1", org, 0, "Quarterly", "STATUS:CONFIRMED", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:"+alice, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:"+bob),
			want: calendar.ActionCreated,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u1")
				assert.Equal(t, mock.DefaultCalendarID, e.Calendar)
				assert.Equal(t, calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "m@x", Organizer: org, Method: "REQUEST", SeriesUID: "u1", CreatedBy: "m@x"}, e.Provenance)
				assert.Equal(t, "TENTATIVE", e.Master.Status)
				assert.Equal(t, "NEEDS-ACTION", e.Master.Attendees[0].PartStat, "the owner has not answered")
				assert.Equal(t, "ACCEPTED", e.Master.Attendees[1].PartStat, "others are left as sent")
			},
		},
		{
			name: "REQUEST from another organizer for an invite entry is skipped",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, itip("REQUEST", "u2", org, 0, "real"), "first@x")
			},
			raw:  itip("REQUEST", "u2", other, 5, "spoofed"),
			want: calendar.ActionSkipped,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u2")
				assert.Equal(t, "real", e.Master.Summary)
				assert.Equal(t, org, e.Provenance.Organizer)
			},
		},
		{
			name: "REQUEST for an imported entry is skipped",
			setup: func(t *testing.T, tn *mock.Tenant) {
				_, err := calendar.Import(context.Background(), tn, alice, itip("REQUEST", "u3", org, 0, "mine now"), "imp@x", "a.ics")
				require.NoError(t, err)
			},
			raw:  itip("REQUEST", "u3", org, 1, "update"),
			want: calendar.ActionSkipped,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u3")
				assert.Equal(t, "mine now", e.Master.Summary)
				assert.Equal(t, calendar.ProvenanceImported, e.Provenance.Kind)
			},
		},
		{
			name: "REQUEST for a user-created or unknown entry is skipped",
			setup: func(t *testing.T, tn *mock.Tenant) {
				for uid, k := range map[string]calendar.ProvenanceKind{"u4-user": calendar.ProvenanceUser, "u4-unknown": calendar.ProvenanceUnknown} {
					_, err := tn.Put(context.Background(), alice, calendar.Entry{Calendar: mock.DefaultCalendarID, UID: uid, Provenance: calendar.Provenance{Kind: k}, Master: &calendar.Occurrence{Summary: "own"}})
					require.NoError(t, err)
				}
			},
			raw:  itip("REQUEST", "u4-user", org, 1, "update"),
			want: calendar.ActionSkipped,
			check: func(t *testing.T, tn *mock.Tenant) {
				assert.Equal(t, "own", findOne(t, tn, alice, "u4-user").Master.Summary)
				res := apply(t, tn, alice, itip("CANCEL", "u4-unknown", org, 1, "x"), "c@x")
				assert.Equal(t, calendar.ActionSkipped, res.Action)
				assert.Equal(t, "own", findOne(t, tn, alice, "u4-unknown").Master.Summary)
				assert.NotEqual(t, "CANCELLED", findOne(t, tn, alice, "u4-unknown").Master.Status)
				res = apply(t, tn, alice, itip("CANCEL", "u4-", org, 1, "x"), "c@x")
				assert.Equal(t, calendar.ActionNoEntry, res.Action)
				res = apply(t, tn, alice, itip("REQUEST", "u4-", org, 1, "x"), "c@x")
				assert.Equal(t, calendar.ActionCreated, res.Action, "UIDs match exactly, not as prefixes")
			},
		},
		{
			name: "lower SEQUENCE is stale",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, itip("REQUEST", "u5", org, 3, "v3"), "v3@x")
			},
			raw:  itip("REQUEST", "u5", org, 2, "v2"),
			want: calendar.ActionStale,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u5")
				assert.Equal(t, "v3", e.Master.Summary)
				assert.Equal(t, "v3@x", e.Provenance.MessageID)
			},
		},
		{
			name: "equal SEQUENCE updates and moves provenance to the new message",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, itip("REQUEST", "u6", org, 1, "first"), "first@x")
			},
			raw:  itip("REQUEST", "u6", "MAILTO:"+org, 1, "second"),
			want: calendar.ActionUpdated,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u6")
				assert.Equal(t, "second", e.Master.Summary)
				assert.Equal(t, "m@x", e.Provenance.MessageID)
			},
		},
		{name: "PUBLISH is not applied", raw: itip("PUBLISH", "u7", org, 0, "spam"), want: calendar.ActionNotApplied},
		{name: "COUNTER is not applied", raw: itip("COUNTER", "u8", org, 0, "x"), want: calendar.ActionNotApplied},
		{name: "REFRESH is not applied", raw: itip("REFRESH", "u9", org, 0, "x"), want: calendar.ActionNotApplied},
		{name: "DECLINECOUNTER is not applied", raw: itip("DECLINECOUNTER", "u10", org, 0, "x"), want: calendar.ActionNotApplied},
		{name: "ADD is not applied", raw: itip("ADD", "u11", org, 0, "x"), want: calendar.ActionNotApplied},
		{name: "CANCEL of an unknown UID", raw: itip("CANCEL", "u12", org, 0, "x"), want: calendar.ActionNoEntry},
		{
			name: "CANCEL of one occurrence adds a cancelled override",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, itip("REQUEST", "u13", org, 0, "daily", "RRULE:FREQ=DAILY;COUNT=5"), "r@x")
			},
			raw:  itip("CANCEL", "u13", org, 1, "x", "RECURRENCE-ID:20300507T093000Z", "DTSTART:20300507T093000Z"),
			want: calendar.ActionCancelled,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u13")
				assert.Equal(t, "TENTATIVE", e.Master.Status)
				require.Len(t, e.Overrides, 1)
				assert.Equal(t, "CANCELLED", e.Overrides[0].Status)
				assert.Empty(t, e.Master.ExDates, "cancelled occurrences are overrides, not EXDATEs")
				assert.Equal(t, "CANCEL", e.Provenance.Method)
			},
		},
		{
			name: "REPLY updates the attendee in the organizer's own entry",
			setup: func(t *testing.T, tn *mock.Tenant) {
				_, err := tn.Put(context.Background(), alice, calendar.Entry{Calendar: mock.DefaultCalendarID, UID: "u14",
					Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser},
					Master: &calendar.Occurrence{Summary: "my meeting", Organizer: alice, Attendees: []calendar.Attendee{
						{Email: bob, PartStat: "NEEDS-ACTION"}, {Email: "carl@x.example", PartStat: "NEEDS-ACTION"}}}})
				require.NoError(t, err)
			},
			raw:  itip("REPLY", "u14", alice, 0, "Accepted: my meeting", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:"+bob),
			want: calendar.ActionReplyApplied,
			check: func(t *testing.T, tn *mock.Tenant) {
				e := findOne(t, tn, alice, "u14")
				assert.Equal(t, "ACCEPTED", e.Master.Attendees[0].PartStat)
				assert.Equal(t, "NEEDS-ACTION", e.Master.Attendees[1].PartStat)
				assert.Equal(t, calendar.ProvenanceUser, e.Provenance.Kind, "a reply does not change provenance")
				assert.Equal(t, "my meeting", e.Master.Summary)
			},
		},
		{
			name: "REPLY when the owner is not the organizer",
			setup: func(t *testing.T, tn *mock.Tenant) {
				apply(t, tn, alice, itip("REQUEST", "u15", org, 0, "theirs"), "r@x")
			},
			raw:  itip("REPLY", "u15", org, 0, "x", "ATTENDEE;PARTSTAT=DECLINED:mailto:"+bob),
			want: calendar.ActionNoEntry,
		},
		{
			name:  "owner unknown to the store",
			raw:   itip("PUBLISH", "u16", org, 0, "x"),
			owner: "stranger@nowhere.example",
			want:  calendar.ActionNotApplied,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, alice, bob)
			if tc.setup != nil {
				tc.setup(t, tn)
			}
			owner := tc.owner
			if owner == "" {
				owner = alice
			}
			inv, err := calendar.ParseInvite(tc.raw, "")
			require.NoError(t, err)
			res, err := calendar.ApplyInvite(ctx, tn, owner, inv, "<m@x>")
			require.NoError(t, err)
			assert.Equal(t, tc.want, res.Action, res.Reason)
			if res.Action == calendar.ActionCreated || res.Action == calendar.ActionUpdated {
				assert.NotEmpty(t, res.Entries)
			} else if res.Action != calendar.ActionCancelled && res.Action != calendar.ActionReplyApplied {
				assert.NotEmpty(t, res.Reason, "an action that changes nothing says why")
			}
			if tc.check != nil {
				tc.check(t, tn)
			}
		})
	}
}

func TestApplyInviteErrors(t *testing.T) {
	ctx := context.Background()
	tn := newTenant(t, alice)
	inv, err := calendar.ParseInvite(itip("REQUEST", "e1", org, 0, "x"), "")
	require.NoError(t, err)

	_, err = calendar.ApplyInvite(ctx, tn, "stranger@nowhere.example", inv, "m@x")
	assert.ErrorIs(t, err, calendar.ErrNoOwner)

	tn.FailOp(mock.OpPut, nil)
	res, err := calendar.ApplyInvite(ctx, tn, alice, inv, "m@x")
	assert.ErrorIs(t, err, mock.ErrInjected)
	assert.Equal(t, calendar.ActionNotApplied, res.Action)
	tn.ClearFaults()

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = calendar.ApplyInvite(cctx, tn, alice, inv, "m@x")
	assert.ErrorIs(t, err, context.Canceled)

	_, err = calendar.ApplyInvite(ctx, tn, alice, nil, "m@x")
	assert.ErrorIs(t, err, calendar.ErrInvalid)
}

// TestApplyInviteTestdataChains applies the real invites of testdata in
// the order they were sent.
func TestApplyInviteTestdataChains(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		actions   []calendar.Action
		status    string
		overrides []string
	}{
		{"exchange request then cancel", []string{"exchange-request.eml", "exchange-cancel.eml"},
			[]calendar.Action{calendar.ActionCreated, calendar.ActionCancelled}, "CANCELLED", nil},
		{"thunderbird series, exception, cancel", []string{"thunderbird-repeat-event.eml", "thunderbird-exception-minor.eml", "thunderbird-cancel-repeat-event.eml"},
			[]calendar.Action{calendar.ActionCreated, calendar.ActionUpdated, calendar.ActionCancelled}, "CANCELLED", []string{"CANCELLED"}},
		{"thunderbird series and exception", []string{"thunderbird-repeat-event.eml", "thunderbird-exception-minor.eml"},
			[]calendar.Action{calendar.ActionCreated, calendar.ActionUpdated}, "TENTATIVE", []string{"TENTATIVE"}},
		{"exchange occurrence cancel without the series", []string{"exchange-cancel-occurrence.eml"},
			[]calendar.Action{calendar.ActionNoEntry}, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t, alice)
			var inv *calendar.Invite
			for i, f := range tc.files {
				var mid string
				mid, inv = parseTestdata(t, f)
				res, err := calendar.ApplyInvite(context.Background(), tn, alice, inv, mid)
				require.NoError(t, err)
				assert.Equal(t, tc.actions[i], res.Action, "%s: %s", f, res.Reason)
			}
			got, err := tn.Find(context.Background(), alice, calendar.Query{UID: inv.UID})
			require.NoError(t, err)
			if tc.status == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, tc.status, got[0].Master.Status)
			var st []string
			for _, o := range got[0].Overrides {
				st = append(st, o.Status)
			}
			assert.Equal(t, tc.overrides, st)
		})
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	t.Run("creates imported entries, one per UID", func(t *testing.T) {
		tn := newTenant(t, alice)
		raw := ics("BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:i1", "SUMMARY:one", "END:VEVENT",
			"BEGIN:VEVENT", "UID:i2", "SUMMARY:two", "END:VEVENT", "END:VCALENDAR")
		got, err := calendar.Import(ctx, tn, alice, raw, "<File@Msg>", "events.ics")
		require.NoError(t, err)
		require.Len(t, got, 2)
		for _, e := range got {
			assert.Equal(t, calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: "File@Msg", Attachment: "events.ics"}, e.Provenance)
		}
	})
	t.Run("an invite entry in the default calendar becomes the user's", func(t *testing.T) {
		tn := newTenant(t, alice)
		req := itip("REQUEST", "i3", org, 0, "meeting", "STATUS:CONFIRMED")
		apply(t, tn, alice, req, "req@x")
		got, err := calendar.Import(ctx, tn, alice, req, "req@x", "invite.ics")
		require.NoError(t, err)
		require.Len(t, got, 1)
		e := findOne(t, tn, alice, "i3")
		assert.Equal(t, calendar.ProvenanceImported, e.Provenance.Kind)
		assert.Equal(t, "CONFIRMED", e.Master.Status, "the file's content, not the tentative invite copy")
	})
	t.Run("an invite entry in another calendar stays an invite entry", func(t *testing.T) {
		tn := newTenant(t, alice)
		require.NoError(t, tn.CreateCalendar(alice, "work", "Work"))
		req := itip("REQUEST", "i4", org, 0, "meeting")
		inv, err := calendar.ParseInvite(req, "")
		require.NoError(t, err)
		e := inv.Entry
		e.Calendar, e.Provenance = "work", calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "req@x", Organizer: org, SeriesUID: "i4"}
		_, err = tn.Put(ctx, alice, e)
		require.NoError(t, err)
		_, err = calendar.Import(ctx, tn, alice, req, "req@x", "invite.ics")
		require.NoError(t, err)
		all, err := tn.Find(ctx, alice, calendar.Query{UID: "i4"})
		require.NoError(t, err)
		require.Len(t, all, 2)
		kinds := map[string]calendar.ProvenanceKind{all[0].Calendar: all[0].Provenance.Kind, all[1].Calendar: all[1].Provenance.Kind}
		assert.Equal(t, calendar.ProvenanceImported, kinds[mock.DefaultCalendarID])
		assert.Equal(t, calendar.ProvenanceInvite, kinds["work"])
	})
	t.Run("unreadable file", func(t *testing.T) {
		tn := newTenant(t, alice)
		_, err := calendar.Import(ctx, tn, alice, []byte("not a calendar"), "m@x", "x.ics")
		assert.ErrorIs(t, err, calendar.ErrInvalid)
	})
}

// TestApplyInviteManyOverrides applies a series with thousands of
// overrides twice: matching occurrences by RECURRENCE-ID must stay linear.
func TestApplyInviteManyOverrides(t *testing.T) {
	const n = 2000
	build := func(seq int) []byte {
		lines := []string{"BEGIN:VCALENDAR", "METHOD:REQUEST"}
		base := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
		for i := range n {
			d := base.AddDate(0, 0, i).Format("20060102T150405")
			lines = append(lines, "BEGIN:VEVENT", "UID:many", "SEQUENCE:"+itoa(seq), "ORGANIZER:mailto:"+org,
				"RECURRENCE-ID;TZID=Europe/Berlin:"+d, "DTSTART;TZID=Europe/Berlin:"+d, "SUMMARY:occurrence", "END:VEVENT")
		}
		return ics(append(lines, "END:VCALENDAR")...)
	}
	tn := newTenant(t, alice)
	assert.Equal(t, calendar.ActionCreated, apply(t, tn, alice, build(0), "m0@x").Action)
	assert.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, build(1), "m1@x").Action)
	e := findOne(t, tn, alice, "many")
	assert.Nil(t, e.Master)
	assert.Len(t, e.Overrides, n)
	assert.Equal(t, 1, e.Overrides[n-1].Sequence)
}

func TestApplyInviteUpdateFailure(t *testing.T) {
	tn := newTenant(t, alice)
	apply(t, tn, alice, itip("REQUEST", "uf", org, 0, "v0"), "m0@x")
	tn.FailOp(mock.OpPut, nil)
	inv, err := calendar.ParseInvite(itip("REQUEST", "uf", org, 1, "v1"), "")
	require.NoError(t, err)
	res, err := calendar.ApplyInvite(context.Background(), tn, alice, inv, "m1@x")
	require.ErrorIs(t, err, mock.ErrInjected)
	assert.Equal(t, calendar.ActionNotApplied, res.Action)
	tn.ClearFaults()
	assert.Equal(t, "v0", findOne(t, tn, alice, "uf").Master.Summary)
}

func TestApplyReplyUpdateFailure(t *testing.T) {
	tn := newTenant(t, alice)
	_, err := tn.Put(context.Background(), alice, calendar.Entry{Calendar: mock.DefaultCalendarID, UID: "ur",
		Provenance: calendar.Provenance{Kind: calendar.ProvenanceUser},
		Master:     &calendar.Occurrence{Summary: "mine", Organizer: alice, Attendees: []calendar.Attendee{{Email: bob, PartStat: "NEEDS-ACTION"}}}})
	require.NoError(t, err)
	tn.FailOp(mock.OpPut, nil)
	inv, err := calendar.ParseInvite(itip("REPLY", "ur", alice, 0, "Accepted", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:"+bob), "")
	require.NoError(t, err)
	res, err := calendar.ApplyInvite(context.Background(), tn, alice, inv, "m-reply@x")
	require.ErrorIs(t, err, mock.ErrInjected)
	assert.Equal(t, calendar.ActionNotApplied, res.Action, "as for REQUEST and CANCEL")
	assert.Empty(t, res.Entries)
	tn.ClearFaults()
	assert.Equal(t, "NEEDS-ACTION", findOne(t, tn, alice, "ur").Master.Attendees[0].PartStat)
}

// hostileTZ is an invite whose own VTIMEZONE has nRdate RDATE values and
// whose components carry nEx EXDATEs each in that zone, all different: a
// resolver that re-read the VTIMEZONE for each value would do nRdate×nEx
// parses (minutes for this size). The test has no time limit; a
// regression shows as a test that takes minutes.
func hostileTZ(nRdate, nComps, nEx int) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\n")
	b.WriteString("BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\n")
	for i := 0; i < nRdate; i += 2000 {
		b.WriteString("RDATE:")
		for k := i; k < min(i+2000, nRdate); k++ {
			if k > i {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "1980%02d%02dT%02d%02d00", 1+k%12, 1+k%28, k%24, k%60)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("END:STANDARD\r\nEND:VTIMEZONE\r\n")
	for c := 0; c < nComps; c++ {
		b.WriteString("BEGIN:VEVENT\r\nUID:quad@evil.example\r\nDTSTAMP:20260101T000000Z\r\nORGANIZER:mailto:a@evil.example\r\n")
		if c > 0 {
			fmt.Fprintf(&b, "RECURRENCE-ID;TZID=Custom:2026%02d%02dT100000\r\n", 1+c/28%12, 1+c%28)
		}
		b.WriteString("DTSTART;TZID=Custom:20260101T100000\r\nRRULE:FREQ=DAILY\r\nEXDATE;TZID=Custom:")
		for k := 0; k < nEx; k++ {
			if k > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "2026%02d%02dT%02d%02d00", 1+k%12, 1+k%28, k%24, (k/24)%60)
		}
		b.WriteString("\r\nEND:VEVENT\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

func TestParseInviteHostileVTimezone(t *testing.T) {
	raw := hostileTZ(40_000, 20, 2000)
	inv, err := calendar.ParseInvite(raw, "")
	require.NoError(t, err)
	assert.Equal(t, "quad@evil.example", inv.UID)
	require.NotNil(t, inv.Entry.Master)
	// The zone's offset (+01:00) is applied.
	assert.Equal(t, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), inv.Entry.Master.Start.UTC())
}

// An unreadable RECURRENCE-ID makes the invite unreadable: a CANCEL of one
// occurrence is never taken for a CANCEL of the series.
func TestParseInviteUnreadableRecurrenceID(t *testing.T) {
	tn := newTenant(t, alice)
	const uid = "rid@outside.example"
	require.Equal(t, calendar.ActionCreated, apply(t, tn, alice, itip("REQUEST", uid, org, 0, "weekly", "RRULE:FREQ=WEEKLY;COUNT=10"), "r1@x").Action)
	_, err := calendar.ParseInvite(itip("CANCEL", uid, org, 1, "one", "RECURRENCE-ID:2030-05-13T09:30:00Z"), "")
	require.ErrorIs(t, err, calendar.ErrInvalid)
	assert.Contains(t, err.Error(), "RECURRENCE-ID")
	assert.NotEqual(t, "CANCELLED", findOne(t, tn, alice, uid).Master.Status)
}

// Of two REQUESTs with the same SEQUENCE, the one with the later DTSTAMP
// wins whatever the order they are applied in; an old REQUEST applied
// again after a CANCEL does not reinstate the meeting.
func TestApplyInviteDTSTAMPOrder(t *testing.T) {
	stamp := func(raw []byte, ts string) []byte {
		return []byte(strings.Replace(string(raw), "DTSTAMP:20300101T000000Z", "DTSTAMP:"+ts, 1))
	}
	tn := newTenant(t, alice)
	const uid = "stamp@outside.example"
	early := stamp(itip("REQUEST", uid, org, 0, "early"), "20261101T000000Z")
	late := stamp(itip("REQUEST", uid, org, 0, "late"), "20261102T000000Z")
	require.Equal(t, calendar.ActionCreated, apply(t, tn, alice, late, "late@x").Action)
	assert.Equal(t, calendar.ActionStale, apply(t, tn, alice, early, "early@x").Action, "an earlier DTSTAMP is an older revision")
	assert.Equal(t, "late", findOne(t, tn, alice, uid).Master.Summary)

	cancel := stamp(itip("CANCEL", uid, org, 0, "late"), "20261103T000000Z")
	require.Equal(t, calendar.ActionCancelled, apply(t, tn, alice, cancel, "cancel@x").Action)
	assert.Equal(t, calendar.ActionStale, apply(t, tn, alice, late, "late@x").Action, "the cancelled meeting stays cancelled")
	assert.Equal(t, "CANCELLED", findOne(t, tn, alice, uid).Master.Status)
	again := stamp(itip("REQUEST", uid, org, 1, "reinstated"), "20261104T000000Z")
	require.Equal(t, calendar.ActionUpdated, apply(t, tn, alice, again, "again@x").Action, "a new revision reinstates it")
	assert.Equal(t, "TENTATIVE", findOne(t, tn, alice, uid).Master.Status)
}
