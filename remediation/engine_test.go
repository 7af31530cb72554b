package remediation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mailbox"
	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

const (
	alice = "alice@corp.example"
	bob   = "bob@corp.example"
	carol = "carol@corp.example"
	dave  = "dave@corp.example"
)

func byID(id string) remediation.Selection {
	return remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{id}}}
}

func TestActions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		opts    *remediation.Options
		setup   func(f *fixture) remediation.Request
		wantErr error
		// want is the folder of each copy afterwards.
		want   []string
		counts remediation.Counts
		status remediation.Status
		check  func(t *testing.T, f *fixture, rec *remediation.Record, outs []remediation.Outcome)
	}{
		{
			name: "move to junk",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
				return remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Junk", bob + ":Junk"},
			counts: remediation.Counts{Succeeded: 2},
			status: remediation.StatusCompleted,
		},
		{
			name: "move to deleted items",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice), "", alice)
				return remediation.Request{Action: remediation.MoveToDeleted, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Deleted Items"},
			counts: remediation.Counts{Succeeded: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "soft delete, one copy already there",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", carol), mailbox.RoleRecoverable, carol)
				return remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Recoverable Items", bob + ":Recoverable Items", carol + ":Recoverable Items"},
			counts: remediation.Counts{Succeeded: 2, AlreadyInDestination: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "hard delete purges",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
				return remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   nil,
			counts: remediation.Counts{Succeeded: 2},
			status: remediation.StatusCompleted,
			check: func(t *testing.T, f *fixture, rec *remediation.Record, outs []remediation.Outcome) {
				for _, o := range outs {
					assert.True(t, o.To.IsZero(), "a purged copy has no new address")
				}
			},
		},
		{
			name: "hard delete keeps evidence when configured",
			opts: &remediation.Options{EvidenceOnHardDelete: true},
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice), "", alice)
				return remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Purge Evidence"},
			counts: remediation.Counts{Succeeded: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "hard delete skips the sender's copy and quarantine is purged",
			setup: func(f *fixture) remediation.Request {
				_, err := f.tenant.Deliver(context.Background(), msg("m1@x", alice, "Oops", bob), &mock.DeliverOptions{Recipients: []string{bob}, EnvelopeFrom: alice, SenderCopy: true})
				require.NoError(t, err)
				f.deliver(msg("m1@x", alice, "Oops", carol), mailbox.RoleQuarantine, carol)
				return remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Sent Items"},
			counts: remediation.Counts{Succeeded: 2, Skipped: 1},
			status: remediation.StatusCompleted,
			check: func(t *testing.T, f *fixture, rec *remediation.Record, outs []remediation.Outcome) {
				for _, o := range outs {
					if o.Kind == remediation.Skipped {
						assert.Contains(t, o.Detail, "delete_sender_copy")
					}
				}
			},
		},
		{
			name: "move to inbox from junk, deleted, recoverable and quarantine",
			setup: func(f *fixture) remediation.Request {
				raw := msg("m1@x", "news@shop.example", "Sale", alice, bob, carol, dave)
				f.deliver(raw, mailbox.RoleJunk, alice)
				f.deliver(raw, mailbox.RoleDeleted, bob)
				f.deliver(raw, mailbox.RoleRecoverable, carol)
				f.deliver(raw, mailbox.RoleQuarantine, dave)
				return remediation.Request{Action: remediation.MoveToInbox, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":INBOX", bob + ":INBOX", carol + ":INBOX", dave + ":INBOX"},
			counts: remediation.Counts{Succeeded: 4},
			status: remediation.StatusCompleted,
		},
		{
			name: "move to inbox: already there and an ordinary folder",
			setup: func(f *fixture) remediation.Request {
				raw := msg("m1@x", "news@shop.example", "Sale", alice, bob)
				f.deliver(raw, "", alice)
				require.NoError(t, f.tenant.CreateFolder(bob, "Projects"))
				a := f.deliver(raw, "", bob)
				_, err := f.tenant.Move(context.Background(), a, mailbox.InFolder("Projects"))
				require.NoError(t, err)
				return remediation.Request{Action: remediation.MoveToInbox, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":INBOX", bob + ":Projects"},
			counts: remediation.Counts{AlreadyInDestination: 1, Skipped: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "release to all recipients",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "partner@ok.example", "Contract", alice, bob), mailbox.RoleQuarantine, alice, bob)
				return remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":INBOX", bob + ":INBOX"},
			counts: remediation.Counts{Succeeded: 2},
			status: remediation.StatusCompleted,
		},
		{
			name: "release to a chosen recipient",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "partner@ok.example", "Contract", alice, bob, carol), mailbox.RoleQuarantine, alice, bob, carol)
				r := remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("m1@x"), Recipients: []string{"BOB@corp.example"}}
				return r
			},
			want:   []string{alice + ":Quarantine", bob + ":INBOX", carol + ":Quarantine"},
			counts: remediation.Counts{Succeeded: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "release to a non-recipient is refused before anything moves",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "partner@ok.example", "Contract", alice, bob), mailbox.RoleQuarantine, alice, bob)
				return remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("m1@x"), Recipients: []string{bob, dave}}
			},
			wantErr: remediation.ErrNotRecipient,
			want:    []string{alice + ":Quarantine", bob + ":Quarantine"},
		},
		{
			name: "release to an unknown mailbox is refused",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "partner@ok.example", "Contract", alice), mailbox.RoleQuarantine, alice)
				return remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("m1@x"), Recipients: []string{"mallory@elsewhere.example"}}
			},
			wantErr: remediation.ErrNotRecipient,
			want:    []string{alice + ":Quarantine"},
		},
		{
			name: "delete the sender's copy",
			setup: func(f *fixture) remediation.Request {
				_, err := f.tenant.Deliver(context.Background(), msg("m1@x", alice, "Wire transfer", bob, carol), &mock.DeliverOptions{EnvelopeFrom: alice, SenderCopy: true})
				require.NoError(t, err)
				return remediation.Request{Action: remediation.DeleteSenderCopy, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Recoverable Items", bob + ":INBOX", carol + ":INBOX"},
			counts: remediation.Counts{Succeeded: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "explicit copies, one moved since selection",
			setup: func(f *fixture) remediation.Request {
				a := f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
				_, err := f.tenant.Move(context.Background(), a[1:], mailbox.In(mailbox.RoleDeleted))
				require.NoError(t, err)
				return remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Copies: a}}
			},
			want:   []string{alice + ":Recoverable Items", bob + ":Deleted Items"},
			counts: remediation.Counts{Succeeded: 1, NotFound: 1},
			status: remediation.StatusCompleted,
			check: func(t *testing.T, f *fixture, rec *remediation.Record, outs []remediation.Outcome) {
				k := kinds(outs)
				assert.Equal(t, 1, k["not_found"])
				for _, o := range outs {
					if o.Kind == remediation.NotFound {
						assert.Equal(t, "moved or deleted since selection", o.Detail)
					} else {
						assert.Equal(t, "m1@x", o.MessageID, "outcome carries the message id")
					}
				}
			},
		},
		{
			name: "a quarantined copy is not soft-deleted",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice), "", alice)
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", bob), mailbox.RoleQuarantine, bob)
				return remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("m1@x")}
			},
			want:   []string{alice + ":Recoverable Items", bob + ":Quarantine"},
			counts: remediation.Counts{Succeeded: 1, Skipped: 1},
			status: remediation.StatusCompleted,
		},
		{
			name: "backend failure on some copies leaves the action incomplete",
			setup: func(f *fixture) remediation.Request {
				f.deliver(msg("m1@x", "evil@bad.example", "Invoice", alice), "", alice)
				f.deliver(msg("m2@x", "evil@bad.example", "Invoice", alice), "", alice)
				f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultPartial, K: 1})
				return remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}}
			},
			wantErr: mock.ErrInjected,
			counts:  remediation.Counts{Succeeded: 1, Failed: 1},
			status:  remediation.StatusPartial,
			check: func(t *testing.T, f *fixture, rec *remediation.Record, outs []remediation.Outcome) {
				assert.True(t, rec.Incomplete)
				assert.Contains(t, rec.Error, "injected")
				f.tenant.ClearFaults()
				e := f.engine(nil, nil)
				_ = e
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, alice, bob, carol, dave)
			req := tc.setup(f)
			e := f.engine(nil, tc.opts)
			rec, err := e.Execute(ctx, req)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			if req.Selection.Criteria != nil && len(req.Selection.Criteria.MessageIDs) == 1 {
				assert.Equal(t, tc.want, f.where(req.Selection.Criteria.MessageIDs[0]))
			}
			if rec == nil {
				require.Empty(t, tc.status, "no record expected only for refused requests")
				n := 0
				for range e.Query(ctx, remediation.Filter{}) {
					n++
				}
				assert.Zero(t, n, "a refused request records nothing")
				return
			}
			assert.Equal(t, tc.status, rec.Status)
			assert.Equal(t, tc.counts, rec.Counts)
			outs := outcomes(t, e, rec.ID)
			assert.Len(t, outs, int(rec.Counts.Total()))
			got, err := e.Get(ctx, rec.ID)
			require.NoError(t, err)
			assert.Equal(t, rec, got)
			if tc.check != nil {
				tc.check(t, f, rec, outs)
			}
		})
	}
}

