package imipproc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/calendar/caldavstore"
	"github.com/eradicate-dev/eradicate/calendar/imipproc"
	"github.com/eradicate-dev/eradicate/calendar/internal/caldavmem"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
)

// inviteICS is an iTIP object of one VEVENT.
func inviteICS(method, uid, organizer string, seq int, attendees []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Evil Corp//Invites//EN\r\nMETHOD:%s\r\nBEGIN:VEVENT\r\n", method)
	fmt.Fprintf(&b, "UID:%s\r\nSEQUENCE:%d\r\nDTSTAMP:20261120T090000Z\r\nDTSTART:20261201T150000Z\r\nDTEND:20261201T160000Z\r\n", uid, seq)
	b.WriteString("SUMMARY:Urgent: payroll update\r\nDESCRIPTION:Sign in at https://payroll-update.evil.example/login\r\n")
	fmt.Fprintf(&b, "ORGANIZER;CN=HR:mailto:%s\r\n", organizer)
	for _, a := range attendees {
		fmt.Fprintf(&b, "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s\r\n", a)
	}
	if method == "CANCEL" {
		b.WriteString("STATUS:CANCELLED\r\n")
	}
	b.WriteString("END:VEVENT\r\nEND:VCALENDAR\r\n")
	return b.String()
}

// inviteMail is an iMIP message: a text part, the inline text/calendar
// part and the same object as an .ics attachment (as Outlook sends it).
func inviteMail(msgID, from string, to []string, ics, method string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\nFrom: HR <%s>\r\nTo: %s\r\n", msgID, from, strings.Join(to, ", "))
	b.WriteString("Subject: Urgent: payroll update\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n")
	b.WriteString("--mix\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n")
	b.WriteString("--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease attend.\r\n")
	fmt.Fprintf(&b, "--alt\r\nContent-Type: text/calendar; charset=utf-8; method=%s\r\n\r\n%s", method, ics)
	b.WriteString("--alt--\r\n")
	fmt.Fprintf(&b, "--mix\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n%s", ics)
	b.WriteString("--mix--\r\n")
	return []byte(b.String())
}

func plainMail(msgID, from, to string) []byte {
	return []byte(fmt.Sprintf("Message-ID: <%s>\r\nDate: Fri, 20 Nov 2026 09:00:00 +0000\r\nFrom: %s\r\nTo: %s\r\nSubject: hello\r\n\r\nhi\r\n", msgID, from, to))
}

type fixture struct {
	mail  *mock.Tenant
	cal   *caldavstore.Store
	srv   *caldavmem.Server
	users []string
}

func newFixture(t *testing.T, users ...string) *fixture {
	t.Helper()
	f := &fixture{mail: mock.New(nil), users: users}
	pw := map[string]string{}
	creds := map[string]caldavstore.Credential{}
	for _, u := range users {
		require.NoError(t, f.mail.AddUser(u))
		pw[u] = "pw-" + u
		creds[u] = caldavstore.Credential{Username: u, Password: pw[u]}
	}
	f.srv = caldavmem.Start(t, pw)
	s, err := caldavstore.New(f.srv.URL, caldavstore.PerUser(creds), &caldavstore.Options{AllowInsecure: true, ProvenanceKey: []byte("imipproc test key")})
	require.NoError(t, err)
	for _, u := range users {
		_, err := s.EnsureCalendar(t.Context(), u, "calendar", "Calendar")
		require.NoError(t, err)
	}
	f.cal = s
	return f
}

const organizer = "hr@evil.example"

// The processor creates on CalDAV what the mock creates on delivery.
func TestDeliverMatchesMockDelivery(t *testing.T) {
	ctx := t.Context()
	users := []string{"ann@example.com", "ben@example.com", "cat@example.com"}
	f := newFixture(t, users...)
	raw := inviteMail("inv-1@evil.example", organizer, users, inviteICS("REQUEST", "payroll-1@evil.example", organizer, 0, users), "REQUEST")
	addrs, err := f.mail.Deliver(ctx, raw, nil)
	require.NoError(t, err)
	require.Len(t, addrs, 3)

	p := imipproc.New(f.mail, f.cal, nil)
	for _, a := range addrs {
		out, err := p.Deliver(ctx, a)
		require.NoError(t, err)
		require.Len(t, out, 1, "one invite per message (the attachment repeats the inline part)")
		assert.Equal(t, calendar.ActionCreated, out[0].Action)
		assert.Equal(t, "payroll-1@evil.example", out[0].UID)

		got, err := f.cal.Find(ctx, a.Mailbox, calendar.Query{MessageID: "inv-1@evil.example"})
		require.NoError(t, err)
		want, err := f.mail.Find(ctx, a.Mailbox, calendar.Query{MessageID: "inv-1@evil.example"})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Len(t, want, 1)
		assert.Equal(t, want[0].Provenance, got[0].Provenance)
		assert.Equal(t, want[0].UID, got[0].UID)
		assert.Equal(t, want[0].Organizer, got[0].Organizer)
		require.NotNil(t, got[0].Master)
		assert.Equal(t, want[0].Master.Status, got[0].Master.Status)
		assert.Equal(t, want[0].Master.Summary, got[0].Master.Summary)
		assert.Equal(t, want[0].Master.Attendees, got[0].Master.Attendees)

		// Processing the same copy again leaves the entry alone.
		again, err := p.Deliver(ctx, a)
		require.NoError(t, err)
		require.Len(t, again, 1)
		assert.Equal(t, imipproc.ActionAlreadyProcessed, again[0].Action)
	}
}

