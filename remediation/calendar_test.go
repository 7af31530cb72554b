package remediation_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/calendar"
	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// inviteWithICS builds an invite with the inline text/calendar part and
// the same object as an .ics attachment, as Outlook sends them.
func inviteWithICS(id, from, uid string, to ...string) []byte {
	single := string(invite(id, from, uid, to...))
	ics := single[strings.Index(single, "BEGIN:VCALENDAR"):]
	return []byte("Message-ID: <" + id + ">\r\n" +
		"From: " + from + "\r\n" +
		"To: " + strings.Join(to, ", ") + "\r\n" +
		"Subject: Invitation: Payroll update\r\n" +
		"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
		"\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease confirm your payroll details.\r\n" +
		"--b1\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n" + ics +
		"--b1\r\nContent-Type: application/ics; name=\"invite.ics\"\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n" + ics +
		"--b1--\r\n")
}

func entries(t *testing.T, f *fixture, owner, uid string) []calendar.Entry {
	t.Helper()
	es, err := f.tenant.Find(context.Background(), owner, calendar.Query{UID: uid})
	require.NoError(t, err)
	return es
}

func TestHardDeleteRemovesInviteEntries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	addrs := f.deliver(inviteWithICS("inv1@evil.example", "ceo@evil.example", "uid-payroll-1", alice, bob, carol), "", alice, bob, carol)
	for _, u := range []string{alice, bob, carol} {
		es := entries(t, f, u, "uid-payroll-1")
		require.Len(t, es, 1, "delivery created the invite entry for %s", u)
		assert.Equal(t, calendar.ProvenanceInvite, es[0].Provenance.Kind)
	}
	// Carol imports the attached .ics: her entry is hers now.
	_, err := f.tenant.ImportICS(ctx, carol, addrs[2], "invite.ics")
	require.NoError(t, err)
	require.Equal(t, calendar.ProvenanceImported, entries(t, f, carol, "uid-payroll-1")[0].Provenance.Kind)
	// Dave has a user-created entry that reuses nothing.
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("inv1@evil.example")})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, rec.Counts)
	assert.Empty(t, f.where("inv1@evil.example"))
	assert.Empty(t, entries(t, f, alice, "uid-payroll-1"))
	assert.Empty(t, entries(t, f, bob, "uid-payroll-1"))
	assert.Len(t, entries(t, f, carol, "uid-payroll-1"), 1, "the imported entry is kept")

	got := map[string]string{}
	for _, d := range rec.Calendar {
		got[d.Owner] = d.Verdict + "/" + d.Reason
		assert.Equal(t, "uid-payroll-1", d.UID)
		assert.NotEmpty(t, d.Detail)
	}
	assert.Equal(t, map[string]string{
		alice: "removed/" + string(calendar.ReasonInviteMessage),
		bob:   "removed/" + string(calendar.ReasonInviteMessage),
		carol: "kept/" + string(calendar.ReasonImported),
	}, got)
	// The decisions are journaled.
	g, err := e.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, rec.Calendar, g.Calendar)
}

func TestHardDeleteMalformedInvite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	raw := []byte("Message-ID: <bad@evil.example>\r\nFrom: x@evil.example\r\nTo: " + alice + "\r\nSubject: meeting\r\n" +
		"Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:no uid, no end\r\n")
	f.deliver(raw, "", alice)
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("bad@evil.example")})
	require.NoError(t, err, "a malformed invite does not block the hard delete")
	assert.Equal(t, int64(1), rec.Counts.Succeeded)
	assert.Empty(t, f.where("bad@evil.example"))
	require.NotEmpty(t, rec.Calendar)
	assert.Equal(t, remediation.VerdictError, rec.Calendar[0].Verdict)
	assert.Equal(t, "unreadable-invite", rec.Calendar[0].Reason)
}

