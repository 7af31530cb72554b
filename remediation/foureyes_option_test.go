package remediation_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// Options.FourEyes turns the four-eyes rule off, or widens it to every
// proposal; a refusal is ErrFourEyes. Automation's proposals over its cap
// (its actor is "automation") are approved by a person as before.
func TestFourEyesOption(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("fo-1@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	f.deliver(msg("fo-2@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	f.deliver(msg("fo-3@evil.example", "evil@bad.example", "Invoice", alice, bob, carol), "", alice, bob, carol)

	def := f.engine(nil, &remediation.Options{BlastRadius: 2})
	p, err := def.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("fo-1@evil.example")})
	require.NoError(t, err)
	_, err = def.Approve(ctx, p.ID, "analyst")
	require.ErrorIs(t, err, remediation.ErrFourEyes)

	off := f.engine(nil, &remediation.Options{BlastRadius: 2, FourEyes: remediation.FourEyesOff})
	p, err = off.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("fo-1@evil.example")})
	require.NoError(t, err)
	r, err := off.Approve(ctx, p.ID, "analyst")
	require.NoError(t, err, "the rule is off")
	assert.Equal(t, remediation.StatusCompleted, r.Status)

	all := f.engine(nil, &remediation.Options{BlastRadius: 2, FourEyes: remediation.FourEyesAll})
	p, err = all.Propose(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "analyst", Selection: byID("fo-2@evil.example")})
	require.NoError(t, err)
	_, err = all.Approve(ctx, p.ID, "analyst")
	require.ErrorIs(t, err, remediation.ErrFourEyes, "widened to every proposal")
	r, err = all.Approve(ctx, p.ID, "lead")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, r.Status)

	// An automation proposal over the limit, approved by a person.
	p, err = def.Propose(ctx, remediation.Request{Action: remediation.SoftDelete, Source: remediation.SourceAutomation,
		Actor: remediation.DecidedByAutomation, Confirm: true, MaxCopies: 2, Selection: byID("fo-3@evil.example")})
	require.NoError(t, err)
	r, err = def.Approve(ctx, p.ID, "secops")
	require.NoError(t, err)
	assert.Equal(t, int64(3), r.Counts.Succeeded)
}

// A queued proposal in the journal that its own actor approved (written
// by a version without the rule) is refused by Resume: nothing purged.
func TestResumeRefusesSelfApprovedProposal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(msg("sa-1@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	j := journal.NewMemory()
	now := time.Now()
	require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
		ID: "self-1", Source: remediation.SourceManual, Action: remediation.HardDelete, Actor: "analyst", DecidedBy: "Analyst",
		Status: remediation.StatusQueued, Created: now, Decided: now, Expires: now.Add(time.Hour),
		Selection: byID("sa-1@evil.example"),
	}}))
	recs, err := f.engine(j, nil).Resume(ctx)
	require.ErrorIs(t, err, remediation.ErrFourEyes)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusFailed, recs[0].Status)
	assert.Equal(t, []string{alice + ":INBOX"}, f.where("sa-1@evil.example"), "nothing purged")
}
