package mock_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

const (
	calAnn = "ann@corp.example"
	calBen = "ben@corp.example"
)

// inviteMail builds a message carrying an inline iMIP part and, when
// attach is set, the same object as an invite.ics attachment.
func inviteMail(msgID, method, uid, summary string, attach bool) []byte {
	ics := strings.Join([]string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:" + method,
		"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20300101T000000Z", "SEQUENCE:0",
		"DTSTART:20300102T090000Z", "DTEND:20300102T100000Z", "SUMMARY:" + summary,
		"ORGANIZER:mailto:boss@outside.example", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:" + calAnn,
		"END:VEVENT", "END:VCALENDAR", "",
	}, "\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "From: boss@outside.example\r\nTo: %s, %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n", calAnn, calBen, summary, msgID)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	b.WriteString("--b1\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: text/calendar; charset=utf-8; method=%s\r\n\r\n%s", method, ics)
	if attach {
		fmt.Fprintf(&b, "--b1\r\nContent-Type: application/ics; name=invite.ics\r\nContent-Disposition: attachment; filename=invite.ics\r\n\r\n%s", ics)
	}
	b.WriteString("--b1--\r\n")
	return []byte(b.String())
}

func TestDeliveryProcessesInvites(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		role   mailbox.Role
		method string
		want   int // entries per recipient
	}{
		{"inbox", mailbox.RoleInbox, "REQUEST", 1},
		{"junk, as real clients do", mailbox.RoleJunk, "REQUEST", 1},
		{"quarantine: never reached the user", mailbox.RoleQuarantine, "REQUEST", 0},
		{"evidence: admin-only", mailbox.RoleEvidence, "REQUEST", 0},
		{"recoverable items: admin-only", mailbox.RoleRecoverable, "REQUEST", 0},
		{"publish is not added", mailbox.RoleInbox, "PUBLISH", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn := newCorpusTenant(t, calAnn, calBen)
			_, err := tn.Deliver(ctx, inviteMail("d1@outside.example", tc.method, "uid-d1", "Sync", true), &mock.DeliverOptions{Role: tc.role})
			require.NoError(t, err)
			for _, u := range []string{calAnn, calBen} {
				got, err := tn.Find(ctx, u, calendar.Query{UID: "uid-d1"})
				require.NoError(t, err)
				require.Len(t, got, tc.want, u)
				if tc.want == 1 {
					assert.Equal(t, calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "d1@outside.example",
						Organizer: "boss@outside.example", Method: "REQUEST", SeriesUID: "uid-d1", CreatedBy: "d1@outside.example"}, got[0].Provenance)
				}
			}
			assert.Empty(t, tn.InviteErrors())
		})
	}
}

func TestDeliveryRecordsBadInvitesAndStillDelivers(t *testing.T) {
	ctx := context.Background()
	tn := newCorpusTenant(t, calAnn)
	raw := []byte("From: x@outside.example\r\nTo: " + calAnn + "\r\nMessage-ID: <bad@x>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	addrs, err := tn.Deliver(ctx, raw, nil)
	require.NoError(t, err, "a bad invite never fails the delivery")
	require.Len(t, addrs, 1)
	errs := tn.InviteErrors()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0].Err, calendar.ErrInvalid)
	assert.Equal(t, "bad@x", errs[0].MessageID)
	assert.Equal(t, addrs[0], errs[0].Address)
}

func TestDeliveryIsNotABackendCall(t *testing.T) {
	ctx := context.Background()
	tn := newCorpusTenant(t, calAnn)
	tn.FailOp(mock.OpPut, nil)
	tn.FailOp(mock.OpFind, nil)
	before := tn.Calls()
	_, err := tn.Deliver(ctx, inviteMail("nb@x", "REQUEST", "uid-nb", "Sync", false), nil)
	require.NoError(t, err)
	assert.Equal(t, before, tn.Calls(), "invite processing on delivery is not counted")
	tn.ClearFaults()
	got, err := tn.Find(ctx, calAnn, calendar.Query{UID: "uid-nb"})
	require.NoError(t, err)
	assert.Len(t, got, 1, "injected faults do not strike delivery")
}

func TestDeliveryAppliesEachUIDOncePerMessage(t *testing.T) {
	ctx := context.Background()
	tn := newCorpusTenant(t, calAnn)
	_, err := tn.Deliver(ctx, inviteMail("once@x", "REQUEST", "uid-once", "Sync", true), nil)
	require.NoError(t, err)
	evs := tn.InviteEvents()
	require.Len(t, evs, 1, "the attached copy of the inline invite is not processed again")
	assert.Equal(t, calendar.ActionCreated, evs[0].Action)
}