func TestReleaseProcessesInvite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(invite("q-inv@partner.example", "pm@partner.example", "uid-kickoff", alice, bob), mailbox.RoleQuarantine, alice, bob)
	assert.Empty(t, entries(t, f, alice, "uid-kickoff"), "a quarantined invite is not processed")
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("q-inv@partner.example"), Recipients: []string{alice}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Counts.Succeeded)
	es := entries(t, f, alice, "uid-kickoff")
	require.Len(t, es, 1, "released like a fresh delivery")
	assert.Equal(t, calendar.ProvenanceInvite, es[0].Provenance.Kind)
	assert.Empty(t, entries(t, f, bob, "uid-kickoff"), "not released to bob")
	require.Len(t, rec.Calendar, 1)
	assert.Equal(t, remediation.VerdictApplied, rec.Calendar[0].Verdict)
	assert.Equal(t, alice, rec.Calendar[0].Owner)

	held, err := e.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Equal(t, []string{bob}, held[0].Recipients)
	hist, err := e.ReleaseHistory(ctx)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, "soc", hist[0].Actor)
	assert.Equal(t, []string{alice}, hist[0].Recipients)
	assert.Equal(t, "q-inv@partner.example", hist[0].MessageID)
}

// An invite sent only as an .ics attachment whose Content-Type names the
// method (as some calendar servers send it) is processed on release, as
// on delivery; one without a method is a file to import and is not.
func TestReleaseProcessesAttachedInvite(t *testing.T) {
	ctx := context.Background()
	single := string(invite("x", "pm@partner.example", "uid-attached", alice))
	ics := single[strings.Index(single, "BEGIN:VCALENDAR"):]
	mail := func(id, contentType string) []byte {
		return []byte("Message-ID: <" + id + ">\r\nFrom: pm@partner.example\r\nTo: " + alice + "\r\n" +
			"Subject: Kick-off\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
			"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attached invitation.\r\n" +
			"--b1\r\nContent-Type: " + contentType + "\r\nContent-Disposition: attachment; filename=\"invite.ics\"\r\n\r\n" + ics +
			"--b1--\r\n")
	}
	for _, tc := range []struct {
		name, contentType string
		applied           bool
	}{
		{"method named", "text/calendar; method=REQUEST; name=\"invite.ics\"", true},
		{"no method", "application/ics; name=\"invite.ics\"", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, alice)
			f.deliver(mail("att@partner.example", tc.contentType), mailbox.RoleQuarantine, alice)
			require.Empty(t, entries(t, f, alice, "uid-attached"))
			rec, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc",
				Selection: byID("att@partner.example")})
			require.NoError(t, err)
			require.Equal(t, int64(1), rec.Counts.Succeeded)

			// The release does what delivery to the inbox does.
			g := newFixture(t, alice)
			g.deliver(mail("att@partner.example", tc.contentType), "", alice)
			assert.Len(t, entries(t, g, alice, "uid-attached"), len(entries(t, f, alice, "uid-attached")), "release matches delivery")
			if tc.applied {
				require.Len(t, entries(t, f, alice, "uid-attached"), 1)
				require.Len(t, rec.Calendar, 1)
				assert.Equal(t, remediation.VerdictApplied, rec.Calendar[0].Verdict)
			} else {
				assert.Empty(t, entries(t, f, alice, "uid-attached"))
				assert.Empty(t, rec.Calendar)
			}
		})
	}
}

