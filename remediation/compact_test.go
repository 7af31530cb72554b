package remediation_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/eradicate-dev/eradicate/mock"
	"github.com/eradicate-dev/eradicate/remediation"
	"github.com/eradicate-dev/eradicate/remediation/journal"
)

// recordsAndOutcomes returns every record of e with its outcomes.
func recordsAndOutcomes(t *testing.T, e *remediation.Engine) map[string]struct {
	R remediation.Record
	O []remediation.Outcome
} {
	t.Helper()
	out := map[string]struct {
		R remediation.Record
		O []remediation.Outcome
	}{}
	for r, err := range e.Query(context.Background(), remediation.Filter{}) {
		require.NoError(t, err)
		out[r.ID] = struct {
			R remediation.Record
			O []remediation.Outcome
		}{*r, outcomes(t, e, r.ID)}
	}
	return out
}

// TestCompact runs a month of actions, compacts with a two-week retention
// and checks what is kept, what is removed, and that the kept actions
// still answer, undo and resume, also after a restart on the compacted
// journal.
func TestCompact(t *testing.T) {
	for _, kind := range []string{"file", "memory"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			path := filepath.Join(dir, "journal")
			var j remediation.Journal
			open := func() {
				if kind == "memory" {
					if j == nil {
						j = journal.NewMemory()
					}
					return
				}
				fj, err := journal.OpenFile(path, nil)
				require.NoError(t, err)
				j = fj
			}
			open()
			f := newFixture(t, alice, bob, carol)
			clk := &clock{now: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
			// Proposals wait up to 90 days here, so an old one is still pending.
			opts := func() *remediation.Options {
				return &remediation.Options{Now: clk.Now, ApprovalTTL: 90 * 24 * time.Hour}
			}
			e := f.engine(j, opts())
			exec := func(req remediation.Request) *remediation.Record {
				t.Helper()
				rec, err := e.Execute(ctx, req)
				require.NoError(t, err)
				return rec
			}
			for _, id := range []string{"old-a@evil.example", "old-b@evil.example", "old-c@evil.example", "inc@evil.example", "new-d@evil.example"} {
				f.deliver(msg(id, "x@evil.example", "Invoice", alice, bob, carol), "", alice, bob, carol)
			}
			f.deliver(invite("new-inv@evil.example", "ceo@evil.example", "uid-new-inv", alice, bob), "", alice, bob)

			// October: actions that the retention removes.
			oldA := exec(remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("old-a@evil.example")})
			clk.now = clk.now.Add(time.Hour)
			oldB := exec(remediation.Request{Action: remediation.MoveToJunk, Actor: "soc", Selection: byID("old-b@evil.example")})
			clk.now = clk.now.Add(time.Hour)
			undoB, err := e.Undo(ctx, oldB.ID, "soc")
			require.NoError(t, err)
			// An old action whose undo is recent stays with it.
			oldC := exec(remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("old-c@evil.example")})
			// An old proposal still pending, and an old action left
			// incomplete by a failure: both stay, whatever their age.
			prop, err := e.Propose(ctx, remediation.Request{Action: remediation.HardDelete, Actor: "analyst", Selection: byID("old-a@evil.example")})
			require.NoError(t, err)
			f.tenant.InjectOp(mock.OpMove, mock.Fault{Mode: mock.FaultBefore})
			inc, err := e.Execute(ctx, remediation.Request{Action: remediation.MoveToDeleted, Actor: "soc", Selection: byID("inc@evil.example")})
			require.Error(t, err)
			f.tenant.ClearFaults()
			require.NotEqual(t, remediation.StatusCompleted, inc.Status)

			// November: recent actions.
			clk.now = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			undoC, err := e.Undo(ctx, oldC.ID, "soc")
			require.NoError(t, err)
			hard := exec(remediation.Request{Action: remediation.HardDelete, Actor: "soc", Selection: byID("new-inv@evil.example")})
			require.NotEmpty(t, hard.Calendar)
			newD := exec(remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("new-d@evil.example")})

			before := recordsAndOutcomes(t, e)
			require.Len(t, before, 9)
			clk.now = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
			st, err := e.Compact(ctx, clk.now.Add(-14*24*time.Hour))
			require.NoError(t, err)
			t.Logf("compacted: %+v", st)
			assert.Equal(t, 3, st.Removed, "the old soft delete, and the old move with its old undo")
			assert.Equal(t, 6, st.Kept)
			assert.Less(t, st.After, st.Before)

			after := recordsAndOutcomes(t, e)
			for _, id := range []string{oldA.ID, oldB.ID, undoB.ID} {
				assert.NotContains(t, after, id)
				_, err := e.Get(ctx, id)
				assert.ErrorIs(t, err, remediation.ErrNotFound)
			}
			for _, id := range []string{oldC.ID, undoC.ID, prop.ID, inc.ID, hard.ID, newD.ID} {
				require.Contains(t, after, id)
				assert.Equal(t, before[id], after[id], "record and outcomes of %s unchanged", id)
			}

			// A restart on the compacted journal sees the same.
			if kind == "file" {
				require.NoError(t, j.Close())
			}
			open()
			e = f.engine(j, opts())
			assert.Equal(t, after, recordsAndOutcomes(t, e))

			// The kept actions still undo and resume; new actions append.
			u, err := e.Undo(ctx, newD.ID, "soc")
			require.NoError(t, err)
			assert.Equal(t, int64(3), u.Counts.Succeeded)
			assert.Equal(t, []string{alice + ":" + mock.FolderInbox, bob + ":" + mock.FolderInbox, carol + ":" + mock.FolderInbox},
				f.where("new-d@evil.example"))
			recs, err := e.Resume(ctx)
			require.NoError(t, err)
			require.Len(t, recs, 1)
			assert.Equal(t, inc.ID, recs[0].ID)
			assert.Equal(t, remediation.StatusCompleted, recs[0].Status)
			approved, err := e.Approve(ctx, prop.ID, "lead")
			require.NoError(t, err)
			assert.Equal(t, remediation.StatusCompleted, approved.Status)
			assert.Empty(t, f.where("old-a@evil.example"))

			// Compacting again without a cutoff keeps every record.
			now := recordsAndOutcomes(t, e)
			st, err = e.Compact(ctx, time.Time{})
			require.NoError(t, err)
			assert.Zero(t, st.Removed)
			assert.Equal(t, now, recordsAndOutcomes(t, e))
			if kind == "file" {
				require.NoError(t, j.Close())
				open()
				defer j.Close()
				assert.Equal(t, now, recordsAndOutcomes(t, f.engine(j, opts())))
			}
		})
	}
}