func TestResumeRetriesFailedCopies(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	for _, id := range ids("c", 5) {
		f.deliver(msg(id, "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
	}
	j := journal.NewMemory()
	e := f.engine(j, nil)
	f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultPartial, K: 2})
	req := remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}}
	rec, err := e.Execute(ctx, req)
	require.Error(t, err)
	assert.True(t, rec.Incomplete)
	assert.Equal(t, remediation.StatusPartial, rec.Status)
	assert.Equal(t, int64(4), rec.Counts.Succeeded)
	assert.Equal(t, int64(6), rec.Counts.Failed)

	f.tenant.ClearFaults()
	e2 := f.engine(j, nil)
	got, err := e2.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, rec.Counts, got.Counts, "counts rebuilt from the journal")
	recs, err := e2.Resume(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status)
	assert.False(t, recs[0].Incomplete)
	assert.Equal(t, remediation.Counts{Succeeded: 10}, recs[0].Counts)
	for _, id := range ids("c", 5) {
		assert.Equal(t, []string{alice + ":Recoverable Items", bob + ":Recoverable Items"}, f.where(id))
	}
	retries := 0
	for _, o := range outcomes(t, e2, rec.ID) {
		if o.Retry {
			retries++
			assert.Equal(t, remediation.Succeeded, o.Kind)
		}
	}
	assert.Equal(t, 6, retries)
	e3 := f.engine(j, nil)
	got, err = e3.Get(ctx, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 10}, got.Counts)
}

func TestSelectionRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(msg("r-1@evil.example", "evil@bad.example", "Invoice", alice), "", alice)
	e := f.engine(nil, nil)
	tests := []struct {
		name string
		req  remediation.Request
		want error
	}{
		{"empty selection", remediation.Request{Action: remediation.SoftDelete, Actor: "soc"}, remediation.ErrEmptySelection},
		{"empty criteria", remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{}}}, mailbox.ErrEmptyCriteria},
		{"folder only", remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{Folders: []string{"INBOX"}}}}, mailbox.ErrMatchesEverything},
		{"time range only", remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{Since: time.Now().Add(-time.Hour)}}}, mailbox.ErrMatchesEverything},
		// A recipient matches every message of its own mailbox.
		{"recipient only", remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{Recipients: []string{alice}, Since: time.Now().Add(-time.Hour)}}}, mailbox.ErrMatchesEverything},
		{"recipient in every Or branch", remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{Or: []mailbox.Criteria{{Recipients: []string{alice}}, {Subject: "x"}}}}}, mailbox.ErrMatchesEverything},
		{"no actor", remediation.Request{Action: remediation.SoftDelete, Selection: byID("x@y")}, remediation.ErrInvalidRequest},
		{"unknown action", remediation.Request{Action: "nuke", Actor: "soc", Selection: byID("x@y")}, remediation.ErrInvalidRequest},
		{"undo is not requested directly", remediation.Request{Action: remediation.Undo, Actor: "soc", Selection: byID("x@y")}, remediation.ErrInvalidRequest},
		{"rule without a name", remediation.Request{Action: remediation.SoftDelete, Actor: "rules", Source: remediation.SourceDetectionRule, Selection: byID("x@y")}, remediation.ErrInvalidRequest},
	}
	before := f.where("r-1@evil.example")
	require.Equal(t, []string{alice + ":INBOX"}, before)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := e.Execute(ctx, tc.req)
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, rec)
			assert.Equal(t, before, f.where("r-1@evil.example"), "nothing moved")
			_, err = e.DryRun(ctx, tc.req.Selection)
			if tc.req.Action.Valid() && tc.req.Actor != "" && tc.req.Source == "" {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestBlastRadius(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	for _, id := range ids("b", 4) {
		f.deliver(msg(id, "evil@bad.example", "Invoice", alice, bob, carol), "", alice, bob, carol)
	}
	var seen []remediation.Progress
	e := f.engine(nil, &remediation.Options{BlastRadius: 10, BatchSize: 3, Workers: 2, Progress: func(p remediation.Progress) { seen = append(seen, p) }})
	sel := remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}
	_, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: sel})
	require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
	assert.Equal(t, []string{alice + ":INBOX", bob + ":INBOX", carol + ":INBOX"}, f.where("b-0@evil.example"), "nothing moved")
	_, err = e.Propose(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: sel})
	require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)

	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: sel, Confirm: true})
	require.NoError(t, err)
	assert.Equal(t, int64(12), rec.Counts.Succeeded)
	require.NotEmpty(t, seen)
	last := seen[len(seen)-1]
	assert.Equal(t, int64(12), last.Done)
	assert.Equal(t, int64(-1), last.Total, "not counted when confirmed")

	seen = nil
	e2 := f.engine(nil, &remediation.Options{BlastRadius: -1, Progress: func(p remediation.Progress) { seen = append(seen, p) }})
	rec, err = e2.Execute(ctx, remediation.Request{Action: remediation.MoveToInbox, Actor: "soc", Selection: sel})
	require.NoError(t, err, "a negative limit disables the check")
	assert.Equal(t, int64(12), rec.Counts.Succeeded)

	seen = nil
	e3 := f.engine(nil, &remediation.Options{Progress: func(p remediation.Progress) { seen = append(seen, p) }})
	_, err = e3.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: sel})
	require.NoError(t, err)
	require.NotEmpty(t, seen)
	assert.Equal(t, remediation.Progress{ID: seen[0].ID, Done: 12, Total: 12}, seen[len(seen)-1], "counted under the limit")
}

func TestDryRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("d1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
	f.deliver(msg("d2@x", "evil@bad.example", "Invoice", alice), mailbox.RoleJunk, alice)
	f.deliver(msg("ok@x", "friend@good.example", "Lunch", carol), "", carol)
	e := f.engine(nil, nil)
	p, err := e.DryRun(ctx, remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), p.Total)
	assert.Equal(t, 2, p.Mailboxes)
	assert.Equal(t, map[string]map[string]int64{alice: {"INBOX": 1, "Junk": 1}, bob: {"INBOX": 1}}, p.Folders)
	assert.Equal(t, []string{alice + ":INBOX", bob + ":INBOX"}, f.where("d1@x"), "a dry run acts on nothing")
	n := 0
	for range e.Query(ctx, remediation.Filter{}) {
		n++
	}
	assert.Zero(t, n, "a dry run is not an action")
}

func TestApprovals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("p1@x", "evil@bad.example", "Invoice", alice, bob), "", alice, bob)
	clk := &clock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	j := journal.NewMemory()
	e := f.engine(j, &remediation.Options{Now: clk.Now})
	req := remediation.Request{Action: remediation.SoftDelete, Name: "Invoice campaign", Actor: "analyst", Source: remediation.SourceHunting, Severity: remediation.SeverityHigh, Selection: byID("p1@x")}

	t.Run("approve", func(t *testing.T) {
		p, err := e.Propose(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusPending, p.Status)
		assert.Equal(t, clk.now.Add(7*24*time.Hour), p.Expires)
		assert.Equal(t, []string{alice + ":INBOX", bob + ":INBOX"}, f.where("p1@x"), "nothing moves before approval")
		_, err = e.Approve(ctx, p.ID, "")
		require.ErrorIs(t, err, remediation.ErrInvalidRequest)
		r, err := e.Approve(ctx, p.ID, "lead")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusCompleted, r.Status)
		assert.Equal(t, "lead", r.DecidedBy)
		assert.Equal(t, "analyst", r.Actor)
		assert.Equal(t, []string{alice + ":Recoverable Items", bob + ":Recoverable Items"}, f.where("p1@x"))
		_, err = e.Approve(ctx, p.ID, "lead")
		require.ErrorIs(t, err, remediation.ErrNotPending)
		_, err = e.Decline(ctx, p.ID, "lead", "late")
		require.ErrorIs(t, err, remediation.ErrNotPending)
	})
	t.Run("decline", func(t *testing.T) {
		p, err := e.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("p1@x")})
		require.NoError(t, err)
		r, err := e.Decline(ctx, p.ID, "lead", "false positive")
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusDeclined, r.Status)
		assert.Equal(t, "false positive", r.DeclineReason)
		assert.Equal(t, "lead", r.DecidedBy)
		_, err = e.Approve(ctx, p.ID, "lead")
		require.ErrorIs(t, err, remediation.ErrNotPending)
		assert.Len(t, f.where("p1@x"), 2, "a declined action moves nothing")
	})
	t.Run("expire", func(t *testing.T) {
		p, err := e.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("p1@x")})
		require.NoError(t, err)
		clk.now = clk.now.Add(7*24*time.Hour - time.Second)
		g, err := e.Get(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusPending, g.Status)
		clk.now = clk.now.Add(time.Second)
		g, err = e.Get(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusExpired, g.Status)
		_, err = e.Approve(ctx, p.ID, "lead")
		require.ErrorIs(t, err, remediation.ErrExpired)
		assert.Len(t, f.where("p1@x"), 2)
		// The expiry is journaled.
		e2 := f.engine(j, &remediation.Options{Now: clk.Now})
		g, err = e2.Get(ctx, p.ID)
		require.NoError(t, err)
		assert.Equal(t, remediation.StatusExpired, g.Status)
	})
	t.Run("automation decides for itself", func(t *testing.T) {
		f.deliver(msg("p2@x", "evil@bad.example", "Invoice", alice), "", alice)
		r, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "air", Source: remediation.SourceAutomation, Selection: byID("p2@x")})
		require.NoError(t, err)
		assert.Equal(t, remediation.DecidedByAutomation, r.DecidedBy)
	})
}

