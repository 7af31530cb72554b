package remediation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// A second release to an original recipient says it was released
// already, not that the recipient is not an original one; a release to
// someone who never got the message still says that.
func TestSecondReleaseSaysAlreadyReleased(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, dave)
	f.deliver(msg("rel-1@supplier.example", "billing@supplier.example", "Invoice", alice, dave), mailbox.RoleQuarantine, alice, dave)
	e := f.engine(nil, nil)
	req := remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("rel-1@supplier.example"), Recipients: []string{dave}}
	r, err := e.Execute(ctx, req)
	require.NoError(t, err)
	require.Equal(t, int64(1), r.Counts.Succeeded)

	_, err = e.Execute(ctx, req)
	require.Error(t, err)
	assert.NotErrorIs(t, err, remediation.ErrNotRecipient, "dave is an original recipient")
	assert.Contains(t, err.Error(), "already released")
	assert.Contains(t, err.Error(), r.ID, "names the release that did it")

	_, err = e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("rel-1@supplier.example"), Recipients: []string{bob}})
	assert.ErrorIs(t, err, remediation.ErrNotRecipient)
	assert.Equal(t, []string{alice + ":" + mock.FolderQuarantine, dave + ":" + mock.FolderInbox}, f.where("rel-1@supplier.example"))
}

// The short ids an action table prints (the random tail of an id) and
// unique prefixes of ids are accepted by Get, Outcomes, Approve and Undo;
// an ambiguous one is refused.
func TestShortIDsAreAccepted(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(msg("sid-1@evil.example", "evil@bad.example", "x", alice), "", alice)
	f.deliver(msg("sid-2@evil.example", "evil@bad.example", "x", alice), "", alice)
	e := f.engine(nil, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: byID("sid-1@evil.example")})
	require.NoError(t, err)
	p, err := e.Propose(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: byID("sid-2@evil.example")})
	require.NoError(t, err)

	tail := r.ID[strings.LastIndexByte(r.ID, '-')+1:]
	for _, id := range []string{tail, tail[:6], r.ID[:len(r.ID)-2]} {
		g, err := e.Get(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, r.ID, g.ID)
	}
	assert.Len(t, outcomes(t, e, tail), 1)
	ptail := p.ID[strings.LastIndexByte(p.ID, '-')+1:]
	a, err := e.Approve(ctx, ptail, "lead")
	require.NoError(t, err)
	assert.Equal(t, p.ID, a.ID)
	u, err := e.Undo(ctx, tail, "soc")
	require.NoError(t, err)
	assert.Equal(t, r.ID, u.UndoOf)

	_, err = e.Get(ctx, r.ID[:4]) // the year: every id here
	require.Error(t, err, "ambiguous")
	_, err = e.Get(ctx, "zzzz")
	assert.ErrorIs(t, err, remediation.ErrNotFound)
}

// A batch whose backend call failed as a whole counts its copies as
// failed, and a resume that then succeeds replaces the failures.
func TestBatchFailureCountsCopiesFailed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("bf-1@evil.example", "evil@bad.example", "x", alice, bob, carol), "", alice, bob, carol)
	j := journal.NewMemory()
	e := f.engine(j, nil)
	f.tenant.FailOp(mock.OpMove, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("bf-1@evil.example")})
	require.Error(t, err)
	assert.Equal(t, remediation.StatusFailed, r.Status)
	assert.Equal(t, remediation.Counts{Failed: 3}, r.Counts)
	g, err := f.engine(j, nil).Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Failed: 3}, g.Counts, "so in the journal")

	f.tenant.ClearFaults()
	recs, err := f.engine(j, nil).Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status, recs[0].Error)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, recs[0].Counts)
}

// A hard delete of invites without a calendar store says, in its record,
// that the calendar was not checked, for each invite series.
func TestHardDeleteWithoutCalendarSaysNotChecked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(invite("nc-1@evil.example", "ceo@evil.example", "uid-nc", alice, bob), "", alice, bob)
	f.deliver(msg("nc-2@evil.example", "ceo@evil.example", "plain", alice), "", alice)
	e, err := remediation.New(f.tenant, nil, journal.NewMemory(), &remediation.Options{Logger: testLogger(t)})
	require.NoError(t, err)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{Senders: []string{"ceo@evil.example"}}}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), r.Counts.Succeeded)
	got := map[string]string{}
	for _, d := range r.Calendar {
		got[d.Owner+" "+d.UID] = d.Verdict
		assert.Contains(t, d.Detail, "not checked")
	}
	assert.Equal(t, map[string]string{alice + " uid-nc": "not_checked", bob + " uid-nc": "not_checked"}, got,
		"one per invite series, none for the plain message")
}