// A release, or a move to the inbox, out of quarantine that was
// interrupted after the copy reached the inbox but before its invite was
// applied applies the invite when it resumes, once. A move to the inbox
// out of junk does not: that invite was processed on delivery, and the
// user may have removed its entry since.
func TestReleaseResumeAppliesInvite(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		action  remediation.Action
		from    mailbox.Role
		applied int
	}{
		{"release", remediation.Release, mailbox.RoleQuarantine, 1},
		{"move to inbox from quarantine", remediation.MoveToInbox, mailbox.RoleQuarantine, 1},
		{"move to inbox from junk", remediation.MoveToInbox, mailbox.RoleJunk, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, alice)
			f.deliver(invite("q-res@partner.example", "pm@partner.example", "uid-resume", alice), tc.from, alice)
			for _, es := range entries(t, f, alice, "uid-resume") {
				// Delivered to junk: processed, then removed by the user.
				require.NoError(t, f.tenant.Delete(ctx, alice, es.Calendar, es.ID, ""))
			}
			j := journal.NewMemory()
			e := f.engine(j, nil)
			f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultAfter})
			rec, err := e.Execute(ctx, remediation.Request{Action: tc.action, Actor: "soc", Selection: byID("q-res@partner.example")})
			require.Error(t, err)
			require.NotNil(t, rec)
			f.tenant.ClearFaults()
			require.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("q-res@partner.example"), "the move happened")
			require.Empty(t, entries(t, f, alice, "uid-resume"), "the interruption came before the invite")

			recs, err := f.engine(j, nil).Resume(ctx)
			require.NoError(t, err)
			require.Len(t, recs, 1)
			assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
			es := entries(t, f, alice, "uid-resume")
			require.Len(t, es, tc.applied)
			if tc.applied > 0 {
				assert.Equal(t, calendar.ProvenanceInvite, es[0].Provenance.Kind)
			}
			applied := 0
			for _, d := range recs[0].Calendar {
				if d.Verdict == remediation.VerdictApplied {
					applied++
				}
			}
			assert.Equal(t, tc.applied, applied)
		})
	}
}

// ReleaseHistory gives one event per released message even when relays
// changed the case of its Message-ID on the way to some recipients.
func TestReleaseHistoryNormalizesMessageIDs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("Held-1@Partner.example", "pm@partner.example", "Contract", alice, bob), mailbox.RoleQuarantine, alice)
	f.deliver(msg("held-1@partner.example", "pm@partner.example", "Contract", alice, bob), mailbox.RoleQuarantine, bob)
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("held-1@partner.example")})
	require.NoError(t, err)
	require.Equal(t, int64(2), rec.Counts.Succeeded)
	hist, err := e.ReleaseHistory(ctx)
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, []string{alice, bob}, hist[0].Recipients)
	assert.Equal(t, rec.ID, hist[0].RecordID)
}

// A soft delete with RemoveInvites removes the invite-created entries
// (never the imported one), and its undo puts them back as they were,
// also after a restart and a compaction of the journal.
func TestSoftDeleteRemoveInvitesAndUndo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	addrs := f.deliver(inviteWithICS("sd-inv@evil.example", "ceo@evil.example", "uid-sd", alice, bob, carol), "", alice, bob, carol)
	_, err := f.tenant.ImportICS(ctx, carol, addrs[2], "invite.ics")
	require.NoError(t, err)
	beforeAlice := entries(t, f, alice, "uid-sd")
	require.Len(t, beforeAlice, 1)

	j := journal.NewMemory()
	e := f.engine(j, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("sd-inv@evil.example")})
	require.NoError(t, err)
	assert.Equal(t, int64(3), rec.Counts.Succeeded)
	assert.True(t, rec.RemoveInvites)
	assert.Empty(t, entries(t, f, alice, "uid-sd"))
	assert.Empty(t, entries(t, f, bob, "uid-sd"))
	assert.Len(t, entries(t, f, carol, "uid-sd"), 1, "the imported entry is kept")
	verdicts := map[string]string{}
	for _, d := range rec.Calendar {
		verdicts[d.Owner] = d.Verdict
	}
	assert.Equal(t, map[string]string{alice: remediation.VerdictRemoved, bob: remediation.VerdictRemoved, carol: remediation.VerdictKept}, verdicts)

	// Bob gets a new invite of the same series meanwhile: his undo keeps it.
	newer := strings.Replace(string(inviteWithICS("sd-inv2@evil.example", "ceo@evil.example", "uid-sd", bob)), "SEQUENCE:0", "SEQUENCE:1", 2)
	f.deliver([]byte(newer), "", bob)
	require.Len(t, entries(t, f, bob, "uid-sd"), 1)

	// Restart, compact, then undo.
	e = f.engine(j, nil)
	_, err = e.Compact(ctx, time.Time{})
	require.NoError(t, err)
	u, err := e.Undo(ctx, rec.ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
	assert.Equal(t, int64(3), u.Counts.Succeeded)
	got := map[string]string{}
	for _, d := range u.Calendar {
		got[d.Owner] = d.Verdict + "/" + d.Reason
	}
	assert.Equal(t, map[string]string{alice: "restored/undo", bob: "kept/exists"}, got)
	afterAlice := entries(t, f, alice, "uid-sd")
	require.Len(t, afterAlice, 1)
	assert.Equal(t, beforeAlice[0].Provenance, afterAlice[0].Provenance)
	assert.Equal(t, beforeAlice[0].Calendar, afterAlice[0].Calendar)
	assert.Equal(t, beforeAlice[0].Master, afterAlice[0].Master)
	bobs := entries(t, f, bob, "uid-sd")
	require.Len(t, bobs, 1)
	assert.Equal(t, "sd-inv2@evil.example", bobs[0].Provenance.MessageID, "bob's newer entry stands")
	assert.Len(t, entries(t, f, carol, "uid-sd"), 1)

	// The undo's decisions are journaled: a new engine reads them back.
	g, err := f.engine(j, nil).Get(ctx, u.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, u.Calendar, g.Calendar)
}

