package remediation_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/remediation"
)

// By default a proposer cannot approve its own hard delete, nor its own
// proposal above the blast-radius limit (however it spells its name); the
// proposal stays pending and another person approves it. A proposal
// within the limit, other than a hard delete, its actor may approve.
func TestProposerCannotApproveOwnHardDeleteOrOverLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("fe-1@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	f.deliver(msg("fe-2@evil.example", "evil@bad.example", "Invoice", alice, bob, carol), "", alice, bob, carol)
	f.deliver(msg("fe-3@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	e := f.engine(nil, &remediation.Options{BlastRadius: 2})

	hard, err := e.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst@corp.example", Selection: byID("fe-1@evil.example")})
	require.NoError(t, err)
	over, err := e.Propose(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst@corp.example", Confirm: true, Selection: byID("fe-2@evil.example")})
	require.NoError(t, err)
	for _, p := range []*remediation.Record{hard, over} {
		for _, self := range []string{"analyst@corp.example", " Analyst@Corp.Example "} {
			_, err := e.Approve(ctx, p.ID, self)
			require.Error(t, err, "%s approved by its own actor %q", p.Action, self)
			g, gerr := e.Get(ctx, p.ID)
			require.NoError(t, gerr)
			assert.Equal(t, remediation.StatusPending, g.Status, "still pending")
		}
	}
	assert.Equal(t, []string{alice + ":INBOX"}, f.where("fe-1@evil.example"), "nothing purged")
	assert.Len(t, f.where("fe-2@evil.example"), 3)

	for _, p := range []*remediation.Record{hard, over} {
		r, err := e.Approve(ctx, p.ID, "lead@corp.example")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, r.Status, r.Error)
		assert.Equal(t, "lead@corp.example", r.DecidedBy)
	}

	// Within the limit and not a hard delete: the actor may approve it.
	small, err := e.Propose(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "analyst@corp.example", Confirm: true, Selection: byID("fe-3@evil.example")})
	require.NoError(t, err)
	r, err := e.Approve(ctx, small.ID, "analyst@corp.example")
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, r.Status)

	// Automation's own decisions are not proposals: it executes, and its
	// records need nobody's approval.
	f.deliver(msg("fe-4@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	r, err = e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Source: remediation.SourceAutomation,
		Actor: remediation.DecidedByAutomation, Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"fe-4@evil.example"}}}})
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusCompleted, r.Status)
	assert.Equal(t, remediation.DecidedByAutomation, r.DecidedBy)
}