func TestUndo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	require.NoError(t, f.tenant.CreateFolder(alice, "Finance"))
	a := f.deliver(msg("u1@x", "evil@bad.example", "Invoice", alice, bob, carol), "", alice, bob, carol)
	_, err := f.tenant.Move(ctx, a[:1], mailbox.InFolder("Finance"))
	require.NoError(t, err)
	f.deliver(msg("u1@x", "evil@bad.example", "Invoice", carol), mailbox.RoleJunk, carol)
	e := f.engine(nil, nil)
	orig, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToDeleted, Actor: "soc", Selection: byID("u1@x")})
	require.NoError(t, err)
	assert.Equal(t, int64(4), orig.Counts.Succeeded)

	// Bob's user moves his copy on; it is reported, not forced back.
	var bobCopy mailbox.Address
	for o := range e.Outcomes(ctx, orig.ID) {
		if o.Copy.Mailbox == bob {
			bobCopy = o.To
		}
	}
	_, err = f.tenant.Move(ctx, []mailbox.Address{bobCopy}, mailbox.In(mailbox.RoleJunk))
	require.NoError(t, err)

	u, err := e.Undo(ctx, orig.ID, "soc-lead")
	require.NoError(t, err, "a copy not found is an outcome, not a failure")
	assert.Equal(t, remediation.Undo, u.Action)
	assert.Equal(t, orig.ID, u.UndoOf)
	assert.Equal(t, remediation.Counts{Succeeded: 3, NotFound: 1}, u.Counts)
	assert.Equal(t, remediation.StatusCompleted, u.Status)
	assert.Equal(t, []string{alice + ":Finance", bob + ":Junk", carol + ":INBOX", carol + ":Junk"}, f.where("u1@x"))
	for _, o := range outcomes(t, e, u.ID) {
		if o.Kind == remediation.NotFound {
			assert.Equal(t, bob, o.Copy.Mailbox)
			assert.Contains(t, o.Detail, "moved since")
		}
	}
	g, err := e.Get(ctx, orig.ID)
	require.NoError(t, err)
	assert.Equal(t, u.ID, g.UndoneBy, "linked both ways")

	_, err = e.Undo(ctx, u.ID, "soc")
	require.ErrorIs(t, err, remediation.ErrUndoUndo)
	_, err = e.Undo(ctx, orig.ID, "soc")
	require.ErrorIs(t, err, remediation.ErrAlreadyUndone)
	_, err = e.Undo(ctx, "nope", "soc")
	require.ErrorIs(t, err, remediation.ErrNotFound)

	hd, err := e.Execute(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("u1@x")})
	require.NoError(t, err)
	_, err = e.Undo(ctx, hd.ID, "soc")
	require.ErrorIs(t, err, remediation.ErrIrreversible)
	assert.Contains(t, err.Error(), "cannot be undone")

	p, err := e.Propose(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("u1@x")})
	require.NoError(t, err)
	_, err = e.Undo(ctx, p.ID, "soc")
	require.ErrorIs(t, err, remediation.ErrNotFinished)
}

func TestUndoRelease(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("r1@x", "partner@ok.example", "Contract", alice, bob), mailbox.RoleQuarantine, alice, bob)
	e := f.engine(nil, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: byID("r1@x"), Recipients: []string{alice}})
	require.NoError(t, err)
	assert.Equal(t, []string{alice + ":INBOX", bob + ":Quarantine"}, f.where("r1@x"))
	_, err = e.Undo(ctx, r.ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, []string{alice + ":Quarantine", bob + ":Quarantine"}, f.where("r1@x"))
}

func TestQuery(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice)
	f.deliver(msg("q1@x", "evil@bad.example", "Invoice", alice), "", alice)
	clk := &clock{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	e := f.engine(nil, &remediation.Options{Now: clk.Now})
	mk := func(a remediation.Action, actor string, src remediation.Source, propose bool) string {
		clk.now = clk.now.Add(time.Hour)
		req := remediation.Request{Action: a, Actor: actor, Source: src, Selection: byID("q1@x")}
		if src == remediation.SourceDetectionRule {
			req.RuleName = "invoice rule"
		}
		var r *remediation.Record
		var err error
		if propose {
			r, err = e.Propose(ctx, req)
		} else {
			r, err = e.Execute(ctx, req)
		}
		require.NoError(t, err)
		return r.ID
	}
	r1 := mk(remediation.MoveToJunk, "ann", remediation.SourceExplorer, false)
	r2 := mk(remediation.MoveToInbox, "ben", remediation.SourceAPI, false)
	r3 := mk(remediation.SoftDelete, "ann", remediation.SourceDetectionRule, true)
	r4 := mk(remediation.HardDelete, "cid", remediation.SourceHunting, true)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    remediation.Filter
		want []string
	}{
		{"all", remediation.Filter{}, []string{r1, r2, r3, r4}},
		{"actor", remediation.Filter{Actors: []string{"ann"}}, []string{r1, r3}},
		{"status", remediation.Filter{Statuses: []remediation.Status{remediation.StatusPending}}, []string{r3, r4}},
		{"source", remediation.Filter{Sources: []remediation.Source{remediation.SourceAPI, remediation.SourceHunting}}, []string{r2, r4}},
		{"type", remediation.Filter{Actions: []remediation.Action{remediation.HardDelete}}, []string{r4}},
		{"time range", remediation.Filter{Since: start.Add(2 * time.Hour), Before: start.Add(4 * time.Hour)}, []string{r2, r3}},
		{"combined", remediation.Filter{Actors: []string{"ann"}, Statuses: []remediation.Status{remediation.StatusCompleted}}, []string{r1}},
		{"none", remediation.Filter{Actors: []string{"zed"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for r, err := range e.Query(ctx, tc.f) {
				require.NoError(t, err)
				got = append(got, r.ID)
			}
			assert.Equal(t, tc.want, got)
		})
	}
	g, err := e.Get(ctx, r3)
	require.NoError(t, err)
	assert.Equal(t, "invoice rule", g.RuleName)
	assert.Equal(t, remediation.SourceDetectionRule, g.Source)
	_, err = e.Get(ctx, "missing")
	require.True(t, errors.Is(err, remediation.ErrNotFound))
}

