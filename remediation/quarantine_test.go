package remediation_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A quarantine moves the copies to each mailbox's quarantine folder,
// leaves evidence and the sender's copy, finds a copy already held as
// already there, and says why in Held; its undo brings the copies back to
// the folders they came from, and Held no longer lists them.
func TestQuarantineHeldAndUndo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("q-1@evil.example", "ceo@evil.example", "Wire transfer", alice, bob), "", alice)
	f.deliver(msg("q-1@evil.example", "ceo@evil.example", "Wire transfer", alice, bob), mailbox.RoleJunk, bob)
	f.deliver(msg("q-1@evil.example", "ceo@evil.example", "Wire transfer", alice, bob), mailbox.RoleQuarantine, carol)
	e := f.engine(nil, nil)

	rec, err := e.Execute(ctx, remediation.Request{
		Action: remediation.Quarantine, Name: "CEO fraud", Description: "wire transfer request from a look-alike domain",
		Actor: "analyst@corp.example", Selection: byID("q-1@evil.example"),
	})
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, rec.Status, rec.Error)
	assert.Equal(t, map[string]int{"succeeded": 2, "already_in_destination": 1}, kinds(outcomes(t, e, rec.ID)))
	assert.Equal(t, []string{alice + ":" + mock.FolderQuarantine, bob + ":" + mock.FolderQuarantine, carol + ":" + mock.FolderQuarantine}, f.where("q-1@evil.example"))

	held, err := e.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	require.Len(t, held[0].Reasons, 1)
	why := held[0].Reasons[0]
	assert.Equal(t, rec.ID, why.RecordID)
	assert.Equal(t, "CEO fraud", why.Name)
	assert.Equal(t, "wire transfer request from a look-alike domain", why.Description)
	assert.Equal(t, "analyst@corp.example", why.Actor)
	assert.Equal(t, remediation.SourceManual, why.Source)
	assert.Len(t, why.Copies, 3, "the copy found held is accounted for too")

	u, err := e.Undo(ctx, rec.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, int64(2), u.Counts.Succeeded)
	assert.Equal(t, []string{alice + ":" + mock.FolderInbox, bob + ":" + mock.FolderJunk, carol + ":" + mock.FolderQuarantine}, f.where("q-1@evil.example"),
		"back where each copy came from; the one held before stays held")
	held, err = e.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Equal(t, []string{carol}, held[0].Recipients)
	assert.Empty(t, held[0].Reasons, "an undone quarantine is no reason")
}

// Evidence and the sender's own copy are not quarantined.
func TestQuarantineGuards(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("q-g@corp.example", alice, "Minutes", bob), "", bob)
	_, err := f.tenant.Deliver(ctx, msg("q-g@corp.example", alice, "Minutes", bob), &mock.DeliverOptions{Recipients: []string{bob}, Role: mailbox.RoleEvidence, SenderCopy: true})
	require.NoError(t, err)
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Quarantine, Actor: "soc", Selection: byID("q-g@corp.example")})
	require.NoError(t, err)
	got := map[string]string{}
	for _, o := range outcomes(t, e, rec.ID) {
		got[o.Copy.Mailbox+":"+o.Copy.Folder] = o.Kind.String() + " " + o.Detail
	}
	assert.Equal(t, map[string]string{
		bob + ":" + mock.FolderInbox:    "succeeded ",
		bob + ":" + mock.FolderEvidence: "skipped evidence copy: kept in the admin-only evidence store",
		alice + ":" + mock.FolderSent:   "skipped the sender's copy in a Sent folder: use delete_sender_copy",
	}, got)
}

// With RemoveInvites a quarantine takes the entries the invite created
// off the calendars and its undo puts them back; a release applies the
// invite again, as a fresh delivery would.
func TestQuarantineRemoveInvites(t *testing.T) {
	ctx := context.Background()
	for _, back := range []string{"undo", "release"} {
		t.Run(back, func(t *testing.T) {
			f := newFixture(t, alice, bob)
			f.deliver(invite("q-inv@evil.example", "hr@evil.example", "uid-q", alice, bob), "", alice, bob)
			require.Len(t, entries(t, f, alice, "uid-q"), 1)
			e := f.engine(journal.NewMemory(), nil)
			rec, err := e.Execute(ctx, remediation.Request{Action: remediation.Quarantine, Actor: "soc", RemoveInvites: true, Selection: byID("q-inv@evil.example")})
			require.NoError(t, err)
			assert.Equal(t, int64(2), rec.Counts.Succeeded)
			assert.Empty(t, entries(t, f, alice, "uid-q"), "the invite's entry is off the calendar while held")
			assert.Empty(t, entries(t, f, bob, "uid-q"))

			if back == "undo" {
				_, err = e.Undo(ctx, rec.ID, "soc")
			} else {
				_, err = e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("q-inv@evil.example")})
			}
			require.NoError(t, err)
			assert.Equal(t, []string{alice + ":" + mock.FolderInbox, bob + ":" + mock.FolderInbox}, f.where("q-inv@evil.example"))
			for _, u := range []string{alice, bob} {
				got := entries(t, f, u, "uid-q")
				require.Len(t, got, 1, u)
				assert.Equal(t, "q-inv@evil.example", got[0].Provenance.MessageID)
			}
		})
	}
}

// A message quarantined outside the engine (a filter on delivery) is
// held without a reason; a later quarantine action that finds it there
// gives it one.
func TestHeldReasonOfCopiesFoundHeld(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(msg("q-f@evil.example", "x@evil.example", "Invoice", alice), mailbox.RoleQuarantine, alice)
	e := f.engine(nil, nil)
	held, err := e.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held, 1)
	assert.Empty(t, held[0].Reasons)

	rec, err := e.Execute(ctx, remediation.Request{
		Action: remediation.Quarantine, Name: "invoice-lure", Source: remediation.SourceDetectionRule, RuleName: "invoice-lure",
		Actor: "detection-rules", Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"q-f@evil.example"}, Roles: []mailbox.Role{mailbox.RoleQuarantine}}, Mailboxes: []string{alice}},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Counts.AlreadyInDestination)
	held, err = e.Held(ctx, nil)
	require.NoError(t, err)
	require.Len(t, held[0].Reasons, 1)
	assert.Equal(t, "invoice-lure", held[0].Reasons[0].RuleName)
	assert.Equal(t, remediation.SourceDetectionRule, held[0].Reasons[0].Source)
}
