package remediation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// realMeeting delivers the organizer's real invite (SEQUENCE seq) of
// uid-board to alice and returns her entry.
func realMeeting(t *testing.T, f *fixture, seq string) calendar.Entry {
	t.Helper()
	raw := strings.Replace(string(invite("real@corp.example", "boss@corp.example", "uid-board", alice)), "SEQUENCE:0", "SEQUENCE:"+seq, 1)
	f.deliver([]byte(raw), "", alice)
	es := entries(t, f, alice, "uid-board")
	require.Len(t, es, 1)
	require.Equal(t, "real@corp.example", es[0].Provenance.MessageID)
	return es[0]
}

// spoof is an invite from id reusing the real meeting's UID and
// ORGANIZER, with SEQUENCE seq and another summary.
func spoof(id, seq string) []byte {
	raw := string(invite(id, "boss@corp.example", "uid-board", alice))
	raw = strings.Replace(raw, "SEQUENCE:0", "SEQUENCE:"+seq, 1)
	raw = strings.Replace(raw, "SUMMARY:Payroll update", "SUMMARY:Board: sign in to read the agenda", 1)
	return []byte(strings.Replace(raw, "From: boss@corp.example", "From: boss@corp-example.evil", 1))
}

func verdicts(rec *remediation.Record) []string {
	var out []string
	for _, d := range rec.Calendar {
		out = append(out, d.Verdict+"/"+d.Reason)
	}
	return out
}

// A phish with a plain .ics attachment (no METHOD) carrying a real
// meeting's UID and ORGANIZER changes nothing on delivery; its hard delete
// must change nothing either.
func TestHardDeletePlainICSAttachmentKeepsMeeting(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	before := realMeeting(t, f, "0")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//evil//EN\r\n" +
		"BEGIN:VEVENT\r\nUID:uid-board\r\nSEQUENCE:9\r\nDTSTAMP:20261124T090000Z\r\n" +
		"DTSTART:20261130T100000Z\r\nDTEND:20261130T110000Z\r\nSUMMARY:Board\r\n" +
		"ORGANIZER:mailto:boss@corp.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	phish := "Message-ID: <ics-phish@evil.example>\r\nFrom: it@evil.example\r\nTo: " + alice + "\r\n" +
		"Subject: agenda\r\nDate: Tue, 24 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe agenda is attached.\r\n" +
		"--b1\r\nContent-Type: text/calendar; charset=utf-8; name=\"agenda.ics\"\r\n" +
		"Content-Disposition: attachment; filename=\"agenda.ics\"\r\n\r\n" + ics +
		"--b1--\r\n"
	f.deliver([]byte(phish), "", alice)
	require.Equal(t, before.ETag, entries(t, f, alice, "uid-board")[0].ETag, "delivery applied nothing")

	rec, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("ics-phish@evil.example")})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Counts.Succeeded)
	after := entries(t, f, alice, "uid-board")
	require.Len(t, after, 1, "the real meeting stays")
	assert.Equal(t, before.ETag, after[0].ETag, "unchanged")
	assert.Empty(t, rec.Calendar, "a plain .ics attachment yields no invite series")
}

// A spoofed REQUEST reusing a real meeting's UID and ORGANIZER with an
// older SEQUENCE is never applied on delivery; its hard delete keeps the
// meeting and reports why.
func TestHardDeleteSpoofedOlderSequenceKeepsMeeting(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	before := realMeeting(t, f, "3")
	f.deliver(spoof("old-spoof@evil.example", "1"), "", alice)
	require.Equal(t, before.ETag, entries(t, f, alice, "uid-board")[0].ETag, "delivery refused the older SEQUENCE")

	rec, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("old-spoof@evil.example")})
	require.NoError(t, err)
	after := entries(t, f, alice, "uid-board")
	require.Len(t, after, 1, "the real meeting stays")
	assert.Equal(t, before.ETag, after[0].ETag)
	assert.Equal(t, []string{remediation.VerdictKept + "/" + string(calendar.ReasonOtherCreator)}, verdicts(rec))
}