func TestRemoveInvitesRefusedForOtherActions(t *testing.T) {
	f := newFixture(t, alice)
	e := f.engine(nil, nil)
	for _, a := range []remediation.Action{remediation.HardDelete, remediation.MoveToInbox, remediation.Release, remediation.DeleteSenderCopy} {
		_, err := e.Execute(context.Background(), remediation.Request{Action: a, Actor: "soc", RemoveInvites: true, Selection: byID("x@evil.example")})
		assert.ErrorIs(t, err, remediation.ErrInvalidRequest, a)
	}
}

// An undo interrupted before it restored the entries restores them when
// it resumes, once.
func TestUndoResumeRestoresInvites(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(invite("ur-inv@evil.example", "ceo@evil.example", "uid-ur", alice), "", alice)
	j := journal.NewMemory()
	e := f.engine(j, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", RemoveInvites: true, Selection: byID("ur-inv@evil.example")})
	require.NoError(t, err)
	require.Empty(t, entries(t, f, alice, "uid-ur"))

	f.tenant.InjectOp(mock.OpPut, mock.Fault{Mode: mock.FaultBefore})
	u, err := e.Undo(ctx, rec.ID, "soc")
	require.Error(t, err)
	require.NotNil(t, u)
	assert.True(t, u.Incomplete, "a failed restore leaves the undo to resume")
	f.tenant.ClearFaults()
	assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("ur-inv@evil.example"), "the copy is back")
	require.Empty(t, entries(t, f, alice, "uid-ur"))

	recs, err := f.engine(j, nil).Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
	require.Len(t, entries(t, f, alice, "uid-ur"), 1)
	restored := 0
	for _, d := range recs[0].Calendar {
		if d.Verdict == remediation.VerdictRestored {
			restored++
		}
	}
	assert.Equal(t, 1, restored)
}

// With RemoveInvites, the entries are journaled before they are removed:
// a crash at that write removes nothing, and the resumed action then
// removes and journals them, so the undo restores them.
func TestRemoveInvitesCrashBeforeJournal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(invite("cr-inv@evil.example", "ceo@evil.example", "uid-cr", alice), "", alice)
	require.Len(t, entries(t, f, alice, "uid-cr"), 1)
	inner := journal.NewMemory()
	_, err := f.engine(&failingJournal{Memory: inner, fail: func(e remediation.Entry) bool {
		return e.Kind == remediation.EntryCalendar && len(e.Calendar.Removed) > 0
	}}, nil).Execute(ctx, remediation.Request{
		Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("cr-inv@evil.example")})
	require.Error(t, err)
	require.Len(t, entries(t, f, alice, "uid-cr"), 1, "nothing removed before it was journaled")

	e2 := f.engine(inner, nil)
	recs, err := e2.Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
	require.Empty(t, entries(t, f, alice, "uid-cr"), "removed on resume")
	_, err = e2.Undo(ctx, recs[0].ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("cr-inv@evil.example"))
	assert.Len(t, entries(t, f, alice, "uid-cr"), 1, "the undo restores the entry")
}