func TestCancelThenResume(t *testing.T) {
	f := newFixture(t, alice, bob, carol, dave)
	for _, id := range ids("k", 6) {
		f.deliver(msg(id, "evil@bad.example", "Invoice", alice, bob, carol, dave), "", alice, bob, carol, dave)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j := journal.NewMemory()
	e := f.engine(j, &remediation.Options{BatchSize: 2, Workers: 1, Progress: func(p remediation.Progress) {
		if p.Done >= 4 {
			cancel()
		}
	}})
	req := remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: remediation.Selection{Criteria: &mailbox.Criteria{SenderDomains: []string{"bad.example"}}}}
	rec, err := e.Execute(ctx, req)
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rec)
	assert.True(t, rec.Incomplete)
	assert.Less(t, rec.Counts.Succeeded, int64(24))

	recs, err := f.engine(j, nil).Resume(context.Background())
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusCompleted, recs[0].Status)
	assert.Equal(t, remediation.Counts{Succeeded: 24}, recs[0].Counts)
	for _, id := range ids("k", 6) {
		assert.Equal(t, []string{alice + ":Junk", bob + ":Junk", carol + ":Junk", dave + ":Junk"}, f.where(id))
	}
}

func TestUnknownMailboxInScope(t *testing.T) {
	f := newFixture(t, alice)
	f.deliver(msg("s1@x", "evil@bad.example", "Invoice", alice), "", alice)
	e := f.engine(nil, nil)
	req := remediation.Request{Action: remediation.SoftDelete, Actor: "soc",
		Selection: remediation.Selection{Criteria: &mailbox.Criteria{MessageIDs: []string{"s1@x"}}, Mailboxes: []string{alice, "ghost@corp.example"}}}
	rec, err := e.Execute(context.Background(), req)
	require.ErrorIs(t, err, mailbox.ErrNoMailbox, "the counting pass refuses it")
	assert.Nil(t, rec)
	assert.Equal(t, []string{alice + ":INBOX"}, f.where("s1@x"))

	req.Confirm = true // no counting pass: the action runs and reports the mailbox
	rec, err = e.Execute(context.Background(), req)
	require.ErrorIs(t, err, mailbox.ErrNoMailbox)
	assert.Equal(t, remediation.StatusPartial, rec.Status)
	assert.False(t, rec.Incomplete, "an unknown mailbox is not retried")
	assert.Equal(t, []string{alice + ":Recoverable Items"}, f.where("s1@x"))
}

func TestConcurrentActions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol, dave)
	for _, id := range ids("cc", 8) {
		f.deliver(msg(id, "evil@bad.example", "Invoice", alice, bob, carol, dave), "", alice, bob, carol, dave)
	}
	e := f.engine(journal.NewMemory(), &remediation.Options{BatchSize: 2, Workers: 3})
	done := make(chan *remediation.Record)
	for _, id := range ids("cc", 8) {
		go func() {
			rec, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToDeleted, Actor: "soc", Selection: byID(id)})
			assert.NoError(t, err)
			done <- rec
		}()
	}
	go func() {
		for range 20 {
			for r, err := range e.Query(ctx, remediation.Filter{}) {
				assert.NoError(t, err)
				_ = r.Counts.Total()
			}
		}
	}()
	for range 8 {
		rec := <-done
		require.NotNil(t, rec)
		assert.Equal(t, remediation.Counts{Succeeded: 4}, rec.Counts)
	}
	for _, id := range ids("cc", 8) {
		assert.Equal(t, []string{alice + ":Deleted Items", bob + ":Deleted Items", carol + ":Deleted Items", dave + ":Deleted Items"}, f.where(id))
	}
}