// A copy held in quarantine (or evidence, or recoverable items) never
// reached its owner: Deliver does not apply its invite, even when a
// delivery hook hands it over; once released to the inbox it is applied.
func TestDeliverSkipsAdminOnlyFolders(t *testing.T) {
	ctx := t.Context()
	users := []string{"ann@example.com"}
	p := func(f *fixture) *imipproc.Processor { return imipproc.New(f.mail, f.cal, nil) }
	for _, role := range []mailbox.Role{mailbox.RoleQuarantine, mailbox.RoleEvidence, mailbox.RoleRecoverable} {
		t.Run(string(role), func(t *testing.T) {
			f := newFixture(t, users...)
			raw := inviteMail("held-1@evil.example", organizer, users, inviteICS("REQUEST", "held-1@evil.example", organizer, 0, users), "REQUEST")
			addrs, err := f.mail.Deliver(ctx, raw, &mock.DeliverOptions{Role: role})
			require.NoError(t, err)
			require.Len(t, addrs, 1)
			out, err := p(f).Deliver(ctx, addrs[0])
			require.NoError(t, err)
			assert.Empty(t, out)
			got, err := f.cal.Find(ctx, users[0], calendar.Query{UID: "held-1@evil.example"})
			require.NoError(t, err)
			assert.Empty(t, got, "no entry for a held copy")

			moved, err := f.mail.Move(ctx, addrs, mailbox.In(mailbox.RoleInbox))
			require.NoError(t, err)
			require.NoError(t, moved[0].Err)
			out, err = p(f).Deliver(ctx, moved[0].To)
			require.NoError(t, err)
			require.Len(t, out, 1)
			assert.Equal(t, calendar.ActionCreated, out[0].Action)
		})
	}
}

func TestScanAndMessageIDs(t *testing.T) {
	ctx := t.Context()
	users := []string{"ann@example.com", "ben@example.com"}
	f := newFixture(t, users...)
	old := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, u := range users {
		_, err := f.mail.Append(ctx, u, mailbox.In(mailbox.RoleInbox), plainMail("plain-"+u+"@example.com", "friend@example.org", u), nil)
		require.NoError(t, err)
	}
	// ann: in the inbox; ben: filtered to Junk (still processed, as clients do).
	inv := inviteMail("scan-1@evil.example", organizer, users, inviteICS("REQUEST", "scan-1@evil.example", organizer, 0, users), "REQUEST")
	_, err := f.mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), inv, nil)
	require.NoError(t, err)
	_, err = f.mail.Append(ctx, "ben@example.com", mailbox.In(mailbox.RoleJunk), inv, nil)
	require.NoError(t, err)
	// An older invite, before the scan window.
	oldInv := inviteMail("scan-old@evil.example", organizer, users, inviteICS("REQUEST", "scan-old@evil.example", organizer, 0, users), "REQUEST")
	oldInv = []byte(strings.Replace(string(oldInv), "Date: Fri, 20 Nov 2026", "Date: Thu, 01 Oct 2026", 1))
	_, err = f.mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), oldInv, nil)
	require.NoError(t, err)

	p := imipproc.New(f.mail, f.cal, &imipproc.Options{Concurrency: 2})
	out, err := p.Scan(ctx, nil, old)
	require.NoError(t, err)
	require.Len(t, out, 2)
	for _, o := range out {
		assert.Equal(t, calendar.ActionCreated, o.Action, o.Address.String())
		assert.Equal(t, "scan-1@evil.example", o.UID)
	}
	for _, u := range users {
		got, err := f.cal.Find(ctx, u, calendar.Query{UID: "scan-1@evil.example"})
		require.NoError(t, err)
		assert.Len(t, got, 1, u)
		got, err = f.cal.Find(ctx, u, calendar.Query{UID: "scan-old@evil.example"})
		require.NoError(t, err)
		assert.Empty(t, got, u)
	}

	// A delivery hook naming message ids processes the old one too.
	out, err = p.ProcessMessageIDs(ctx, "ann@example.com", []string{"<scan-old@evil.example>", "scan-1@evil.example"})
	require.NoError(t, err)
	actions := map[string]calendar.Action{}
	for _, o := range out {
		actions[o.UID] = o.Action
	}
	assert.Equal(t, map[string]calendar.Action{"scan-old@evil.example": calendar.ActionCreated, "scan-1@evil.example": imipproc.ActionAlreadyProcessed}, actions)
}