// Undoing a release puts the copy back in quarantine and removes the
// calendar entry its invite created on release.
func TestUndoReleaseRemovesAppliedInvite(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(invite("q-undo@partner.example", "pm@partner.example", "uid-q-undo", alice), mailbox.RoleQuarantine, alice)
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("q-undo@partner.example")})
	require.NoError(t, err)
	require.Len(t, entries(t, f, alice, "uid-q-undo"), 1)
	u, err := e.Undo(ctx, rec.ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
	assert.Equal(t, []string{alice + ":" + mock.FolderQuarantine}, f.where("q-undo@partner.example"))
	assert.Empty(t, entries(t, f, alice, "uid-q-undo"))
	require.Len(t, u.Calendar, 1)
	assert.Equal(t, remediation.VerdictRemoved, u.Calendar[0].Verdict)
}

// changingCal runs before once, just before the first Delete, as another
// client writing between the engine's read (and journal) and its delete.
type changingCal struct {
	calendar.Store
	before func()
}

func (c *changingCal) Delete(ctx context.Context, owner, cal, id, etag string) error {
	if f := c.before; f != nil {
		c.before = nil
		f()
	}
	return c.Store.Delete(ctx, owner, cal, id, etag)
}

// TestRemoveInvitesEntryChangedMeanwhile: with RemoveInvites, each entry is
// journaled before it is removed, and removed only in the version
// journaled. An invite update that lands in between is journaled and
// removed in its turn, and the undo puts the updated version back; an .ics
// the user imports over the entry in between is theirs, and stays.
func TestRemoveInvitesEntryChangedMeanwhile(t *testing.T) {
	ctx := context.Background()
	t.Run("an invite update", func(t *testing.T) {
		f := newFixture(t, alice)
		f.deliver(invite("ch-1@evil.example", "ceo@evil.example", "uid-ch", alice), "", alice)
		update := strings.NewReplacer("SEQUENCE:0", "SEQUENCE:1", "SUMMARY:Payroll update", "SUMMARY:Payroll update (moved)").
			Replace(string(invite("ch-2@evil.example", "ceo@evil.example", "uid-ch", alice)))
		cal := &changingCal{Store: f.tenant, before: func() { f.deliver([]byte(update), "", alice) }}
		j := journal.NewMemory()
		e, err := remediation.New(f.tenant, cal, j, &remediation.Options{Logger: testLogger(t)})
		require.NoError(t, err)
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("ch-1@evil.example")})
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
		assert.Empty(t, entries(t, f, alice, "uid-ch"), "the updated entry is removed too")
		var verdicts []string
		for _, d := range rec.Calendar {
			verdicts = append(verdicts, d.Verdict+" "+d.Summary)
		}
		assert.Equal(t, []string{remediation.VerdictRemoved + " Payroll update (moved)"}, verdicts)

		u, err := e.Undo(ctx, rec.ID, "soc")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
		es := entries(t, f, alice, "uid-ch")
		require.Len(t, es, 1)
		assert.Equal(t, "Payroll update (moved)", es[0].Master.Summary, "the version removed is the version restored")
	})
	t.Run("an import by the user", func(t *testing.T) {
		f := newFixture(t, alice)
		f.deliver(inviteWithICS("ch-3@evil.example", "ceo@evil.example", "uid-imp", alice), "", alice)
		p, err := mailbox.Parse(inviteWithICS("ch-3@evil.example", "ceo@evil.example", "uid-imp", alice))
		require.NoError(t, err)
		var ics []byte
		for _, c := range p.Calendars {
			if c.Filename != "" {
				ics = c.Raw
			}
		}
		require.NotEmpty(t, ics)
		cal := &changingCal{Store: f.tenant, before: func() {
			_, err := calendar.Import(ctx, f.tenant, alice, ics, "ch-3@evil.example", "invite.ics")
			require.NoError(t, err)
		}}
		e, err := remediation.New(f.tenant, cal, journal.NewMemory(), &remediation.Options{Logger: testLogger(t)})
		require.NoError(t, err)
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", RemoveInvites: true, Selection: byID("ch-3@evil.example")})
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
		es := entries(t, f, alice, "uid-imp")
		require.Len(t, es, 1, "the imported entry stays")
		assert.Equal(t, calendar.ProvenanceImported, es[0].Provenance.Kind)
		require.Len(t, rec.Calendar, 1)
		assert.Equal(t, remediation.VerdictKept, rec.Calendar[0].Verdict)

		u, err := e.Undo(ctx, rec.ID, "soc")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
		es = entries(t, f, alice, "uid-imp")
		require.Len(t, es, 1)
		assert.Equal(t, calendar.ProvenanceImported, es[0].Provenance.Kind, "the undo does not put the invite's version over the user's")
	})
}