// A spoofed update (higher SEQUENCE) of a real meeting is applied on
// delivery; purging it puts the meeting back as the real invite made it,
// and the undo of an action with RemoveInvites puts the update back.
func TestPurgeSpoofedUpdateRevertsMeeting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  remediation.Request
	}{
		{"hard delete", remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("new-spoof@evil.example")}},
		{"soft delete with RemoveInvites, then undo", remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true,
			Selection: byID("new-spoof@evil.example")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, alice)
			before := realMeeting(t, f, "0")
			f.deliver(spoof("new-spoof@evil.example", "5"), "", alice)
			spoofed := entries(t, f, alice, "uid-board")
			require.Len(t, spoofed, 1)
			require.Equal(t, "Board: sign in to read the agenda", spoofed[0].Master.Summary, "delivery applied the update")

			j := journal.NewMemory()
			rec, err := f.engine(j, nil).Execute(ctx, tc.req)
			require.NoError(t, err)
			assert.Equal(t, []string{remediation.VerdictReverted + "/" + string(calendar.ReasonReverted)}, verdicts(rec))
			after := entries(t, f, alice, "uid-board")
			require.Len(t, after, 1, "the real meeting stays")
			assert.Equal(t, before.Master.Summary, after[0].Master.Summary, "back as the real invite made it")
			assert.Equal(t, before.Master.Sequence, after[0].Master.Sequence)
			assert.Equal(t, "real@corp.example", after[0].Provenance.MessageID)
			assert.Equal(t, "real@corp.example", after[0].Provenance.CreatedBy)

			if !tc.req.RemoveInvites {
				return
			}
			u, err := f.engine(j, nil).Undo(ctx, rec.ID, "soc")
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
			assert.Equal(t, []string{remediation.VerdictRestored + "/undo"}, verdicts(u))
			undone := entries(t, f, alice, "uid-board")
			require.Len(t, undone, 1)
			assert.Equal(t, spoofed[0].Master.Summary, undone[0].Master.Summary, "the undo puts the update back")
			assert.True(t, spoofed[0].Provenance.Equal(undone[0].Provenance))
		})
	}
}

// A message purged by an earlier action counts as purged: an entry it
// created, which a later purged message only updated, is removed rather
// than put back to the earlier purged message's version.
func TestPurgeCountsMessagesEarlierActionsPurged(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(invite("x-create@evil.example", "boss@corp.example", "uid-evil", alice, bob), "", alice, bob)
	upd := strings.Replace(string(invite("y-update@evil.example", "boss@corp.example", "uid-evil", alice)), "SEQUENCE:0", "SEQUENCE:2", 1)
	f.deliver([]byte(strings.Replace(upd, "SUMMARY:Payroll update", "SUMMARY:Payroll update (moved)", 1)), "", alice)
	require.Equal(t, "y-update@evil.example", entries(t, f, alice, "uid-evil")[0].Provenance.MessageID)

	j := journal.NewMemory()
	first := byID("x-create@evil.example")
	first.Mailboxes = []string{bob}
	rec, err := f.engine(j, nil).Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: first})
	require.NoError(t, err)
	assert.Equal(t, []string{remediation.VerdictRemoved + "/" + string(calendar.ReasonInviteMessage)}, verdicts(rec))
	require.Len(t, entries(t, f, alice, "uid-evil"), 1, "alice's copy was not purged")

	// A new engine on the same journal: the earlier action comes from it.
	second := byID("y-update@evil.example")
	second.Mailboxes = []string{alice}
	rec, err = f.engine(j, nil).Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: second})
	require.NoError(t, err)
	assert.Equal(t, []string{remediation.VerdictRemoved + "/" + string(calendar.ReasonInviteSeries)}, verdicts(rec))
	assert.Empty(t, entries(t, f, alice, "uid-evil"), "created by a message an earlier action purged")
}

// An invite without a Message-ID: delivery records the message by its
// invite (imipproc.InviteMessageID), so its hard delete still removes the
// entries it created in every recipient's calendar; a sender cannot make
// its entries impossible to remove by leaving the header out.
func TestHardDeleteInviteWithoutMessageIDRemovesEntries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	raw := string(invite("unused@evil.example", "ceo@evil.example", "uid-no-mid", alice, bob))
	raw = strings.Replace(raw, "Message-ID: <unused@evil.example>\r\n", "", 1)
	f.deliver([]byte(raw), "", alice, bob)
	for _, u := range []string{alice, bob} {
		es := entries(t, f, u, "uid-no-mid")
		require.Len(t, es, 1, u)
		require.NotEmpty(t, es[0].Provenance.CreatedBy, "%s: delivery names the creating message", u)
	}
	rec, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{Senders: []string{"ceo@evil.example"}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(2), rec.Counts.Succeeded)
	for _, u := range []string{alice, bob} {
		assert.Empty(t, entries(t, f, u, "uid-no-mid"), "%s: the invite's entry is removed", u)
	}
	assert.Equal(t, []string{remediation.VerdictRemoved + "/" + string(calendar.ReasonInviteMessage),
		remediation.VerdictRemoved + "/" + string(calendar.ReasonInviteMessage)}, verdicts(rec))
}