func TestUnreadableInvite(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, "ann@example.com")
	raw := inviteMail("bad@evil.example", organizer, []string{"ann@example.com"}, "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:no uid\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "REQUEST")
	a, err := f.mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), raw, nil)
	require.NoError(t, err)
	out, err := imipproc.New(f.mail, f.cal, nil).Deliver(ctx, a)
	require.Error(t, err)
	assert.ErrorIs(t, err, calendar.ErrInvalid)
	require.Len(t, out, 1)
	assert.Equal(t, imipproc.ActionUnreadable, out[0].Action)

	_, err = imipproc.New(f.mail, f.cal, nil).Deliver(ctx, mailbox.Address{Mailbox: "ann@example.com", Folder: "INBOX", UIDValidity: a.UIDValidity, UID: a.UID + 100})
	assert.ErrorIs(t, err, mailbox.ErrNotFound)
}

// An entry that the user's own client created from the invite (no
// provenance property) is unknown: ApplyInvite leaves it alone and hard
// delete keeps it. Backfill marks it when the invite is still in the
// mailbox.
func TestBackfill(t *testing.T) {
	ctx := t.Context()
	users := []string{"ann@example.com"}
	f := newFixture(t, users...)
	ics := inviteICS("REQUEST", "client-made@evil.example", organizer, 0, users)
	a, err := f.mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), inviteMail("client@evil.example", organizer, users, ics, "REQUEST"), nil)
	require.NoError(t, err)
	// The client's own copy: the object without METHOD, no provenance.
	clientObj := strings.Replace(ics, "METHOD:REQUEST\r\n", "", 1)
	_, err = f.cal.Put(ctx, "ann@example.com", calendar.Entry{Calendar: "calendar", Raw: []byte(clientObj)})
	require.NoError(t, err)
	// Another client-made entry whose organizer differs is never backfilled.
	other := strings.Replace(strings.Replace(clientObj, "client-made@", "other-org@", 1), "mailto:"+organizer, "mailto:boss@example.com", 1)
	_, err = f.cal.Put(ctx, "ann@example.com", calendar.Entry{Calendar: "calendar", Raw: []byte(other)})
	require.NoError(t, err)

	out, err := imipproc.New(f.mail, f.cal, nil).Deliver(ctx, a)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, calendar.ActionSkipped, out[0].Action)
	rep, err := calendar.RemoveInviteEntries(ctx, f.cal, "ann@example.com", calendar.Series{UID: "client-made@evil.example", Organizer: organizer, MessageID: "client@evil.example"})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	require.Len(t, rep.Kept, 1)
	assert.Equal(t, calendar.ReasonUnknown, rep.Kept[0].Reason)

	out, err = imipproc.New(f.mail, f.cal, &imipproc.Options{Backfill: true}).Deliver(ctx, a)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Equal(t, imipproc.ActionBackfilled, out[0].Action)
	got, err := f.cal.Find(ctx, "ann@example.com", calendar.Query{UID: "client-made@evil.example"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, calendar.Provenance{Kind: calendar.ProvenanceInvite, MessageID: "client@evil.example", Organizer: organizer, Method: "REQUEST", SeriesUID: "client-made@evil.example", CreatedBy: "client@evil.example"}, got[0].Provenance)
	assert.Contains(t, string(got[0].Raw), "DESCRIPTION:Sign in", "backfill keeps the client's object")

	rep, err = calendar.RemoveInviteEntries(ctx, f.cal, "ann@example.com", calendar.Series{UID: "client-made@evil.example", Organizer: organizer, MessageID: "client@evil.example"})
	require.NoError(t, err)
	assert.Len(t, rep.Removed, 1)
	left, err := f.cal.Find(ctx, "ann@example.com", calendar.Query{UID: "other-org@evil.example"})
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, calendar.ProvenanceUnknown, left[0].Provenance.Kind)
}

func TestCancelledContext(t *testing.T) {
	f := newFixture(t, "ann@example.com")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := imipproc.New(f.mail, f.cal, nil).Scan(ctx, nil, time.Time{})
	assert.ErrorIs(t, err, context.Canceled)
}