// failingCal fails the first Delete it is asked for.
type failingCal struct {
	calendar.Store
	failed bool
}

func (c *failingCal) Delete(ctx context.Context, owner, cal, id, etag string) error {
	if !c.failed {
		c.failed = true
		return errors.New("calendar server unavailable")
	}
	return c.Store.Delete(ctx, owner, cal, id, etag)
}

// TestRemoveInvitesDecidesEachEntryOnce: an entry found through several
// refs of one plan (an invite and its update, selected together) is
// decided once; a resume after a failed delete repeats no decision.
func TestRemoveInvitesDecidesEachEntryOnce(t *testing.T) {
	ctx := context.Background()
	count := func(rec *remediation.Record) map[string]int {
		n := map[string]int{}
		for _, d := range rec.Calendar {
			n[d.Owner+" "+d.Verdict+" "+d.UID]++
		}
		return n
	}
	t.Run("an invite and its update", func(t *testing.T) {
		f := newFixture(t, alice)
		f.deliver(invite("dup-1@evil.example", "ceo@evil.example", "uid-dup", alice), "", alice)
		upd := strings.Replace(string(invite("dup-2@evil.example", "ceo@evil.example", "uid-dup", alice)), "SEQUENCE:0", "SEQUENCE:1", 1)
		f.deliver([]byte(upd), "", alice)
		rec, err := f.engine(nil, nil).Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{Senders: []string{"ceo@evil.example"}}}})
		require.NoError(t, err)
		assert.Equal(t, int64(2), rec.Counts.Succeeded)
		assert.Equal(t, map[string]int{alice + " removed uid-dup": 1}, count(rec))
		assert.Empty(t, entries(t, f, alice, "uid-dup"))
	})
	t.Run("resume after a failed delete", func(t *testing.T) {
		f := newFixture(t, alice)
		addrs := f.deliver(inviteWithICS("keep@evil.example", "ceo@evil.example", "uid-keep", alice), "", alice)
		_, err := f.tenant.ImportICS(ctx, alice, addrs[0], "invite.ics")
		require.NoError(t, err)
		f.deliver(invite("gone@evil.example", "ceo@evil.example", "uid-gone", alice), "", alice)
		j := journal.NewMemory()
		e, err := remediation.New(f.tenant, &failingCal{Store: f.tenant}, j, &remediation.Options{Logger: testLogger(t)})
		require.NoError(t, err)
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", RemoveInvites: true,
			Selection: remediation.Selection{Criteria: &mailbox.Criteria{Senders: []string{"ceo@evil.example"}}}})
		require.Error(t, err)
		require.NotNil(t, rec)
		assert.Len(t, entries(t, f, alice, "uid-gone"), 1, "its delete failed")

		e2, err := remediation.New(f.tenant, f.tenant, j, &remediation.Options{Logger: testLogger(t)})
		require.NoError(t, err)
		recs, err := e2.Resume(ctx)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
		assert.Equal(t, map[string]int{alice + " kept uid-keep": 1, alice + " removed uid-gone": 1}, count(recs[0]))
		assert.Empty(t, entries(t, f, alice, "uid-gone"))
		assert.Len(t, entries(t, f, alice, "uid-keep"), 1)

		// The undo puts back the one entry removed.
		u, err := e2.Undo(ctx, rec.ID, "soc")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
		assert.Len(t, entries(t, f, alice, "uid-gone"), 1)
		assert.Len(t, entries(t, f, alice, "uid-keep"), 1)
	})
}