// Records never share their selection with the caller: changing a copy
// (the request, a proposal, what Get returns) never changes what an
// approval executes.
func TestProposalSelectionIsNotShared(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("p1@x.example", "evil@bad.example", "Invoice", alice), "", alice)
	f.deliver(msg("ceo@x.example", "ceo@corp.example", "Board pack", bob), "", bob)
	e := f.engine(nil, nil)
	req := remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("p1@x.example")}
	p, err := e.Propose(ctx, req)
	require.NoError(t, err)
	req.Selection.Criteria.MessageIDs[0] = "ceo@x.example"
	p.Selection.Criteria.MessageIDs[0] = "ceo@x.example"
	g, err := e.Get(ctx, p.ID)
	require.NoError(t, err)
	g.Selection.Criteria.MessageIDs[0] = "ceo@x.example"
	r, err := e.Approve(ctx, p.ID, "lead")
	require.NoError(t, err)
	assert.Equal(t, []string{"p1@x.example"}, r.Selection.Criteria.MessageIDs)
	assert.Len(t, f.where("ceo@x.example"), 1, "never selected")
	assert.Empty(t, f.where("p1@x.example"))
}

// Repeated release recipients are one recipient.
func TestReleaseRepeatedRecipients(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("q1@x.example", "evil@bad.example", "Invoice", alice, bob), mailbox.RoleQuarantine, alice, bob)
	e := f.engine(nil, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "admin", Selection: byID("q1@x.example"),
		Recipients: []string{bob, " BOB@corp.example "}})
	require.NoError(t, err)
	assert.Equal(t, []string{bob}, r.Recipients)
	assert.Equal(t, remediation.Counts{Succeeded: 1}, r.Counts)
}

// Explicit copies without a Message-ID keep their guards: a quarantined
// copy is not soft-deleted out of quarantine, a Sent copy is not moved to
// Junk; an ordinary one is acted on.
func TestCopiesWithoutMessageIDKeepGuards(t *testing.T) {
	ctx := context.Background()
	strip := func(raw []byte) []byte { return raw[strings.Index(string(raw), "\r\n")+2:] }
	f := newFixture(t, alice, bob)
	q := f.deliver(strip(msg("x@evil.example", "bad@evil.example", "hi", alice)), mailbox.RoleQuarantine, alice)
	e := f.engine(nil, nil)
	rec, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: remediation.Selection{Copies: q}})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Skipped: 1}, rec.Counts)
	copies, err := f.tenant.Copies(alice)
	require.NoError(t, err)
	require.Len(t, copies, 1)
	assert.Equal(t, mock.FolderQuarantine, copies[0].Address.Folder)

	addrs, err := f.tenant.Deliver(ctx, strip(msg("y@corp.example", bob, "hi", alice)), &mock.DeliverOptions{Recipients: []string{alice}, SenderCopy: true})
	require.NoError(t, err)
	rec, err = e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: remediation.Selection{Copies: addrs}})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 1, Skipped: 1}, rec.Counts, "the inbox copy moves, the Sent copy stays")
	bc, err := f.tenant.Copies(bob)
	require.NoError(t, err)
	for _, c := range bc {
		assert.NotEqual(t, mock.FolderJunk, c.Address.Folder)
	}
}

// An approval interrupted after it was journaled but before its checks is
// checked again by Resume: a selection grown past the blast radius is
// not run without confirmation.
func TestResumeChecksApprovedBlastRadius(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol, dave)
	f.deliver(msg("p1@x.example", "evil@bad.example", "Invoice", alice), "", alice)
	mem := journal.NewMemory()
	e := f.engine(&failingJournal{Memory: mem, fail: func(e remediation.Entry) bool {
		return e.Kind == remediation.EntryRecord && e.Record.Status == remediation.StatusFailed
	}}, &remediation.Options{BlastRadius: 2})
	p, err := e.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("p1@x.example")})
	require.NoError(t, err)
	f.deliver(msg("p1@x.example", "evil@bad.example", "Invoice", bob, carol, dave), "", bob, carol, dave)
	_, err = e.Approve(ctx, p.ID, "lead")
	require.Error(t, err)

	e2 := f.engine(mem, &remediation.Options{BlastRadius: 2})
	recs, err := e2.Resume(ctx)
	require.ErrorIs(t, err, remediation.ErrNeedsConfirmation)
	require.Len(t, recs, 1)
	assert.Equal(t, remediation.StatusFailed, recs[0].Status)
	assert.Len(t, f.where("p1@x.example"), 4, "nothing purged")
	g, err := e2.Get(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, remediation.StatusFailed, g.Status)
}