// Backfill never marks the owner's own meeting: an invite naming the
// owner as ORGANIZER (anyone can write that) with the UID of the owner's
// meeting leaves it unknown, so a hard delete of that invite keeps it.
func TestBackfillNeverTakesOwnersMeeting(t *testing.T) {
	ctx := t.Context()
	ann := "ann@example.com"
	f := newFixture(t, ann)
	own := strings.Replace(inviteICS("REQUEST", "ann-own@example.com", ann, 0, []string{"eve@evil.example"}), "METHOD:REQUEST\r\n", "", 1)
	_, err := f.cal.Put(ctx, ann, calendar.Entry{Calendar: "calendar", Raw: []byte(own)})
	require.NoError(t, err)
	spoof := inviteICS("REQUEST", "ann-own@example.com", ann, 0, []string{ann})
	a, err := f.mail.Append(ctx, ann, mailbox.In(mailbox.RoleInbox), inviteMail("spoof@evil.example", "eve@evil.example", []string{ann}, spoof, "REQUEST"), nil)
	require.NoError(t, err)
	out, err := imipproc.New(f.mail, f.cal, &imipproc.Options{Backfill: true}).Deliver(ctx, a)
	require.NoError(t, err)
	for _, o := range out {
		assert.NotEqual(t, imipproc.ActionBackfilled, o.Action)
	}
	rep, err := calendar.RemoveInviteEntries(ctx, f.cal, ann, calendar.Series{UID: "ann-own@example.com", Organizer: ann, MessageID: "spoof@evil.example"})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed, "the owner's meeting is never removed")
	got, err := f.cal.Find(ctx, ann, calendar.Query{UID: "ann-own@example.com"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, calendar.ProvenanceUnknown, got[0].Provenance.Kind)
}

// Processing an earlier REQUEST again (a rescan, a replayed hook) does not
// undo a later CANCEL of the same SEQUENCE.
func TestRescanKeepsCancel(t *testing.T) {
	ctx := t.Context()
	ann := "ann@example.com"
	f := newFixture(t, ann)
	uid := "rescan@evil.example"
	p := imipproc.New(f.mail, f.cal, nil)
	deliver := func(id, method string) {
		t.Helper()
		a, err := f.mail.Append(ctx, ann, mailbox.In(mailbox.RoleInbox), inviteMail(id, organizer, []string{ann}, inviteICS(method, uid, organizer, 0, []string{ann}), method), nil)
		require.NoError(t, err)
		_, err = p.Deliver(ctx, a)
		require.NoError(t, err)
	}
	deliver("req@evil.example", "REQUEST")
	deliver("can@evil.example", "CANCEL")
	status := func() string {
		t.Helper()
		got, err := f.cal.Find(ctx, ann, calendar.Query{UID: uid})
		require.NoError(t, err)
		require.Len(t, got, 1)
		return got[0].Master.Status
	}
	require.Equal(t, "CANCELLED", status())
	_, err := p.ProcessMessageIDs(ctx, ann, []string{"req@evil.example"})
	require.NoError(t, err)
	assert.Equal(t, "CANCELLED", status())
	_, err = p.Scan(ctx, []string{ann}, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, "CANCELLED", status())
}

// A spoofed invite reusing the UID and ORGANIZER of a meeting the owner's
// client made, with an older SEQUENCE, is never backfilled as its creator:
// its hard delete must not remove the meeting.
func TestBackfillNeverClaimsForOlderSequence(t *testing.T) {
	ctx := t.Context()
	users := []string{"ann@example.com"}
	f := newFixture(t, users...)
	real := strings.Replace(inviteICS("REQUEST", "board@corp.example", organizer, 4, users), "METHOD:REQUEST\r\n", "", 1)
	_, err := f.cal.Put(ctx, "ann@example.com", calendar.Entry{Calendar: "calendar", Raw: []byte(real)})
	require.NoError(t, err)
	spoof := inviteICS("REQUEST", "board@corp.example", organizer, 1, users)
	a, err := f.mail.Append(ctx, "ann@example.com", mailbox.In(mailbox.RoleInbox), inviteMail("old@evil.example", organizer, users, spoof, "REQUEST"), nil)
	require.NoError(t, err)
	out, err := imipproc.New(f.mail, f.cal, &imipproc.Options{Backfill: true}).Deliver(ctx, a)
	require.NoError(t, err)
	for _, o := range out {
		assert.NotEqual(t, imipproc.ActionBackfilled, o.Action)
	}
	rep, err := calendar.RemoveInviteEntries(ctx, f.cal, "ann@example.com", calendar.Series{UID: "board@corp.example", Organizer: organizer, MessageID: "old@evil.example"})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)
	got, err := f.cal.Find(ctx, "ann@example.com", calendar.Query{UID: "board@corp.example"})
	require.NoError(t, err)
	require.Len(t, got, 1, "the meeting stays")
}