// TestUndoNeverOverwritesAnEntry: an undo puts an entry back only into a
// calendar that holds no entry of its UID, whatever that entry is (here
// one the user imported without an organizer); and an entry the action
// journaled but then kept, because the user imported over it in between,
// is not put back.
func TestUndoNeverOverwritesAnEntry(t *testing.T) {
	ctx := context.Background()
	own := func(uid string) []byte {
		return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261123T090000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:My own notes\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	}
	t.Run("the user's entry after the action", func(t *testing.T) {
		f := newFixture(t, alice)
		f.deliver(invite("ow-1@evil.example", "ceo@evil.example", "uid-ow", alice), "", alice)
		e := f.engine(nil, nil)
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("ow-1@evil.example")})
		require.NoError(t, err)
		require.Empty(t, entries(t, f, alice, "uid-ow"))
		_, err = calendar.Import(ctx, f.tenant, alice, own("uid-ow"), "", "notes.ics")
		require.NoError(t, err)

		u, err := e.Undo(ctx, rec.ID, "soc")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
		es := entries(t, f, alice, "uid-ow")
		require.Len(t, es, 1)
		assert.Equal(t, "My own notes", es[0].Master.Summary)
		require.Len(t, u.Calendar, 1)
		assert.Equal(t, remediation.VerdictKept+"/exists", u.Calendar[0].Verdict+"/"+u.Calendar[0].Reason)
	})
	t.Run("the user's import during the action", func(t *testing.T) {
		f := newFixture(t, alice)
		f.deliver(invite("ow-2@evil.example", "ceo@evil.example", "uid-ow2", alice), "", alice)
		cal := &changingCal{Store: f.tenant, before: func() {
			_, err := calendar.Import(ctx, f.tenant, alice, own("uid-ow2"), "", "notes.ics")
			require.NoError(t, err)
		}}
		e, err := remediation.New(f.tenant, cal, journal.NewMemory(), &remediation.Options{Logger: testLogger(t)})
		require.NoError(t, err)
		rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", RemoveInvites: true, Selection: byID("ow-2@evil.example")})
		require.NoError(t, err)
		require.Len(t, rec.Calendar, 1)
		assert.Equal(t, remediation.VerdictKept, rec.Calendar[0].Verdict)
		// The user removes their entry; the undo has nothing to put back.
		es := entries(t, f, alice, "uid-ow2")
		require.Len(t, es, 1)
		require.NoError(t, f.tenant.Delete(ctx, alice, es[0].Calendar, es[0].ID, ""))

		u, err := e.Undo(ctx, rec.ID, "soc")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
		assert.Empty(t, entries(t, f, alice, "uid-ow2"), "the invite's version was never removed by the action")
		assert.Empty(t, u.Calendar)
	})
}

// TestUndoRestoresEveryCalendar: entries of one series in two calendars
// are both removed and both put back.
func TestUndoRestoresEveryCalendar(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(invite("two@evil.example", "ceo@evil.example", "uid-two", alice), "", alice)
	es := entries(t, f, alice, "uid-two")
	require.Len(t, es, 1)
	require.NoError(t, f.tenant.CreateCalendar(alice, "work", "Work"))
	copyEnt := es[0]
	copyEnt.Calendar, copyEnt.ID = "work", ""
	_, err := f.tenant.Put(ctx, alice, copyEnt)
	require.NoError(t, err)
	require.Len(t, entries(t, f, alice, "uid-two"), 2)

	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", RemoveInvites: true, Selection: byID("two@evil.example")})
	require.NoError(t, err)
	require.Empty(t, entries(t, f, alice, "uid-two"))
	assert.Len(t, rec.Calendar, 2)

	u, err := e.Undo(ctx, rec.ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, u.Status, u.Error)
	var cals []string
	for _, x := range entries(t, f, alice, "uid-two") {
		cals = append(cals, x.Calendar)
	}
	slices.Sort(cals)
	assert.Equal(t, []string{es[0].Calendar, "work"}, cals)
}