// An undo reverses everything its action did, also past the blast radius
// the action was confirmed above.
func TestUndoOfConfirmedActionAboveBlastRadius(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob, carol)
	f.deliver(msg("b1@x.example", "evil@bad.example", "x", alice, bob, carol), "", alice, bob, carol)
	e := f.engine(nil, &remediation.Options{BlastRadius: 2, BatchSize: 1, Workers: 1})
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("b1@x.example"), Confirm: true})
	require.NoError(t, err)
	require.Equal(t, int64(3), r.Counts.Succeeded)
	u, err := e.Undo(ctx, r.ID, "soc")
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 3}, u.Counts)
	assert.Equal(t, []string{alice + ":" + mock.FolderInbox, bob + ":" + mock.FolderInbox, carol + ":" + mock.FolderInbox}, f.where("b1@x.example"))
}

// Resume credits the copy the interrupted move made, not an older copy of
// the same message that was at the destination already; the undo then
// moves back the right one.
func TestResumeCreditsTheMovedCopy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, bob)
	f.deliver(msg("d1@x.example", "evil@bad.example", "already-junk", bob), mailbox.RoleJunk, bob)
	b := f.deliver(msg("d1@x.example", "evil@bad.example", "phish-in-inbox", bob), "", bob)
	e := f.engine(nil, nil)
	f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultAfter})
	r, _ := e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: remediation.Selection{Copies: b}})
	require.True(t, r.Incomplete)
	f.tenant.ClearFaults()
	_, err := e.Resume(ctx)
	require.NoError(t, err)
	_, err = e.Undo(ctx, r.ID, "soc")
	require.NoError(t, err)
	copies, err := f.tenant.Copies(bob)
	require.NoError(t, err)
	where := map[string]string{}
	for _, c := range copies {
		where[c.Subject] = c.Address.Folder
	}
	assert.Equal(t, map[string]string{"already-junk": mock.FolderJunk, "phish-in-inbox": mock.FolderInbox}, where)
}

// DeleteSenderCopy skips a recipient's copy wherever it is, and a release
// skips a copy that was never in quarantine; a copy listed twice is one.
func TestGuardsBeforeAlreadyInDestination(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	a := f.deliver(msg("s1@x.example", alice, "hi", bob), mailbox.RoleRecoverable, bob)
	e := f.engine(nil, nil)
	r, err := e.Execute(ctx, remediation.Request{Action: remediation.DeleteSenderCopy, Actor: "soc", Selection: remediation.Selection{Copies: a}})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Skipped: 1}, r.Counts)
	in := f.deliver(msg("r1@x.example", "x@partner.example", "hi", bob), "", bob)
	r, err = e.Execute(ctx, remediation.Request{Action: remediation.Release, Actor: "soc", Selection: remediation.Selection{Copies: in}})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Skipped: 1}, r.Counts)
	r, err = e.Execute(ctx, remediation.Request{Action: remediation.MoveToJunk, Actor: "soc",
		Selection: remediation.Selection{Copies: []mailbox.Address{in[0], in[0]}}})
	require.NoError(t, err)
	assert.Equal(t, remediation.Counts{Succeeded: 1}, r.Counts)
}

// Records written under looser selection rules (an earlier version, or
// another Journal) are checked again before they run: a pending action
// whose criteria select a recipient's whole mailbox fails on approval,
// and a queued one on resume; nothing moves.
func TestOldRecordsAreCheckedAgain(t *testing.T) {
	ctx := context.Background()
	for _, status := range []remediation.Status{remediation.StatusPending, remediation.StatusQueued} {
		t.Run(string(status), func(t *testing.T) {
			f := newFixture(t, alice)
			f.deliver(msg("own-1@corp.example", "colleague@corp.example", "Lunch", alice), "", alice)
			j := journal.NewMemory()
			now := time.Now()
			require.NoError(t, j.Append(ctx, remediation.Entry{Kind: remediation.EntryRecord, Record: &remediation.Record{
				ID: "old-1", Name: "everything alice got", Source: remediation.SourceManual, Action: remediation.MoveToJunk,
				Actor: "analyst", Status: status, Created: now, Expires: now.Add(time.Hour), Confirm: true,
				Selection: remediation.Selection{Criteria: &mailbox.Criteria{Recipients: []string{alice}}},
			}}))
			e := f.engine(j, nil)
			var err error
			if status == remediation.StatusPending {
				_, err = e.Approve(ctx, "old-1", "lead")
			} else {
				_, err = e.Resume(ctx)
			}
			require.ErrorIs(t, err, mailbox.ErrMatchesEverything)
			g, gerr := e.Get(ctx, "old-1")
			require.NoError(t, gerr)
			assert.Equal(t, remediation.StatusFailed, g.Status)
			assert.Equal(t, []string{alice + ":" + mock.FolderInbox}, f.where("own-1@corp.example"), "nothing moved")
		})
	}
}