// TestCompactCrashBeforeRename: a rewrite that stopped before replacing
// the journal leaves its new file behind; opening the journal removes it
// and keeps every entry.
func TestCompactCrashBeforeRename(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	j, err := journal.OpenFile(path, nil)
	require.NoError(t, err)
	f := newFixture(t, alice)
	f.deliver(msg("a@evil.example", "x@evil.example", "Invoice", alice), "", alice)
	e := f.engine(j, nil)
	_, err = e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("a@evil.example")})
	require.NoError(t, err)
	want := recordsAndOutcomes(t, e)
	require.NoError(t, j.Close())
	require.NoError(t, os.WriteFile(path+".compact", []byte("half a rewrite"), 0o600))

	j, err = journal.OpenFile(path, nil)
	require.NoError(t, err)
	defer j.Close()
	_, err = os.Stat(path + ".compact")
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Equal(t, want, recordsAndOutcomes(t, f.engine(j, nil)))
}

// TestCompactConcurrentActions compacts while actions run; nothing they
// journal is lost.
func TestCompactConcurrentActions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	j, err := journal.OpenFile(path, &journal.FileOptions{NoSync: true})
	require.NoError(t, err)
	users := []string{alice, bob, carol}
	f := newFixture(t, users...)
	var idsAll []string
	for i := range 40 {
		id := ids("conc", 40)[i]
		idsAll = append(idsAll, id)
		f.deliver(msg(id, "x@evil.example", "Invoice", users...), "", users...)
	}
	e := f.engine(j, &remediation.Options{Workers: 2})
	done := make(chan error, 1)
	go func() {
		for _, id := range idsAll {
			if _, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID(id)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 20 {
		_, err := e.Compact(ctx, time.Time{})
		require.NoError(t, err)
	}
	require.NoError(t, <-done)
	want := recordsAndOutcomes(t, e)
	require.Len(t, want, len(idsAll))
	for _, v := range want {
		assert.Equal(t, remediation.Counts{Succeeded: 3}, v.R.Counts)
		assert.Len(t, v.O, 3)
	}
	require.NoError(t, j.Close())
	j, err = journal.OpenFile(path, nil)
	require.NoError(t, err)
	defer j.Close()
	assert.Equal(t, want, recordsAndOutcomes(t, f.engine(j, nil)))
	for _, id := range idsAll {
		for _, u := range users {
			assert.Contains(t, f.where(id), u+":"+mock.FolderRecoverable)
		}
	}
}

// gateJournal runs a hook when a rewrite starts (the moment between
// Compact deciding what to drop and the journal rewriting itself).
type gateJournal struct {
	*journal.Memory
	onRewrite func()
}

func (g *gateJournal) Rewrite(ctx context.Context, keep func(*remediation.Entry) bool) (int64, int64, error) {
	if g.onRewrite != nil {
		g.onRewrite()
		g.onRewrite = nil
	}
	return g.Memory.Rewrite(ctx, keep)
}

// An undo asked for while Compact drops its action is refused: it never
// reports success without moving the copies back, and no undo is left
// pointing at a removed action.
func TestCompactThenConcurrentUndo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, alice, bob)
	f.deliver(msg("old@evil.example", "x@evil.example", "Invoice", alice, bob), "", alice, bob)
	clk := &clock{now: time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)}
	g := &gateJournal{Memory: journal.NewMemory()}
	e := f.engine(g, &remediation.Options{Now: clk.Now})
	orig, err := e.Execute(ctx, remediation.Request{Action: remediation.SoftDelete, Actor: "soc", Selection: byID("old@evil.example")})
	require.NoError(t, err)
	clk.now = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	var undoErr error
	g.onRewrite = func() { _, undoErr = e.Undo(ctx, orig.ID, "soc") }
	st, err := e.Compact(ctx, clk.now.Add(-14*24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Removed)
	require.ErrorIs(t, undoErr, remediation.ErrNotFound)
	recs := recordsAndOutcomes(t, e)
	assert.Empty(t, recs, "no undo recorded for a removed action")
	assert.Empty(t, recordsAndOutcomes(t, f.engine(g.Memory, nil)))
	assert.Equal(t, []string{alice + ":" + mock.FolderRecoverable, bob + ":" + mock.FolderRecoverable}, f.where("old@evil.example"))
}