func TestImportICS(t *testing.T) {
	ctx := context.Background()
	tn := newCorpusTenant(t, calAnn, calBen)
	addrs, err := tn.Deliver(ctx, inviteMail("imp@x", "REQUEST", "uid-imp", "Sync", true), nil)
	require.NoError(t, err)
	require.Len(t, addrs, 2)

	got, err := tn.ImportICS(ctx, calBen, addrs[1], "invite.ics")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, calendar.Provenance{Kind: calendar.ProvenanceImported, MessageID: "imp@x", Attachment: "invite.ics"}, got[0].Provenance)

	_, err = tn.ImportICS(ctx, calBen, addrs[1], "other.ics")
	assert.ErrorIs(t, err, calendar.ErrNotFound)
	gone := addrs[0]
	gone.UID += 100
	_, err = tn.ImportICS(ctx, calAnn, gone, "")
	assert.ErrorIs(t, err, mailbox.ErrNotFound)

	// The rule: Ann's invite entry goes, Ben's imported entry stays.
	inv, err := calendar.ParseInvite([]byte(strings.SplitN(string(inviteMail("imp@x", "REQUEST", "uid-imp", "Sync", false)), "method=REQUEST\r\n\r\n", 2)[1]), "")
	require.NoError(t, err)
	for u, want := range map[string]int{calAnn: 1, calBen: 0} {
		rep, err := calendar.RemoveInviteEntries(ctx, tn, u, inv.Series("imp@x"))
		require.NoError(t, err)
		assert.Len(t, rep.Removed, want, u)
		assert.Len(t, rep.Kept, 1-want, u)
	}
}

func TestCalendarStoreSpecifics(t *testing.T) {
	ctx := context.Background()
	tn := newCorpusTenant(t, calAnn)

	_, err := tn.Calendars(ctx, "nobody@corp.example")
	assert.ErrorIs(t, err, calendar.ErrNoOwner)
	assert.ErrorIs(t, tn.CreateCalendar("nobody@corp.example", "x", "X"), calendar.ErrNoOwner)
	require.NoError(t, tn.CreateCalendar(calAnn, "work", "Work"))
	assert.ErrorIs(t, tn.CreateCalendar(calAnn, "work", "Work"), mock.ErrExists)
	assert.Error(t, tn.CreateCalendar(calAnn, "a/b", "bad"))
	cals, err := tn.Calendars(ctx, "ANN@corp.example")
	require.NoError(t, err)
	assert.Equal(t, []calendar.Info{{ID: mock.DefaultCalendarID, Name: "Calendar"}, {ID: "work", Name: "Work"}}, cals)

	e := calendar.Entry{Calendar: "work", UID: "c1", Master: &calendar.Occurrence{Summary: "x"}}
	first, err := tn.Put(ctx, calAnn, e)
	require.NoError(t, err)
	e.ID = "another-id.ics"
	_, err = tn.Put(ctx, calAnn, e)
	assert.ErrorIs(t, err, calendar.ErrConflict, "one UID, two ids in one calendar")
	e.ID = first.ID
	e.UID = "c2"
	renamed, err := tn.Put(ctx, calAnn, e)
	require.NoError(t, err, "Put by ID may change the UID")
	assert.Equal(t, first.ID, renamed.ID)
	got, err := tn.Find(ctx, calAnn, calendar.Query{UID: "c1"})
	require.NoError(t, err)
	assert.Empty(t, got)

	// FaultAfter: the entry is stored, the caller sees an error.
	tn.InjectOp(mock.OpPut, mock.Fault{Mode: mock.FaultAfter})
	_, err = tn.Put(ctx, calAnn, calendar.Entry{Calendar: "work", UID: "c3", Master: &calendar.Occurrence{Summary: "x"}})
	assert.ErrorIs(t, err, mock.ErrInjected)
	tn.ClearFaults()
	got, err = tn.Find(ctx, calAnn, calendar.Query{UID: "c3"})
	require.NoError(t, err)
	assert.Len(t, got, 1)

	// Returned entries are copies.
	got[0].Master.Summary = "changed by the caller"
	again, err := tn.Find(ctx, calAnn, calendar.Query{UID: "c3"})
	require.NoError(t, err)
	assert.Equal(t, "x", again[0].Master.Summary)

	def, err := tn.DefaultCalendar(ctx, calAnn)
	require.NoError(t, err)
	assert.Equal(t, mock.DefaultCalendarID, def)
}
